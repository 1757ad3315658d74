//! ClickHouse's own compressed frames, as sent with `compress=1` and accepted with `decompress=1`.
//!
//! A frame is `checksum: 16 bytes` (CityHash128 v1.0.2 of everything after it, as two LE u64 halves),
//! `method: u8` (0x82 LZ4, 0x90 ZSTD, 0x02 none), `compressed_size: u32 LE` (including this 9-byte
//! header), `decompressed_size: u32 LE`, then the payload. The reader accepts frames split across chunks
//! anywhere, verifies every checksum (a corrupt frame is an error, never garbage), bounds both sizes, and
//! buffers a frame only as its bytes arrive.

use super::BodyDecoder;
use crate::error::{Error, Result};

/// Compression method byte of a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// LZ4 block (method 0x82).
    Lz4,
    /// Zstandard (method 0x90).
    Zstd,
    /// Stored without compression (method 0x02).
    None,
}

impl Method {
    fn byte(self) -> u8 {
        match self {
            Method::Lz4 => 0x82,
            Method::Zstd => 0x90,
            Method::None => 0x02,
        }
    }
}

const CHECKSUM: usize = 16;
const HEADER: usize = 9;
/// Largest frame accepted, compressed or not. ClickHouse writes frames of about `max_compress_block_size`
/// (1 MiB by default); anything near this bound is hostile or corrupt.
pub const MAX_FRAME: usize = 128 << 20;
/// Size of the blocks the writer compresses separately (ClickHouse's default `max_compress_block_size`).
const WRITE_BLOCK: usize = 1 << 20;

fn checksum(data: &[u8]) -> [u8; 16] {
    let h = cityhash_rs::cityhash_102_128(data);
    let mut out = [0u8; 16];
    // ClickHouse writes CityHash128's two halves as (first, second); cityhash-rs packs `first` into the
    // high 64 bits of its u128 (checked against 26.9's frames).
    out[..8].copy_from_slice(&((h >> 64) as u64).to_le_bytes());
    out[8..].copy_from_slice(&(h as u64).to_le_bytes());
    out
}

/// Decompresses a stream of frames fed in arbitrary chunks.
#[derive(Default)]
pub struct FrameReader {
    pending: Vec<u8>,
    out: Vec<u8>,
    offset: u64,
}

impl BodyDecoder for FrameReader {
    /// Consumes `data`, handing each decompressed frame to `sink`.
    fn feed(&mut self, mut data: &[u8], sink: &mut dyn FnMut(&[u8]) -> Result<()>) -> Result<()> {
        while !data.is_empty() {
            if self.pending.len() < CHECKSUM + HEADER {
                let take = (CHECKSUM + HEADER - self.pending.len()).min(data.len());
                self.pending.extend_from_slice(&data[..take]);
                data = &data[take..];
                if self.pending.len() < CHECKSUM + HEADER {
                    return Ok(());
                }
            }
            let (compressed, _) = self.sizes()?;
            let total = CHECKSUM + compressed;
            let take = (total - self.pending.len()).min(data.len());
            self.pending.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.pending.len() == total {
                self.finish_frame(sink)?;
            }
        }
        Ok(())
    }

    /// Checks the stream did not end inside a frame.
    fn finish(&self) -> Result<()> {
        if self.pending.is_empty() {
            Ok(())
        } else {
            Err(Error::decode(
                self.offset,
                format!("compressed stream ends inside a frame ({} bytes of it)", self.pending.len()),
            ))
        }
    }
}

impl FrameReader {
    /// A reader at the start of a stream.
    pub fn new() -> Self {
        Self::default()
    }

    fn sizes(&self) -> Result<(usize, usize)> {
        let h = &self.pending[CHECKSUM..CHECKSUM + HEADER];
        let compressed = u32::from_le_bytes([h[1], h[2], h[3], h[4]]) as usize;
        let decompressed = u32::from_le_bytes([h[5], h[6], h[7], h[8]]) as usize;
        if !(HEADER..=MAX_FRAME).contains(&compressed) || decompressed > MAX_FRAME {
            return Err(Error::decode(
                self.offset,
                format!("compressed frame claims {compressed} bytes compressed, {decompressed} decompressed"),
            ));
        }
        Ok((compressed, decompressed))
    }

