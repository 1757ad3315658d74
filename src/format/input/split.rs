//! Finding where rows end, as the server's readers find it, without reading any value.
//!
//! - `TabSeparated`: a row ends at a line feed that is not escaped (a backslash escapes whatever byte
//!   follows it, a line feed included; `\x` the two bytes after it).
//! - `CSV`: a row ends at a line feed outside double quotes; a field is quoted when its first byte
//!   (after spaces and tabs) is `"`, and a quoted field ends at a `"` not followed by another `"`.
//! - `JSONEachRow`: a row is one `{…}` object (braces and brackets matched outside strings: inside `[`
//!   only `]` closes, inside `{` only `}`, as the server reads such text for a String); whitespace and commas
//!   between objects are skipped. Anything else is a row up to the end of its line (the reader hands
//!   it to the server, which says what is wrong with it).
//!
//! A row is handed out with the bytes that end it and the line it starts on. Input is read in chunks;
//! a row longer than a chunk makes the buffer grow (up to [`MAX_ROW`], then it is an error).

use super::Format;
use std::io::BufRead;

/// The longest row the readers take (a longer one is an error, not an allocation without bound).
pub const MAX_ROW: usize = 1 << 30;

/// Splits a byte stream into rows.
pub(crate) struct Splitter<R> {
    input: R,
    format: Format,
    buf: Vec<u8>,
    /// Start of the unread bytes in `buf`.
    pos: usize,
    eof: bool,
    /// Line of `buf[pos]`.
    line: u64,
    /// Whether the input began with a UTF-8 byte order mark (it stays in the first row's bytes).
    pub(crate) bom: bool,
    started: bool,
    /// No row handed out yet.
    first: bool,
    /// Inside a JSON array of rows (`[{…},{…}]`, which the server also reads as rows), right after a
    /// row of it, and after its end.
    in_array: bool,
    after_row: bool,
    closed: bool,
    csv: CsvDialect,
}

/// How CSV rows are quoted and delimited (the server's `format_csv_*` settings).
#[derive(Clone, Copy, Debug)]
pub struct CsvDialect {
    /// `format_csv_delimiter`.
    pub delimiter: u8,
    /// `format_csv_allow_double_quotes`.
    pub double_quotes: bool,
    /// `format_csv_allow_single_quotes`.
    pub single_quotes: bool,
}

impl Default for CsvDialect {
    fn default() -> Self {
        CsvDialect { delimiter: b',', double_quotes: true, single_quotes: false }
    }
}

/// One row: `buf[start..end]` of the splitter, and the 1-based line it starts on.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RowSpan {
    pub start: usize,
    pub end: usize,
    pub line: u64,
    /// Not a row: where a JSON array of rows breaks its rules, and how.
    pub refused: Option<&'static str>,
}

impl<R: BufRead> Splitter<R> {
    pub(crate) fn new(input: R, format: Format) -> Self {
        Splitter {
            input,
            format,
            buf: Vec::new(),
            pos: 0,
            eof: false,
            line: 1,
            bom: false,
            started: false,
            first: true,
            in_array: false,
            after_row: false,
            closed: false,
            csv: CsvDialect::default(),
        }
    }

    /// Splits CSV as the server does with these settings.
    pub(crate) fn with_csv_dialect(mut self, csv: CsvDialect) -> Self {
        self.csv = csv;
        self
    }

    /// The format split.
    pub(crate) fn format(&self) -> Format {
        self.format
    }

    /// The bytes of a row handed out by the last [`Splitter::next`].
    pub(crate) fn bytes(&self, span: RowSpan) -> &[u8] {
        &self.buf[span.start..span.end]
    }

    /// Reads more input; false at its end.
    fn fill(&mut self) -> std::io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        // Whatever the input has ready (a pipe's rows are read as they come).
        let chunk = loop {
            match self.input.fill_buf() {
                Ok(c) => break c,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        };
        let n = chunk.len();
        self.buf.extend_from_slice(chunk);
        self.input.consume(n);
        if n == 0 {
            self.eof = true;
        }
        Ok(n > 0)
    }

