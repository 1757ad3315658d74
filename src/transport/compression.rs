//! Compression in both directions, in one place: the client's choice ([`Compression`]: ClickHouse's
//! frames or an HTTP [`ContentEncoding`]), how a request body is encoded under it ([`BodyEncoder`],
//! block by block for streaming inserts or whole), and ClickHouse's own compressed frames, as sent with
//! `compress=1` and accepted with `decompress=1` ([`FrameReader`], [`write_frames`]). Responses in an
//! HTTP encoding are decoded by libcurl, except `lz4` (see `lz4frame`).
//!
//! A frame is `checksum: 16 bytes` (CityHash128 v1.0.2 of everything after it, as two LE u64 halves),
//! `method: u8` (0x82 LZ4, 0x90 ZSTD, 0x02 none), `compressed_size: u32 LE` (including this 9-byte
//! header), `decompressed_size: u32 LE`, then the payload. The reader accepts frames split across chunks
//! anywhere, verifies every checksum (a corrupt frame is an error, never garbage), bounds both sizes, and
//! buffers a frame only as its bytes arrive.

use super::{BodyDecoder, BodyDecoding};
use crate::error::{Error, Result};
use std::borrow::Cow;
use std::fmt;

/// How request and response bodies are compressed.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Compression {
    /// No compression (the default: on loopback and fast networks compression costs more than it
    /// saves; choose one of the others across slower links).
    #[default]
    None,
    /// ClickHouse's own LZ4 frames (`compress=1`, `decompress=1`), checksummed.
    Lz4,
    /// ClickHouse's own ZSTD frames.
    Zstd,
    /// HTTP Content-Encoding for responses (`gzip`, `deflate`, `br` or `zstd`, decoded by libcurl;
    /// `lz4`, decoded by this crate); insert bodies are sent with it when it is `gzip`, `deflate`,
    /// `zstd` or `lz4`.
    Http(ContentEncoding),
}

impl Compression {
    /// Parses `lz4`, `zstd` (ClickHouse frames), `gzip`, `deflate`, `br`, `http-zstd`, `http-lz4`
    /// (HTTP), `none`;
    /// `true` means `gzip`, as in the Python driver's `compress=True`.
    pub fn parse(s: &str) -> Result<Compression> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "" | "none" | "false" | "0" => Compression::None,
            "lz4" => Compression::Lz4,
            "zstd" => Compression::Zstd,
            "true" | "1" | "gzip" => Compression::Http(ContentEncoding::Gzip),
            "deflate" => Compression::Http(ContentEncoding::Deflate),
            "br" => Compression::Http(ContentEncoding::Br),
            "http-zstd" | "zstd-http" => Compression::Http(ContentEncoding::Zstd),
            "http-lz4" | "lz4-http" => Compression::Http(ContentEncoding::Lz4),
            other => {
                return Err(Error::usage(format!(
                    "unknown compression {other:?} (none, lz4, zstd, gzip, deflate, br, http-zstd, http-lz4)"
                )));
            }
        })
    }
}

/// An HTTP `Content-Encoding` the client can ask responses in and (all but `br`) send request bodies in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ContentEncoding {
    /// `gzip`.
    Gzip,
    /// `deflate` (zlib).
    Deflate,
    /// `br` (responses only).
    Br,
    /// `zstd`.
    Zstd,
    /// `lz4` (the LZ4 frame format).
    Lz4,
}

impl ContentEncoding {
    /// The name in HTTP headers.
    pub fn name(self) -> &'static str {
        match self {
            ContentEncoding::Gzip => "gzip",
            ContentEncoding::Deflate => "deflate",
            ContentEncoding::Br => "br",
            ContentEncoding::Zstd => "zstd",
            ContentEncoding::Lz4 => "lz4",
        }
    }

    /// Whether libcurl decodes responses in it (`lz4` it does not: this crate does).
    pub(crate) fn decoded_by_libcurl(self) -> bool {
        self != ContentEncoding::Lz4
    }
}

