//! A push decoder for the LZ4 frame format, which ClickHouse uses for `Content-Encoding: lz4` (libcurl
//! cannot decode that encoding). Bytes arrive in arbitrary chunks; decoded data goes to a sink.
//!
//! Frame: magic `04 22 4D 18`, FLG (version 01; block independence; block and content checksum flags;
//! content size; dictionary id), BD (maximum block size 64 KiB–4 MiB), optional content size (8) and
//! dictionary id (4), header checksum (1); then blocks — `u32 LE` size with the high bit meaning "stored
//! uncompressed", data, optional 4-byte block checksum — until a zero size, then an optional 4-byte
//! content checksum. Frames may follow one another. ClickHouse writes linked blocks (each may refer to
//! the previous 64 KiB of output), so the decoder keeps that window as the dictionary. Checksums are
//! skipped (ClickHouse does not write them). Every size is checked against the frame's maximum block
//! size before anything is allocated.
//!
//! Blocks decode straight into one history buffer, after the output that came before them in the frame,
//! so the previous 64 KiB are the dictionary without copying them anywhere. The buffer has room for
//! several blocks; only when the next block might not fit are the last 64 KiB moved to its front. It
//! grows (zeroed) only as far as blocks can reach: a block's output is at most its frame's maximum
//! block size and at most 255 bytes per input byte (LZ4's largest expansion), so small inputs never
//! make the decoder zero megabytes, and a long stream zeroes its buffer once.

use super::BodyDecoder;
use crate::error::{Error, Result};

const MAGIC: [u8; 4] = [0x04, 0x22, 0x4D, 0x18];
const WINDOW: usize = 64 * 1024;
/// Output room in the history buffer beyond the window: at least this much, and two maximum blocks.
const MIN_ROOM: usize = 1 << 20;
/// LZ4's largest expansion: a match-length byte of 255 stands for 255 output bytes, and nothing else
/// produces more output per input byte.
const MAX_EXPANSION: usize = 255;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Header,
    BlockSize,
    Block,
    ContentChecksum,
}

/// Decodes LZ4 frames fed in chunks.
pub struct Lz4FrameReader {
    state: State,
    pending: Vec<u8>,
    want: usize,
    max_block: usize,
    linked: bool,
    block_checksum: bool,
    content_checksum: bool,
    stored: bool,
    /// This frame's output so far, `hist[..filled]` (only its last `WINDOW` bytes matter); blocks decode
    /// into `hist[filled..]`. Independent blocks leave `filled` at 0.
    hist: Vec<u8>,
    filled: usize,
    offset: u64,
}

impl Default for Lz4FrameReader {
    fn default() -> Self {
        Self::new()
    }
}

impl BodyDecoder for Lz4FrameReader {
    /// Consumes `data`, handing decoded bytes to `sink`.
    fn feed_one(&mut self, data: &[u8], sink: &mut dyn FnMut(&[u8]) -> Result<()>) -> Result<usize> {
        if data.is_empty() {
            return Ok(0);
        }
        let take = (self.want - self.pending.len()).min(data.len());
        self.pending.extend_from_slice(&data[..take]);
        self.offset += take as u64;
        if self.pending.len() >= self.want {
            // One step: a header, or a block (whose output goes to `sink`).
            self.step(sink)?;
        }
        Ok(take)
    }

    /// Checks the stream ended between frames.
    fn finish(&self) -> Result<()> {
        if self.state == State::Header && self.pending.is_empty() {
            Ok(())
        } else {
            Err(self.err("stream ends inside a frame"))
        }
    }
}

impl Lz4FrameReader {
    /// A decoder at the start of a stream.
    pub fn new() -> Self {
        Lz4FrameReader {
            state: State::Header,
            pending: Vec::new(),
            want: 7,
            max_block: 0,
            linked: false,
            block_checksum: false,
            content_checksum: false,
            stored: false,
            hist: Vec::new(),
            filled: 0,
            offset: 0,
        }
    }

    fn err(&self, m: impl Into<String>) -> Error {
        Error::decode(self.offset, format!("LZ4 frame: {}", m.into()))
    }