    /// The next row, or None at the end of the input.
    pub(crate) fn next(&mut self) -> std::io::Result<Option<RowSpan>> {
        if !self.started {
            self.started = true;
            while self.buf.len() < 3 && self.fill()? {}
            self.bom = self.buf.starts_with(b"\xEF\xBB\xBF");
            if self.bom && self.format == Format::Json {
                // The server skips it; JSON has no first-row rules it could change.
                self.pos = 3;
                self.bom = false;
            }
        }
        loop {
            // The byte order mark stays in the first row's bytes (the server skips it; the reader
            // decides what to do with a row that has one).
            let keep_bom = self.first && self.bom;
            let mut at = if keep_bom { self.pos + 3 } else { self.pos };
            if self.format == Format::Json {
                // Between JSON rows: whitespace and commas, and the brackets of an array of rows (whose
                // commas must each stand between two rows, and after whose end only whitespace may
                // follow). A break of those rules is a row of its own: the rest of the line, for the
                // server to refuse.
                let mut malformed = false;
                while let Some(&c) = self.buf.get(at) {
                    match c {
                        b'\n' if !keep_bom => self.line += 1,
                        b'\n' => {}
                        b' ' | b'\t' | b'\r' | 0x0C => {}
                        _ if self.closed => {
                            malformed = true;
                            break;
                        }
                        // One comma after a row, no other (the server's rule, in an array or not).
                        b',' if !self.after_row => {
                            malformed = true;
                            break;
                        }
                        b',' => self.after_row = false,
                        0xEF if self.buf.get(at + 1..at + 3) == Some(b"\xBB\xBF") => {
                            // A byte order mark anywhere but at the very start.
                            malformed = true;
                            break;
                        }
                        b'[' if self.first && !self.in_array => self.in_array = true,
                        b']' if self.in_array && self.after_row => {
                            self.in_array = false;
                            self.closed = true;
                        }
                        b']' if self.in_array && self.first => {
                            self.in_array = false;
                            self.closed = true;
                        }
                        b']' if self.in_array => {
                            malformed = true;
                            break;
                        }
                        _ => break,
                    }
                    at += 1;
                }
                if !keep_bom {
                    self.pos = at;
                }
                if malformed {
                    let end = memchr::memchr(b'\n', &self.buf[at..]).map_or(self.buf.len(), |p| at + p + 1);
                    let reason = if self.closed {
                        "text after the array of rows"
                    } else if self.buf[at] == 0xEF {
                        "a byte order mark inside the input"
                    } else {
                        "a comma without a row"
                    };
                    self.closed = false;
                    self.in_array = false;
                    let mut span = self.take(end);
                    span.refused = Some(reason);
                    return Ok(Some(span));
                }
            }
            if at < self.buf.len() {
                if let Some(end) = scan(self.format, &self.buf, at, self.csv) {
                    return Ok(Some(self.take(end)));
                }
            }
            if self.buf.len() - self.pos > MAX_ROW {
                return Err(std::io::Error::other(format!("a row longer than {MAX_ROW} bytes")));
            }
            // Read at least as much again as the row so far before scanning it again (a long row is
            // scanned a logarithmic number of times, not once per chunk).
            // Short rows are scanned after every read (a pipe's rows go on as they come).
            let before = self.buf.len() - self.pos;
            let target = if before < 1 << 16 { 1 } else { before };
            let mut more = false;
            while self.buf.len() - self.pos < before + target && self.fill()? {
                more = true;
            }
            if !more {
                if self.in_array && self.buf[self.pos..].iter().all(u8::is_ascii_whitespace) {
                    // An array of rows never closed.
                    self.in_array = false;
                    let end = self.buf.len();
                    let mut span = self.take(end);
                    span.refused = Some("expected ']' at the end of the input");
                    return Ok(Some(span));
                }
                if self.pos >= self.buf.len() {
                    return Ok(None);
                }
                // The last row, without an end.
                let end = self.buf.len();
                return Ok(Some(self.take(end)));
            }
        }
    }

    fn take(&mut self, end: usize) -> RowSpan {
        self.first = false;
        self.after_row = true;
        let span = RowSpan { start: self.pos, end, line: self.line, refused: None };
        self.line += memchr::memchr_iter(b'\n', &self.buf[self.pos..end]).count() as u64;
        self.pos = end;
        span
    }
}

/// The end (exclusive, after its terminator) of the row starting at `from`, if `buf` holds all of it.
fn scan(format: Format, buf: &[u8], from: usize, csv: CsvDialect) -> Option<usize> {
    match format {
        Format::Tsv => {
            let mut i = from;
            loop {
                let p = memchr::memchr2(b'\\', b'\n', &buf[i..])?;
                if buf[i + p] == b'\n' {
                    return Some(i + p + 1);
                }
                // `\xHH` takes the two bytes after the x, whatever they are; any other escape one.
                i += p + if buf.get(i + p + 1) == Some(&b'x') { 4 } else { 2 };
                if i > buf.len() {
                    return None;
                }
            }
        }
        Format::Csv => {
            let mut i = from;
            loop {
                // A field starts here.
                while matches!(buf.get(i), Some(b' ' | b'\t')) {
                    i += 1;
                }
                let quote = match buf.get(i) {
                    Some(b'"') if csv.double_quotes => Some(b'"'),
                    Some(b'\'') if csv.single_quotes => Some(b'\''),
                    _ => None,
                };
                if let Some(q) = quote {
                    i += 1;
                    loop {
                        let p = memchr::memchr(q, &buf[i..])?;
                        i += p + 1;
                        match buf.get(i) {
                            Some(&c) if c == q => i += 1,
                            Some(_) => break,
                            None => return None,
                        }
                    }
                }
                let p = memchr::memchr2(csv.delimiter, b'\n', &buf[i..])?;
                i += p + 1;
                if buf[i - 1] == b'\n' {
                    return Some(i);
                }
            }
        }
        Format::Json => {
            if buf[from] != b'{' {
                return memchr::memchr(b'\n', &buf[from..]).map(|p| from + p + 1);
            }
            // Open brackets and braces; inside a `[` only `]` closes (a `}` there is text to the
            // server, which reads such an array as a String's text), inside a `{` only `}`.
            let mut open = OpenBrackets::default();
            let mut i = from;
            loop {
                let p = buf[i..].iter().position(|&c| matches!(c, b'"' | b'{' | b'}' | b'[' | b']'))?;
                i += p;
                match buf[i] {
                    b'{' => open.push(false),
                    b'[' => open.push(true),
                    c @ (b'}' | b']') => {
                        if open.top() == Some(c == b']') {
                            open.pop();
                            if open.depth == 0 {
                                return Some(i + 1);
                            }
                        }
                    }
                    _ => {
                        // A string: to its closing quote.
                        i += 1;
                        loop {
                            let q = memchr::memchr2(b'"', b'\\', &buf[i..])?;
                            i += q;
                            if buf[i] == b'"' {
                                break;
                            }
                            i += 2;
                            if i > buf.len() {
                                return None;
                            }
                        }
                    }
                }
                i += 1;
            }
        }
    }
}