impl fmt::Display for ContentEncoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Compression {
    /// The encoder for a request body under this compression (`br` bodies are sent as they are).
    pub(crate) fn request_encoder(&self) -> BodyEncoder {
        match self {
            Compression::None | Compression::Http(ContentEncoding::Br) => BodyEncoder::None,
            Compression::Lz4 => BodyEncoder::Frames(Method::Lz4),
            Compression::Zstd => BodyEncoder::Frames(Method::Zstd),
            Compression::Http(ContentEncoding::Gzip) => BodyEncoder::Gzip(None),
            Compression::Http(ContentEncoding::Deflate) => BodyEncoder::Deflate(None),
            Compression::Http(ContentEncoding::Zstd) => BodyEncoder::Zstd,
            Compression::Http(ContentEncoding::Lz4) => BodyEncoder::Lz4,
        }
    }

    /// How the response body is decoded, given whether the server was asked for frames (`compress=1`).
    pub(crate) fn response_decoding(&self, frames: bool) -> BodyDecoding {
        match self {
            _ if frames => BodyDecoding::ClickHouseFrames,
            Compression::Http(e) if !e.decoded_by_libcurl() => BodyDecoding::Lz4Frame,
            _ => BodyDecoding::Plain,
        }
    }
}

/// How a request body is encoded, with the state a streaming encoder keeps between blocks.
pub(crate) enum BodyEncoder {
    None,
    /// ClickHouse frames (`decompress=1`), one or more per block.
    Frames(Method),
    /// HTTP `Content-Encoding: gzip` / `deflate`: one deflate stream per request, sync-flushed after
    /// every block so each block leaves as soon as it is encoded.
    Gzip(Option<flate2::write::GzEncoder<Vec<u8>>>),
    Deflate(Option<flate2::write::ZlibEncoder<Vec<u8>>>),
    /// HTTP `Content-Encoding: zstd`: one zstd frame per block (a stream of frames is valid zstd).
    Zstd,
    /// HTTP `Content-Encoding: lz4`: one LZ4 frame per block (frames may follow one another).
    Lz4,
}

impl BodyEncoder {
    /// The `Content-Encoding` the body is sent with, if any.
    pub(crate) fn content_encoding(&self) -> Option<ContentEncoding> {
        match self {
            BodyEncoder::Gzip(_) => Some(ContentEncoding::Gzip),
            BodyEncoder::Deflate(_) => Some(ContentEncoding::Deflate),
            BodyEncoder::Zstd => Some(ContentEncoding::Zstd),
            BodyEncoder::Lz4 => Some(ContentEncoding::Lz4),
            BodyEncoder::None | BodyEncoder::Frames(_) => None,
        }
    }

    /// Whether the body is ClickHouse frames (the request then says `decompress=1`).
    pub(crate) fn is_frames(&self) -> bool {
        matches!(self, BodyEncoder::Frames(_))
    }