    fn step(&mut self, sink: &mut dyn FnMut(&[u8]) -> Result<()>) -> Result<()> {
        match self.state {
            State::Header => {
                if self.pending[..4] != MAGIC {
                    return Err(self.err("bad magic number"));
                }
                let flg = self.pending[4];
                if flg >> 6 != 1 {
                    return Err(self.err("unsupported version"));
                }
                let extra = if flg & 0x08 != 0 { 8 } else { 0 } + if flg & 0x01 != 0 { 4 } else { 0 };
                let full = 7 + extra;
                if self.want < full {
                    self.want = full; // read the optional fields, then come back
                    return Ok(());
                }
                self.linked = flg & 0x20 == 0;
                self.block_checksum = flg & 0x10 != 0;
                self.content_checksum = flg & 0x04 != 0;
                self.max_block = match (self.pending[5] >> 4) & 0x7 {
                    4 => 64 << 10,
                    5 => 256 << 10,
                    6 => 1 << 20,
                    7 => 4 << 20,
                    b => return Err(self.err(format!("bad block size id {b}"))),
                };
                self.filled = 0;
                self.next(State::BlockSize, 4);
            }
            State::BlockSize => {
                let raw = u32::from_le_bytes([self.pending[0], self.pending[1], self.pending[2], self.pending[3]]);
                if raw == 0 {
                    if self.content_checksum {
                        self.next(State::ContentChecksum, 4);
                    } else {
                        self.next(State::Header, 7);
                    }
                    return Ok(());
                }
                self.stored = raw & 0x8000_0000 != 0;
                let size = (raw & 0x7FFF_FFFF) as usize;
                if size > self.max_block {
                    return Err(
                        self.err(format!("block of {size} bytes exceeds the frame's {} maximum", self.max_block))
                    );
                }
                let size = size + if self.block_checksum { 4 } else { 0 };
                self.next(State::Block, size);
            }
            State::Block => {
                let data_len = self.pending.len() - if self.block_checksum { 4 } else { 0 };
                let data = &self.pending[..data_len];
                // The most this block can write (`data_len <= max_block`: checked when the size was read).
                let reach = if self.stored {
                    data_len
                } else {
                    self.max_block.min(data_len.saturating_mul(MAX_EXPANSION).saturating_add(64))
                };
                let room_limit = WINDOW + (2 * self.max_block).max(MIN_ROOM);
                if self.filled + reach > room_limit {
                    let keep = self.filled.min(WINDOW);
                    self.hist.copy_within(self.filled - keep..self.filled, 0);
                    self.filled = keep;
                }
                if self.hist.len() < self.filled + reach {
                    self.hist.resize(self.filled + reach, 0);
                }
                let (before, room) = self.hist.split_at_mut(self.filled);
                let n = if self.stored {
                    room[..data_len].copy_from_slice(data);
                    data_len
                } else {
                    let dict = &before[before.len().saturating_sub(WINDOW)..];
                    lz4_flex::block::decompress_into_with_dict(data, &mut room[..reach], dict)
                        .map_err(|e| Error::decode(self.offset, format!("LZ4 frame: {e}")))?
                };
                let start = self.filled;
                if self.linked {
                    self.filled += n;
                }
                sink(&self.hist[start..start + n])?;
                self.next(State::BlockSize, 4);
            }
            State::ContentChecksum => self.next(State::Header, 7),
        }
        Ok(())
    }

