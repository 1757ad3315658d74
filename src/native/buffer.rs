//! Column storage: owned, 16-byte-aligned byte buffers that keep their capacity from block to block.
//!
//! [`AlignedBuf`] is a growable byte buffer whose allocation it owns (through `std::alloc`, freed on
//! drop). Every allocation is 16-byte aligned (enough for every element type the codec hands out as a
//! typed slice, `i128`/`u128` included), so a finished column can be viewed as `&[u64]`, `&[f64]`,
//! `&[i128]` … without copying. Buffers grow geometrically and **only as input bytes arrive** (callers
//! reserve what a chunk can fill, never what a length prefix claims), so hostile length prefixes cannot
//! make us allocate more than about twice what was actually received. A new block [`AlignedBuf::clear`]s
//! the buffer and keeps its capacity, so a steady stream of similar blocks allocates nothing.
//!
//! Ownership is the whole soundness argument: a typed slice borrows the buffer, the buffer owns its
//! memory, and nothing else can free or reuse that memory while the slice lives (an earlier design
//! carved buffers from a shared `bumpalo` arena and relied on every column remembering to forget its
//! buffers before the arena was reset; that rule is gone with the arena).
//!
//! This is the one module of the crate allowed `unsafe` (the crate root denies it everywhere else).
//! Invariants:
//! 1. `ptr` is either dangling-but-aligned with `cap == 0`, or an allocation of `cap` bytes with
//!    [`ALIGN`] alignment made by this module and owned by this buffer alone.
//! 2. `len <= cap` always; bytes in `0..len` are initialised.
//! 3. Growth reallocates keeping the `len` initialised bytes.

use crate::error::{Error, Result};
use std::alloc::Layout;
use std::ptr::NonNull;

/// Alignment of every column buffer.
pub(crate) const ALIGN: usize = 16;

/// Smallest allocation, so tiny columns do not realloc byte by byte.
const MIN_CAP: usize = 256;

pub(crate) struct AlignedBuf {
    ptr: NonNull<u8>,
    len: usize,
    cap: usize,
}

// SAFETY: an AlignedBuf uniquely owns its allocation (invariant 1), like a `Vec<u8>`.
unsafe impl Send for AlignedBuf {}

// SAFETY: through `&AlignedBuf` the bytes are only read (every method that writes, grows or frees takes
// `&mut self`, and there is no interior mutability), as for a `&Vec<u8>`.
unsafe impl Sync for AlignedBuf {}

impl Default for AlignedBuf {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for AlignedBuf {
    fn drop(&mut self) {
        if self.cap > 0 {
            // SAFETY: invariant 1: `ptr` was allocated by this module with exactly this layout (the
            // layout was valid when it was made), and nothing else frees it.
            unsafe { std::alloc::dealloc(self.ptr.as_ptr(), Layout::from_size_align_unchecked(self.cap, ALIGN)) };
        }
    }
}

impl AlignedBuf {
    pub(crate) const fn new() -> Self {
        // A dangling but 16-aligned pointer: valid for zero-length slices of any element type.
        AlignedBuf { ptr: NonNull::<u128>::dangling().cast(), len: 0, cap: 0 }
    }

    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Bytes allocated.
    #[cfg(test)]
    pub(crate) fn capacity(&self) -> usize {
        self.cap
    }

    /// Ensures room for `additional` more bytes.
    #[inline]
    pub(crate) fn reserve(&mut self, additional: usize) -> Result<()> {
        let need = self
            .len
            .checked_add(additional)
            .ok_or_else(|| Error::resource("column too large for the address space"))?;
        if need <= self.cap {
            return Ok(());
        }
        self.grow(need)
    }

    #[cold]
    fn grow(&mut self, need: usize) -> Result<()> {
        let new_cap = need.max(self.cap.saturating_mul(2)).max(MIN_CAP);
        let layout = Layout::from_size_align(new_cap, ALIGN)
            .map_err(|_| Error::resource("column too large for the address space"))?;
        let new = if self.cap == 0 {
            // SAFETY: `layout` has a non-zero size (`new_cap >= MIN_CAP`).
            unsafe { std::alloc::alloc(layout) }
        } else {
            // SAFETY: invariant 1: `ptr` was allocated with `cap` bytes at ALIGN; `new_cap` is non-zero
            // and, as `layout` checked, does not overflow `isize` when rounded up to ALIGN. realloc keeps
            // the first `min(cap, new_cap) >= len` bytes (invariant 2).
            unsafe {
                std::alloc::realloc(self.ptr.as_ptr(), Layout::from_size_align_unchecked(self.cap, ALIGN), new_cap)
            }
        };
        let new = NonNull::new(new)
            .ok_or_else(|| Error::resource(format!("out of memory allocating {new_cap} bytes of column storage")))?;
        self.ptr = new;
        self.cap = new_cap;
        Ok(())
    }

    /// Appends bytes (reserving as needed).
    #[inline]
    pub(crate) fn extend_from_slice(&mut self, src: &[u8]) -> Result<()> {
        self.reserve(src.len())?;
        // SAFETY: reserve guaranteed `cap >= len + src.len()`; `src` cannot alias memory this buffer owns
        // uniquely (it is caller input), and the copy initialises exactly the new bytes.
        unsafe {
            std::ptr::copy_nonoverlapping(src.as_ptr(), self.ptr.as_ptr().add(self.len), src.len());
        }
        self.len += src.len();
        Ok(())
    }

    /// Appends one plain value's bytes.
    #[inline]
    pub(crate) fn push<T: bytemuck::Pod>(&mut self, v: T) -> Result<()> {
        self.extend_from_slice(bytemuck::bytes_of(&v))
    }