    fn name(&self) -> &'static str {
        match self {
            BodyEncoder::Frames(Method::Zstd) => "ZSTD",
            BodyEncoder::Frames(_) => "LZ4",
            other => other.content_encoding().map_or("none", ContentEncoding::name),
        }
    }

    /// Encodes the Native block in `raw` for a streamed body, using `spare` (an empty buffer that already
    /// went round once, when there is one) for the result. Uncompressed, the block itself is the body
    /// and `spare` takes its place in `raw`.
    pub(crate) fn block(&mut self, raw: &mut Vec<u8>, mut spare: Vec<u8>) -> Result<Vec<u8>> {
        use std::io::Write;
        let method = self.name();
        let io = move |e: std::io::Error| Error::compression(method, e);
        let block = &raw[..];
        spare.clear();
        Ok(match self {
            BodyEncoder::None => std::mem::replace(raw, spare),
            BodyEncoder::Frames(m) => {
                write_frames(&mut spare, block, *m)?;
                spare
            }
            BodyEncoder::Zstd | BodyEncoder::Lz4 => self.whole(block)?.into_owned(),
            BodyEncoder::Gzip(e) => {
                let e = e.get_or_insert_with(|| flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast()));
                e.write_all(block).map_err(io)?;
                e.flush().map_err(io)?;
                std::mem::take(e.get_mut())
            }
            BodyEncoder::Deflate(e) => {
                let e =
                    e.get_or_insert_with(|| flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast()));
                e.write_all(block).map_err(io)?;
                e.flush().map_err(io)?;
                std::mem::take(e.get_mut())
            }
        })
    }

    /// The bytes that end a streamed body (gzip/deflate trailers), resetting the state.
    pub(crate) fn finish(&mut self) -> Result<Vec<u8>> {
        let method = self.name();
        let io = move |e: std::io::Error| Error::compression(method, e);
        Ok(match self {
            BodyEncoder::Gzip(e) => e.take().map(|e| e.finish()).transpose().map_err(io)?.unwrap_or_default(),
            BodyEncoder::Deflate(e) => e.take().map(|e| e.finish()).transpose().map_err(io)?.unwrap_or_default(),
            _ => Vec::new(),
        })
    }

    /// Encodes a whole body at once.
    pub(crate) fn whole<'d>(&self, data: &'d [u8]) -> Result<Cow<'d, [u8]>> {
        use std::io::Write;
        let method = self.name();
        let io = move |e: std::io::Error| Error::compression(method, e);
        Ok(Cow::Owned(match self {
            BodyEncoder::None => return Ok(Cow::Borrowed(data)),
            BodyEncoder::Frames(m) => {
                let mut out = Vec::with_capacity(data.len() / 2 + 64);
                write_frames(&mut out, data, *m)?;
                out
            }
            BodyEncoder::Gzip(_) => {
                let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                e.write_all(data).map_err(io)?;
                e.finish().map_err(io)?
            }
            BodyEncoder::Deflate(_) => {
                let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
                e.write_all(data).map_err(io)?;
                e.finish().map_err(io)?
            }
            BodyEncoder::Lz4 => {
                let mut e = lz4_flex::frame::FrameEncoder::new(Vec::new());
                e.write_all(data).map_err(io)?;
                e.finish().map_err(|e| Error::compression(method, e))?
            }
            BodyEncoder::Zstd => zstd::bulk::compress(data, 1).map_err(io)?,
        }))
    }
}

/// Compression method byte of a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// LZ4 block (method 0x82).
    Lz4,
    /// Zstandard (method 0x90).
    Zstd,
    /// Stored without compression (method 0x02): the reader takes it from servers; only tests and the
    /// fuzz harness write it.
    #[allow(dead_code)]
    None,
}

impl Method {
    /// The name for `network_compression_method`.
    pub fn name(self) -> &'static str {
        match self {
            Method::Lz4 => "lz4",
            Method::Zstd => "zstd",
            Method::None => "none",
        }
    }

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
    /// Consumes `data` until one frame is complete (it goes to `sink`) or `data` is used up.
    fn feed_one(&mut self, data: &[u8], sink: &mut dyn FnMut(&[u8]) -> Result<()>) -> Result<usize> {
        let mut rest = data;
        while !rest.is_empty() {
            if self.pending.len() < CHECKSUM + HEADER {
                let take = (CHECKSUM + HEADER - self.pending.len()).min(rest.len());
                self.pending.extend_from_slice(&rest[..take]);
                rest = &rest[take..];
                if self.pending.len() < CHECKSUM + HEADER {
                    break;
                }
            }
            let (compressed, _) = self.sizes()?;
            let total = CHECKSUM + compressed;
            let take = (total - self.pending.len()).min(rest.len());
            self.pending.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            if self.pending.len() == total {
                self.finish_frame(sink)?;
                break;
            }
        }
        Ok(data.len() - rest.len())
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
                    .map_err(|e| Error::compression("LZ4", e))?;
                out.truncate(start + CHECKSUM + HEADER + n);
            }
            Method::Zstd => {
                let c = zstd::bulk::compress(block, 1).map_err(|e| Error::compression("ZSTD", e))?;
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
