//! Column storage carved from the decoder's per-block `bumpalo` arena.
//!
//! [`ArenaBuf`] is a growable byte buffer whose memory comes from a [`Bump`] owned by the block decoder.
//! Every buffer starts 16-byte aligned (enough for every element type the codec hands out as a typed
//! slice, `i128`/`u128` included), so a finished column can be viewed as `&[u64]`, `&[f64]`, `&[i128]` …
//! without copying. Buffers grow geometrically and **only as input bytes arrive** (callers reserve what a
//! chunk can fill, never what a length prefix claims), so hostile length prefixes cannot make us allocate
//! more than about twice what was actually received.
//!
//! This is the only `unsafe` in the codec. The invariants that make it sound:
//! 1. An `ArenaBuf` never outlives the arena's current generation: the decoder calls [`ArenaBuf::release`]
//!    on every buffer before it calls `Bump::reset`, and typed slices borrow the decoder (`&self`), so no
//!    slice can be alive across a reset (the borrow checker enforces this through `Block<'a>`).
//! 2. Growth copies `len` initialised bytes into a fresh allocation of at least `len + additional`.
//! 3. `len <= cap` always; bytes in `0..len` are initialised.

use crate::error::{Error, Result};
use bumpalo::Bump;
use std::alloc::Layout;
use std::ptr::NonNull;

/// Alignment of every arena buffer.
pub(crate) const ALIGN: usize = 16;

/// Smallest allocation, so tiny columns do not realloc byte by byte.
const MIN_CAP: usize = 256;

pub(crate) struct ArenaBuf {
    ptr: NonNull<u8>,
    len: usize,
    cap: usize,
    /// Capacity this buffer reached in the previous block. The first growth in a new block goes straight
    /// to it, so a steady stream of same-sized blocks allocates once per block from the (already sized)
    /// arena instead of re-growing geometrically and copying. It is bounded by bytes that really arrived.
    hint: usize,
}

// SAFETY: an ArenaBuf is a unique pointer into memory owned by the decoder's Bump, which moves with it;
// it is never shared between threads without its owner.
unsafe impl Send for ArenaBuf {}

// SAFETY: through `&ArenaBuf` the bytes are only read (every method that writes, grows or releases
// takes `&mut self`, and there is no interior mutability), so several threads may read one buffer at
// once, as they may read a `&[u8]`; the borrow keeps the owning decoder (and its Bump) from resetting
// or dropping the memory meanwhile.
unsafe impl Sync for ArenaBuf {}

impl Default for ArenaBuf {
    fn default() -> Self {
        Self::new()
    }
}

impl ArenaBuf {
    pub(crate) const fn new() -> Self {
        // A dangling but 16-aligned pointer: valid for zero-length slices of any element type.
        ArenaBuf { ptr: NonNull::<u128>::dangling().cast(), len: 0, cap: 0, hint: 0 }
    }

    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Ensures room for `additional` more bytes, allocating from `arena` when needed.
    #[inline]
    pub(crate) fn reserve(&mut self, arena: &Bump, additional: usize) -> Result<()> {
        let need = self.len.checked_add(additional).ok_or_else(|| Error::usage("column too large"))?;
        if need <= self.cap {
            return Ok(());
        }
        self.grow(arena, need)
    }

    #[cold]
    fn grow(&mut self, arena: &Bump, need: usize) -> Result<()> {
        let new_cap = need.max(self.cap.saturating_mul(2)).max(MIN_CAP).max(self.hint);
        let layout = Layout::from_size_align(new_cap, ALIGN).map_err(|_| Error::usage("column too large"))?;
        let new = arena
            .try_alloc_layout(layout)
            .map_err(|_| Error::usage(format!("out of memory allocating {new_cap} bytes of column storage")))?;
        if self.len > 0 {
            // SAFETY: `self.ptr` is valid for `self.len` initialised bytes (invariant 3); `new` is a fresh,
            // distinct allocation of `new_cap >= need > len` bytes, so the ranges do not overlap.
            unsafe { std::ptr::copy_nonoverlapping(self.ptr.as_ptr(), new.as_ptr(), self.len) };
        }
        self.ptr = new;
        self.cap = new_cap;
        Ok(())
    }

