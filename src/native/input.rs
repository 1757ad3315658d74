//! The cursor the decoder reads from: one chunk as libcurl delivered it, plus the absolute offset of its
//! first byte in the response (for error messages), and the resumable LEB128 reader every length and
//! count in Native format uses.

use crate::error::{Error, Result};

/// A chunk being consumed, with its position in the whole stream.
pub struct Input<'a> {
    pub(crate) buf: &'a [u8],
    pub(crate) offset: u64,
}

impl<'a> Input<'a> {
    /// Wraps a chunk that starts at `offset` bytes into the stream.
    pub fn new(buf: &'a [u8], offset: u64) -> Self {
        Input { buf, offset }
    }

    /// Bytes not consumed yet.
    #[inline]
    pub fn remaining(&self) -> &'a [u8] {
        self.buf
    }

    /// Absolute stream offset of the next unread byte.
    #[inline]
    pub fn offset(&self) -> u64 {
        self.offset
    }

    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Takes up to `n` bytes.
    #[inline]
    pub(crate) fn take(&mut self, n: usize) -> &'a [u8] {
        let n = n.min(self.buf.len());
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        self.offset += n as u64;
        head
    }

    pub(crate) fn error(&self, message: impl Into<String>) -> Error {
        Error::decode(self.offset, message)
    }
}

/// A LEB128 unsigned integer that may arrive split across chunks.
#[derive(Default, Clone, Copy)]
pub(crate) struct VarUInt {
    value: u64,
    shift: u32,
}

impl VarUInt {
    /// Feeds bytes until the integer is complete (`Some`) or the input runs out (`None`).
    #[inline]
    pub(crate) fn feed(&mut self, input: &mut Input<'_>) -> Result<Option<u64>> {
        while let Some((&b, rest)) = input.buf.split_first() {
            if self.shift >= 64 || (self.shift == 63 && b > 1) {
                return Err(input.error("variable-length integer longer than 64 bits"));
            }
            input.buf = rest;
            input.offset += 1;
            self.value |= u64::from(b & 0x7f) << self.shift;
            if b & 0x80 == 0 {
                let v = self.value;
                *self = VarUInt::default();
                return Ok(Some(v));
            }
            self.shift += 7;
        }
        Ok(None)
    }

    /// True when some bytes of an integer have been read.
    pub(crate) fn in_progress(&self) -> bool {
        self.shift > 0
    }
}

/// A LEB128 count, then that many length-prefixed UTF-8 names, read resumably: `Dynamic`'s type names
/// and `JSON`'s dynamic paths. The count and each length are bounded before anything is kept for them.
pub(crate) struct NameList {
    varint: VarUInt,
    count: Option<u64>,
    /// Bytes of the current name still to come, once its length is read.
    pending: Option<u64>,
    name: Vec<u8>,
    names: Vec<String>,
    /// For errors: the owner ("Dynamic column"), what it counts ("types"), one item ("Dynamic type name").
    owner: &'static str,
    items: &'static str,
    item: &'static str,
    max_count: u64,
    max_len: u64,
}

impl NameList {
    pub(crate) fn new(
        owner: &'static str,
        items: &'static str,
        item: &'static str,
        max_count: u64,
        max_len: u64,
    ) -> Self {
        NameList {
            varint: VarUInt::default(),
            count: None,
            pending: None,
            name: Vec::new(),
            names: Vec::new(),
            owner,
            items,
            item,
            max_count,
            max_len,
        }
    }

    /// Reads on; `Some(names)` once the list is complete (the reader is then ready for the next list).
    pub(crate) fn feed(&mut self, input: &mut Input<'_>) -> Result<Option<Vec<String>>> {
        let count = match self.count {
            Some(c) => c,
            None => {
                let Some(n) = self.varint.feed(input)? else { return Ok(None) };
                if n > self.max_count {
                    return Err(
                        input.error(format!("{} declares {n} {} (at most {})", self.owner, self.items, self.max_count))
                    );
                }
                self.names.clear();
                self.count = Some(n);
                n
            }
        };
        while (self.names.len() as u64) < count {
            let left = match self.pending {
                Some(l) => l,
                None => {
                    let Some(n) = self.varint.feed(input)? else { return Ok(None) };
                    if n > self.max_len {
                        return Err(input.error(format!("{} of {n} bytes is too long", self.item)));
                    }
                    self.name.clear();
                    n
                }
            };
            let got = input.take(left as usize);
            self.name.extend_from_slice(got);
            let left = left - got.len() as u64;
            if left > 0 {
                self.pending = Some(left);
                return Ok(None);
            }
            self.pending = None;
            let name = String::from_utf8(std::mem::take(&mut self.name))
                .map_err(|_| input.error(format!("{} is not UTF-8", self.item)))?;
            self.names.push(name);
        }
        self.count = None;
        Ok(Some(std::mem::take(&mut self.names)))
    }
}

/// Appends `v` as LEB128.
#[inline]
pub(crate) fn write_varuint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Appends a length-prefixed string.
#[inline]
pub(crate) fn write_str(out: &mut Vec<u8>, s: &[u8]) {
    write_varuint(out, s.len() as u64);
    out.extend_from_slice(s);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varint_across_chunks() {
        for v in [0u64, 1, 127, 128, 300, u32::MAX as u64, u64::MAX] {
            let mut enc = Vec::new();
            write_varuint(&mut enc, v);
            let mut r = VarUInt::default();
            let mut got = None;
            for (i, b) in enc.iter().enumerate() {
                let mut inp = Input::new(std::slice::from_ref(b), i as u64);
                got = r.feed(&mut inp).unwrap();
            }
            assert_eq!(got, Some(v));
        }
        let mut r = VarUInt::default();
        let bad = [0xffu8; 11];
        assert!(r.feed(&mut Input::new(&bad, 0)).is_err());
    }
}