    fn finish_frame(&mut self, sink: &mut dyn FnMut(&[u8]) -> Result<()>) -> Result<()> {
        let (compressed, decompressed) = self.sizes()?;
        let body = &self.pending[CHECKSUM..];
        if checksum(body) != self.pending[..CHECKSUM] {
            return Err(Error::decode(self.offset, "compressed frame checksum mismatch (corrupt data)"));
        }
        let payload = &body[HEADER..];
        let method = body[0];
        self.out.clear();
        let produced = match method {
            0x82 => {
                // LZ4 expands at most 255:1; a claim beyond that is corrupt.
                if decompressed > payload.len().saturating_mul(255) + 16 {
                    return Err(Error::decode(self.offset, "LZ4 frame claims an impossible ratio"));
                }
                self.out.resize(decompressed, 0);
                lz4_flex::block::decompress_into(payload, &mut self.out)
                    .map_err(|e| Error::decode(self.offset, format!("LZ4 frame: {e}")))?
            }
            0x90 => {
                self.out.reserve(decompressed);
                zstd::bulk::Decompressor::new()
                    .and_then(|mut d| d.decompress_to_buffer(payload, &mut self.out))
                    .map_err(|e| Error::decode(self.offset, format!("ZSTD frame: {e}")))?
            }
            0x02 => {
                self.out.extend_from_slice(payload);
                payload.len()
            }
            m => return Err(Error::decode(self.offset, format!("unknown compression method 0x{m:02x}"))),
        };
        if produced != decompressed {
            return Err(Error::decode(
                self.offset,
                format!("frame decompressed to {produced} bytes, header said {decompressed}"),
            ));
        }
        self.offset += (CHECKSUM + compressed) as u64;
        self.pending.clear();
        sink(&self.out)
    }
}

/// Appends `data` as compressed frames (blocks of up to 1 MiB).
pub fn write_frames(out: &mut Vec<u8>, data: &[u8], method: Method) -> Result<()> {
    for block in data.chunks(WRITE_BLOCK) {
        let start = out.len();
        out.extend_from_slice(&[0; CHECKSUM + HEADER]);
        match method {
            Method::Lz4 => {
                let max = lz4_flex::block::get_maximum_output_size(block.len());
                out.resize(start + CHECKSUM + HEADER + max, 0);
                let n = lz4_flex::block::compress_into(block, &mut out[start + CHECKSUM + HEADER..])
                    .map_err(|e| Error::usage(format!("LZ4: {e}")))?;
                out.truncate(start + CHECKSUM + HEADER + n);
            }
            Method::Zstd => {
                let c = zstd::bulk::compress(block, 1).map_err(|e| Error::usage(format!("ZSTD: {e}")))?;
                out.extend_from_slice(&c);
            }
            Method::None => out.extend_from_slice(block),
        }
        let compressed = (out.len() - start - CHECKSUM) as u32;
        let h = &mut out[start + CHECKSUM..start + CHECKSUM + HEADER];
        h[0] = method.byte();
        h[1..5].copy_from_slice(&compressed.to_le_bytes());
        h[5..9].copy_from_slice(&(block.len() as u32).to_le_bytes());
        let sum = checksum(&out[start + CHECKSUM..]);
        out[start..start + CHECKSUM].copy_from_slice(&sum);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(data: &[u8], chunk: usize) -> Result<Vec<u8>> {
        FrameReader::new().decode_all(data.chunks(chunk.max(1)))
    }

    #[test]
    fn round_trips_every_method_in_any_chunking() {
        let data: Vec<u8> = (0..3_000_000u32).flat_map(|i| (i % 1000).to_le_bytes()).collect();
        for m in [Method::Lz4, Method::Zstd, Method::None] {
            let mut framed = Vec::new();
            write_frames(&mut framed, &data, m).unwrap();
            for chunk in [1 << 20, 7919, 25] {
                assert_eq!(read_all(&framed, chunk).unwrap(), data, "{m:?} {chunk}");
            }
        }
    }

    #[test]
    fn corruption_and_truncation_are_errors() {
        let mut framed = Vec::new();
        write_frames(&mut framed, b"hello hello hello hello", Method::Lz4).unwrap();
        for i in 0..framed.len() {
            let mut bad = framed.clone();
            bad[i] ^= 0x20;
            assert!(read_all(&bad, 5).is_err(), "flip at {i}");
            if i > 0 {
                assert!(read_all(&framed[..i], 5).is_err(), "cut at {i}");
            }
        }
        // A 4 GB claim in a tiny input fails at the header.
        let mut huge = vec![0u8; 25];
        huge[16] = 0x82;
        huge[17..21].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(read_all(&huge, 25).is_err());
    }
}