    /// Appends bytes (reserving as needed).
    #[inline]
    pub(crate) fn extend_from_slice(&mut self, arena: &Bump, src: &[u8]) -> Result<()> {
        self.reserve(arena, src.len())?;
        // SAFETY: reserve guaranteed `cap >= len + src.len()`; `src` cannot alias arena memory we own
        // uniquely beyond `len` (it is caller input), and the copy initialises exactly the new bytes.
        unsafe {
            std::ptr::copy_nonoverlapping(src.as_ptr(), self.ptr.as_ptr().add(self.len), src.len());
        }
        self.len += src.len();
        Ok(())
    }

    /// Appends one plain value's bytes.
    #[inline]
    pub(crate) fn push<T: bytemuck::Pod>(&mut self, arena: &Bump, v: T) -> Result<()> {
        self.extend_from_slice(arena, bytemuck::bytes_of(&v))
    }

    #[inline]
    pub(crate) fn as_bytes(&self) -> &[u8] {
        // SAFETY: `ptr` is valid for `len` initialised bytes (invariants 1 and 3), or dangling with len 0.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }

    /// The buffer as a typed slice. Callers only ask for the element type the column was built with, so
    /// the length is a multiple of `size_of::<T>()`; a trailing partial element is never exposed.
    #[inline]
    pub(crate) fn typed<T: bytemuck::Pod>(&self) -> &[T] {
        let bytes = self.as_bytes();
        let whole = bytes.len() - bytes.len() % std::mem::size_of::<T>().max(1);
        // Alignment holds because every allocation is ALIGN-aligned and ALIGN >= align_of::<T>() for all
        // element types the codec uses; try_cast_slice re-checks it and we fall back to an empty slice
        // rather than panic if a future element type broke that rule.
        bytemuck::try_cast_slice(&bytes[..whole]).unwrap_or(&[])
    }

    /// Appends `n` zero bytes and returns them for the caller to fill (e.g. as `&mut [u32]` through
    /// bytemuck; the start is aligned for any element whose size divides the current length).
    pub(crate) fn extend_zeroed(&mut self, arena: &Bump, n: usize) -> Result<&mut [u8]> {
        self.reserve(arena, n)?;
        let start = self.len;
        // SAFETY: reserve guaranteed `cap >= len + n`; we initialise the `n` bytes before exposing them.
        unsafe { std::ptr::write_bytes(self.ptr.as_ptr().add(start), 0, n) };
        self.len += n;
        // SAFETY: bytes `start..start + n` are initialised and owned uniquely through `&mut self`.
        Ok(unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr().add(start), n) })
    }

    /// Forgets the storage; must be called before the arena is reset (invariant 1).
    #[inline]
    pub(crate) fn release(&mut self) {
        let hint = self.cap.max(self.hint / 2);
        *self = ArenaBuf::new();
        self.hint = hint;
    }

    /// Keeps the storage but empties it.
    #[inline]
    pub(crate) fn clear(&mut self) {
        self.len = 0;
    }
}

/// The String decoder's hot loop: appends consecutive rows of `buf` that have a one-byte length prefix
/// (< 128) and whose bodies lie entirely in `buf`, up to `max_rows`, to `data` (bodies) and `offsets`
/// (u64 end offsets). Returns `(bytes consumed, rows appended)`; stops at the first row it cannot take.
///
/// Short bodies (<= 16 bytes, with 16 readable bytes in `buf`) are copied as one fixed 16-byte move,
/// which may write past the row's end into reserved, not-yet-used capacity: those bytes are outside
/// `0..len`, are never exposed, and are overwritten by the next row.
///
/// Where a row starts the loop is bound by a dependency chain: a row's position needs the previous
/// row's length byte, loaded from memory (~6 cycles a row, whatever else the loop does). Runs of
/// equal-length bodies (ids, codes, hashes, numbers of one width) break it: if the next `BATCH` rows
/// all have this row's length `L`, they start every `L + 1` bytes, which eight independent loads check
/// at once; then all eight are copied without the chain. A miss falls back to one row at a time and
/// waits 8, then 16, 32 and at most 64 rows before trying again, so bodies of varied lengths pay next
/// to nothing.
/// Rows checked and copied together in a run of equal-length bodies.
const BATCH: usize = 8;