    fn next(&mut self, state: State, want: usize) {
        self.state = state;
        self.want = want;
        self.pending.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn encode(data: &[u8], independent: bool) -> Vec<u8> {
        let info = lz4_flex::frame::FrameInfo::new().block_size(lz4_flex::frame::BlockSize::Max64KB).block_mode(
            if independent { lz4_flex::frame::BlockMode::Independent } else { lz4_flex::frame::BlockMode::Linked },
        );
        let mut e = lz4_flex::frame::FrameEncoder::with_frame_info(info, Vec::new());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn decode(bytes: &[u8], chunk: usize) -> Result<Vec<u8>> {
        Lz4FrameReader::new().decode_all(bytes.chunks(chunk))
    }

    #[test]
    fn linked_and_independent_frames_in_any_chunking() {
        let data: Vec<u8> = (0..500_000u32).flat_map(|i| (i % 777).to_le_bytes()).collect();
        for independent in [false, true] {
            let mut framed = encode(&data, independent);
            framed.extend_from_slice(&encode(b"second frame", independent));
            let mut want = data.clone();
            want.extend_from_slice(b"second frame");
            for chunk in [1, 7, 4096, 1 << 20] {
                assert_eq!(decode(&framed, chunk).unwrap(), want, "independent={independent} chunk={chunk}");
            }
        }
    }

    #[test]
    fn stored_and_compressed_blocks_across_history_compactions() {
        // Incompressible stretches become stored blocks; compressible ones refer back across them. 3 MB
        // of output moves the history window to the front of its buffer several times.
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let mut data = Vec::new();
        for i in 0..48u32 {
            for _ in 0..20_000 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                data.extend_from_slice(&x.to_le_bytes()[..4]);
            }
            data.extend(std::iter::repeat_n((i % 251) as u8, 30_000));
        }
        for independent in [false, true] {
            let framed = encode(&data, independent);
            let (mut pos, mut stored, mut compressed) = (7, 0, 0); // lz4_flex writes a 7-byte header
            loop {
                let raw = u32::from_le_bytes(framed[pos..pos + 4].try_into().unwrap());
                if raw == 0 {
                    break;
                }
                if raw & 0x8000_0000 != 0 {
                    stored += 1
                } else {
                    compressed += 1
                }
                pos += 4 + (raw & 0x7FFF_FFFF) as usize;
            }
            assert!(stored > 0 && compressed > 0, "stored {stored}, compressed {compressed}");
            for chunk in [5, 65_536, 1 << 22] {
                assert!(decode(&framed, chunk).unwrap() == data, "independent={independent} chunk={chunk}");
            }
        }
    }

    #[test]
    fn blocks_at_the_largest_expansion_decode() {
        // Zeros compress about 250:1, close to LZ4's limit, in the largest and the smallest blocks.
        let zeros = vec![0u8; 9 << 20];
        for size in [lz4_flex::frame::BlockSize::Max4MB, lz4_flex::frame::BlockSize::Max64KB] {
            let info = lz4_flex::frame::FrameInfo::new().block_size(size);
            let mut e = lz4_flex::frame::FrameEncoder::with_frame_info(info, Vec::new());
            e.write_all(&zeros).unwrap();
            let framed = e.finish().unwrap();
            assert!(framed.len() < zeros.len() / 200, "{} bytes", framed.len());
            assert!(decode(&framed, 1000).unwrap() == zeros);
        }
        // A block of one literal and one match made only of 255-byte length extensions: 255 output
        // bytes per input byte, the most LZ4 can express.
        let ext = 4000;
        let mut block = vec![0x1F, b'x', 1, 0]; // 1 literal, match of 15+ at offset 1
        block.extend(std::iter::repeat_n(255u8, ext));
        block.extend_from_slice(&[0, 0x50, b'a', b'b', b'c', b'd', b'e']); // end of length; 5 last literals
        let mut framed = vec![0x04, 0x22, 0x4D, 0x18, 0x60, 0x70, 0x73]; // linked, 4 MiB blocks
        framed.extend_from_slice(&(block.len() as u32).to_le_bytes());
        framed.extend_from_slice(&block);
        framed.extend_from_slice(&[0; 4]);
        let out = decode(&framed, 3).unwrap();
        assert_eq!(out.len(), 1 + 4 + 15 + 255 * ext + 5);
        assert!(out[..out.len() - 5].iter().all(|&b| b == b'x') && out.ends_with(b"abcde"));
    }

    #[test]
    fn bad_input_is_an_error() {
        let framed = encode(b"hello hello hello hello hello", false);
        assert!(decode(&framed[..framed.len() - 2], 3).is_err(), "truncated");
        let mut bad = framed.clone();
        bad[0] = 0;
        assert!(decode(&bad, 3).is_err(), "magic");
        // A block size beyond the frame's maximum fails before allocating.
        let mut huge = framed[..7].to_vec();
        huge.extend_from_slice(&0x7FFF_FFFFu32.to_le_bytes());
        assert!(decode(&huge, 64).is_err());
    }
}