/// A stack of open brackets (`true`) and braces (`false`): the first 128 as bits, deeper ones in a
/// vector (no allocation for any row nested less deeply).
#[derive(Default)]
struct OpenBrackets {
    bits: u128,
    deeper: Vec<bool>,
    depth: usize,
}

impl OpenBrackets {
    fn push(&mut self, bracket: bool) {
        if self.depth < 128 {
            self.bits = (self.bits & !(1 << self.depth)) | (u128::from(bracket) << self.depth);
        } else {
            self.deeper.push(bracket);
        }
        self.depth += 1;
    }

    fn top(&self) -> Option<bool> {
        match self.depth {
            0 => None,
            d if d <= 128 => Some(self.bits >> (d - 1) & 1 == 1),
            _ => self.deeper.last().copied(),
        }
    }

    fn pop(&mut self) {
        if self.depth > 128 {
            self.deeper.pop();
        }
        self.depth = self.depth.saturating_sub(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(format: Format, input: &[u8]) -> Vec<(String, u64)> {
        let mut s = Splitter::new(input, format);
        let mut out = Vec::new();
        while let Some(r) = s.next().unwrap() {
            out.push((String::from_utf8_lossy(s.bytes(r)).into_owned(), r.line));
        }
        out
    }

    #[test]
    fn rows_end_where_the_server_ends_them() {
        assert_eq!(
            rows(Format::Tsv, b"a\\\nb\tc\nd\\\\\ne"),
            vec![("a\\\nb\tc\n".into(), 1), ("d\\\\\n".into(), 3), ("e".into(), 4)]
        );
        assert_eq!(
            rows(Format::Csv, b"\"a\nb\",1\n \"x\"\"\n\",2\nlast"),
            vec![("\"a\nb\",1\n".into(), 1), (" \"x\"\"\n\",2\n".into(), 3), ("last".into(), 5)]
        );
        assert_eq!(
            rows(Format::Json, b"{\"a\":\"}\\\"{\"}\n\n ,{\"b\":{\"c\":1}}{}\n[1]\nx"),
            vec![
                ("{\"a\":\"}\\\"{\"}".into(), 1),
                ("{\"b\":{\"c\":1}}".into(), 3),
                ("{}".into(), 3),
                ("[1]\n".into(), 4),
                ("x".into(), 5)
            ]
        );
        // An array of rows, over several lines.
        assert_eq!(
            rows(Format::Json, b"[\n{\"a\":1},\n{\"a\":[2]}\n]\n"),
            vec![("{\"a\":1}".into(), 2), ("{\"a\":[2]}".into(), 3)]
        );
        // Inside brackets a brace is text (and the other way round); nesting deeper than the bits of
        // the stack.
        assert_eq!(
            rows(Format::Json, b"{\"s\":[1},2,3]}\n{\"t\":{]}}"),
            vec![("{\"s\":[1},2,3]}".into(), 1), ("{\"t\":{]}}".into(), 2)]
        );
        let deep = format!("{{\"s\":{}{}}}", "[{".repeat(150), "}]".repeat(150));
        assert_eq!(rows(Format::Json, format!("{deep}\n{{}}").as_bytes()), vec![(deep.clone(), 1), ("{}".into(), 2)]);
        // Unterminated: the rest of the input is the last row.
        assert_eq!(rows(Format::Json, b"{\"a\":\"x}\n"), vec![("{\"a\":\"x}\n".into(), 1)]);
        assert_eq!(rows(Format::Csv, b"\"a,b\n"), vec![("\"a,b\n".into(), 1)]);
    }
}