pub(crate) fn append_short_strings(
    data: &mut ArenaBuf,
    offsets: &mut ArenaBuf,
    arena: &Bump,
    buf: &[u8],
    max_rows: usize,
) -> Result<(usize, usize)> {
    let max_rows = max_rows.min(buf.len());
    if max_rows == 0 {
        return Ok((0, 0));
    }
    // Every appended data byte consumes at least one input byte, so `buf.len() + 16` bounds what the
    // loop can write (the +16 covers the last over-copy); each row consumes at least one byte, so
    // `max_rows <= buf.len()` offsets suffice. Both are bounded by the input actually received.
    data.reserve(arena, buf.len() + 16)?;
    offsets.reserve(arena, max_rows * 8)?;
    let data_ptr = data.ptr.as_ptr();
    let offsets_ptr = offsets.ptr.as_ptr();
    let mut dlen = data.len;
    let olen = offsets.len;
    let mut pos = 0usize;
    let mut rows = 0usize;
    let mut next_batch_try = 0usize;
    let mut misses = 0u32;
    while rows < max_rows {
        if rows >= next_batch_try && rows + BATCH <= max_rows {
            if let Some(&len) = buf.get(pos).filter(|&&l| l <= 16) {
                let stride = usize::from(len) + 1;
                // Every record of the batch, and the last one's 16-byte over-read, lie inside `buf`.
                if pos + BATCH * stride + 16 <= buf.len() && (1..BATCH).all(|k| buf[pos + k * stride] == len) {
                    let len = usize::from(len);
                    for k in 0..BATCH {
                        // SAFETY (both writes), as for the single-row path below:
                        // - source: `pos + k * stride + 1 + 16 <= pos + BATCH * stride + 16 <= buf.len()`;
                        // - data destination: each body byte written at `dlen` was consumed from `buf`,
                        //   so `dlen - data.len <= pos + k * stride` and the 16-byte write ends within
                        //   `data.len + buf.len() + 16 <= cap`;
                        // - offsets destination: `rows + k < max_rows` (checked: `rows + BATCH <=
                        //   max_rows`), so the aligned u64 write is within `olen + max_rows * 8 <= cap`;
                        // - the arena buffers and `buf` never overlap.
                        unsafe {
                            std::ptr::copy_nonoverlapping(
                                buf.as_ptr().add(pos + k * stride + 1),
                                data_ptr.add(dlen),
                                16,
                            );
                            dlen += len;
                            (offsets_ptr.add(olen + (rows + k) * 8) as *mut u64).write(dlen as u64);
                        }
                    }
                    pos += BATCH * stride;
                    rows += BATCH;
                    misses = 0;
                    continue;
                }
            }
            next_batch_try = rows + (BATCH << misses);
            misses = (misses + 1).min(3);
        }
        let Some(&len) = buf.get(pos) else { break };
        if len >= 0x80 {
            break;
        }
        let len = usize::from(len);
        let start = pos + 1;
        if start + len > buf.len() {
            break;
        }
        // SAFETY (all three writes):
        // - source: `start + 16 <= buf.len()` (fixed copy) or `start + len <= buf.len()` (checked above);
        // - data destination: `dlen - data.len <= pos < buf.len()` because each copied body byte was
        //   preceded by consuming it from `buf`, so `dlen + 16 <= data.len + buf.len() + 16 <= cap`;
        // - offsets destination: `olen + rows * 8 < olen + max_rows * 8 <= cap`, and `olen` is a
        //   multiple of 8 from a 16-aligned base, so the u64 write is aligned;
        // - the arena buffers and `buf` (caller input) never overlap.
        unsafe {
            if len <= 16 && start + 16 <= buf.len() {
                std::ptr::copy_nonoverlapping(buf.as_ptr().add(start), data_ptr.add(dlen), 16);
            } else {
                std::ptr::copy_nonoverlapping(buf.as_ptr().add(start), data_ptr.add(dlen), len);
            }
            dlen += len;
            (offsets_ptr.add(olen + rows * 8) as *mut u64).write(dlen as u64);
        }
        pos = start + len;
        rows += 1;
    }
    // Bytes 0..dlen and offsets 0..olen + rows * 8 are now initialised (invariant 3).
    data.len = dlen;
    offsets.len = olen + rows * 8;
    Ok((pos, rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_keeps_bytes_and_alignment() {
        let bump = Bump::new();
        let mut b = ArenaBuf::new();
        for i in 0..10_000u64 {
            b.push(&bump, i).unwrap();
        }
        let s: &[u64] = b.typed();
        assert_eq!(s.len(), 10_000);
        assert!(s.iter().enumerate().all(|(i, v)| *v == i as u64));
        assert_eq!(s.as_ptr() as usize % ALIGN, 0);
        let wide: &[u128] = b.typed();
        assert_eq!(wide.len(), 5_000);
        b.release();
        assert!(b.as_bytes().is_empty());
        let empty: &[i128] = b.typed();
        assert!(empty.is_empty());
    }

    /// What `append_short_strings` must do, one row at a time.
    fn reference(buf: &[u8], max_rows: usize) -> (usize, Vec<u64>, Vec<u8>) {
        let (mut pos, mut ends, mut data) = (0, Vec::new(), Vec::new());
        while ends.len() < max_rows {
            let Some(&len) = buf.get(pos) else { break };
            let len = usize::from(len);
            if len >= 0x80 || pos + 1 + len > buf.len() {
                break;
            }
            data.extend_from_slice(&buf[pos + 1..pos + 1 + len]);
            ends.push(data.len() as u64);
            pos += 1 + len;
        }
        (pos, ends, data)
    }

    #[test]
    fn short_strings_match_the_reference_on_runs_and_mixtures() {
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        let mut next = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        for case in 0..3000 {
            // Runs of one length (as in ids or numbers of one width), mixed lengths, long bodies, and now
            // and then a two-byte prefix that stops the fast path.
            let mut buf = Vec::new();
            while buf.len() < 600 {
                let len = match next(10) {
                    0 => next(128) as u8,
                    1 => 0x90,
                    _ => next(18) as u8,
                };
                let run = if next(2) == 0 { 1 + next(30) } else { 1 };
                for _ in 0..run {
                    buf.push(len);
                    if len < 0x80 {
                        buf.extend((0..len).map(|_| b'a' + next(26) as u8));
                    }
                }
            }
            let cut = next(buf.len() as u64 + 1) as usize;
            let buf = &buf[..cut];
            let max_rows = if case % 3 == 0 { next(40) as usize } else { usize::MAX };
            let bump = Bump::new();
            let (mut data, mut offsets) = (ArenaBuf::new(), ArenaBuf::new());
            data.extend_from_slice(&bump, b"prefix").unwrap(); // earlier rows of the same column
            let (used, rows) = append_short_strings(&mut data, &mut offsets, &bump, buf, max_rows).unwrap();
            let (want_used, want_ends, want_data) = reference(buf, max_rows);
            assert_eq!((used, rows), (want_used, want_ends.len()), "case {case}");
            let shifted: Vec<u64> = want_ends.iter().map(|e| e + 6).collect();
            assert_eq!(offsets.typed::<u64>(), &shifted[..], "case {case}");
            assert_eq!(&data.as_bytes()[6..], &want_data[..], "case {case}");
        }
    }

    #[test]
    fn short_strings_stop_at_what_they_cannot_take() {
        let bump = Bump::new();
        let (mut data, mut offsets) = (ArenaBuf::new(), ArenaBuf::new());
        // "a", "", 20 bytes, a 200-byte (two-byte prefix) string, then a truncated one.
        let mut buf = vec![1, b'a', 0, 20];
        buf.extend_from_slice(&[b'x'; 20]);
        let two_byte_len = buf.len();
        buf.extend_from_slice(&[0xc8, 0x01]);
        let (used, rows) = append_short_strings(&mut data, &mut offsets, &bump, &buf, 10).unwrap();
        assert_eq!((used, rows), (two_byte_len, 3));
        assert_eq!(offsets.typed::<u64>(), &[1, 1, 21]);
        assert_eq!(&data.as_bytes()[..1], b"a");
        assert_eq!(data.len(), 21);
        // A body that runs past the chunk is left for the slow path.
        let (used, rows) = append_short_strings(&mut data, &mut offsets, &bump, &[5, b'a', b'b'], 10).unwrap();
        assert_eq!((used, rows), (0, 0));
        // max_rows is honoured.
        let (used, rows) = append_short_strings(&mut data, &mut offsets, &bump, &[1, b'q', 1, b'r'], 1).unwrap();
        assert_eq!((used, rows), (2, 1));
        assert_eq!(data.len(), 22);
    }
}