    #[inline]
    pub(crate) fn as_bytes(&self) -> &[u8] {
        // SAFETY: `ptr` is valid for `len` initialised bytes (invariants 1 and 2), or dangling with len 0.
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
    pub(crate) fn extend_zeroed(&mut self, n: usize) -> Result<&mut [u8]> {
        self.reserve(n)?;
        let start = self.len;
        // SAFETY: reserve guaranteed `cap >= len + n`; we initialise the `n` bytes before exposing them.
        unsafe { std::ptr::write_bytes(self.ptr.as_ptr().add(start), 0, n) };
        self.len += n;
        // SAFETY: bytes `start..start + n` are initialised and owned uniquely through `&mut self`.
        Ok(unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr().add(start), n) })
    }

    /// Empties the buffer, keeping its capacity.
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
    data: &mut AlignedBuf,
    offsets: &mut AlignedBuf,
    buf: &[u8],
    max_rows: usize,
) -> Result<(usize, usize)> {
    let max_rows = max_rows.min(buf.len());
    if max_rows == 0 {
        return Ok((0, 0));
    }
    // Every appended data byte consumes at least one input byte, and a row taken here has at most 127,
    // so `room = min(buf.len(), max_rows * 127) + 16` bounds what the loop can write (the +16 covers the
    // last over-copy); each row consumes at least one byte, so `max_rows <= buf.len()` offsets suffice.
    // Both are bounded by the input actually received, and the data bound by what the rows can hold (a
    // small dictionary's buffer does not grow to the size of the chunk around it).
    let room = buf.len().min(max_rows.saturating_mul(127)) + 16;
    data.reserve(room)?;
    offsets.reserve(max_rows * 8)?;
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
                        // - data destination: each body byte written at `dlen` was consumed from `buf`
                        //   and each earlier row wrote at most 127, so `dlen - data.len <= min(pos + k *
                        //   stride, (rows + k) * 127)` and the 16-byte write ends within `data.len +
                        //   room <= cap`;
                        // - offsets destination: `rows + k < max_rows` (checked: `rows + BATCH <=
                        //   max_rows`), so the aligned u64 write is within `olen + max_rows * 8 <= cap`;
                        // - the column buffers and `buf` never overlap.
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
        // - data destination: `dlen - data.len <= min(pos, rows * 127)` because each copied body byte
        //   was preceded by consuming it from `buf` and each earlier row wrote at most 127; the write
        //   ends at most `max(16, len) <= 127` further (`pos + 1 + len <= buf.len()` for the long copy),
        //   so within `data.len + min(buf.len(), max_rows * 127) + 16 = data.len + room <= cap`;
        // - offsets destination: `olen + rows * 8 < olen + max_rows * 8 <= cap`, and `olen` is a
        //   multiple of 8 from a 16-aligned base, so the u64 write is aligned;
        // - the column buffers and `buf` (caller input) never overlap.
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
    // Bytes 0..dlen and offsets 0..olen + rows * 8 are now initialised (invariant 2).
    data.len = dlen;
    offsets.len = olen + rows * 8;
    Ok((pos, rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_keeps_bytes_and_alignment() {
        let mut b = AlignedBuf::new();
        for i in 0..10_000u64 {
            b.push(i).unwrap();
        }
        let s: &[u64] = b.typed();
        assert_eq!(s.len(), 10_000);
        assert!(s.iter().enumerate().all(|(i, v)| *v == i as u64));
        assert_eq!(s.as_ptr() as usize % ALIGN, 0);
        let wide: &[u128] = b.typed();
        assert_eq!(wide.len(), 5_000);
        let cap = b.capacity();
        b.clear();
        assert!(b.as_bytes().is_empty());
        assert_eq!(b.capacity(), cap, "a cleared buffer keeps its capacity");
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
            let (mut data, mut offsets) = (AlignedBuf::new(), AlignedBuf::new());
            data.extend_from_slice(b"prefix").unwrap(); // earlier rows of the same column
            let (used, rows) = append_short_strings(&mut data, &mut offsets, buf, max_rows).unwrap();
            let (want_used, want_ends, want_data) = reference(buf, max_rows);
            assert_eq!((used, rows), (want_used, want_ends.len()), "case {case}");
            let shifted: Vec<u64> = want_ends.iter().map(|e| e + 6).collect();
            assert_eq!(offsets.typed::<u64>(), &shifted[..], "case {case}");
            assert_eq!(&data.as_bytes()[6..], &want_data[..], "case {case}");
        }
    }

    #[test]
    fn short_strings_stop_at_what_they_cannot_take() {
        let (mut data, mut offsets) = (AlignedBuf::new(), AlignedBuf::new());
        // "a", "", 20 bytes, a 200-byte (two-byte prefix) string, then a truncated one.
        let mut buf = vec![1, b'a', 0, 20];
        buf.extend_from_slice(&[b'x'; 20]);
        let two_byte_len = buf.len();
        buf.extend_from_slice(&[0xc8, 0x01]);
        let (used, rows) = append_short_strings(&mut data, &mut offsets, &buf, 10).unwrap();
        assert_eq!((used, rows), (two_byte_len, 3));
        assert_eq!(offsets.typed::<u64>(), &[1, 1, 21]);
        assert_eq!(&data.as_bytes()[..1], b"a");
        assert_eq!(data.len(), 21);
        // A body that runs past the chunk is left for the slow path.
        let (used, rows) = append_short_strings(&mut data, &mut offsets, &[5, b'a', b'b'], 10).unwrap();
        assert_eq!((used, rows), (0, 0));
        // max_rows is honoured.
        let (used, rows) = append_short_strings(&mut data, &mut offsets, &[1, b'q', 1, b'r'], 1).unwrap();
        assert_eq!((used, rows), (2, 1));
        assert_eq!(data.len(), 22);
    }
}
