//! Harnesses shared by the cargo-fuzz targets in `fuzz/` and by `tests/fuzz_corpus.rs`, which replays
//! every saved corpus input on stable Rust in `scripts/test`. Not part of the public API.

use crate::native::BlockDecoder;
use crate::types::TypeDesc;

/// Decodes `data[8..]` as a Native stream twice — in one piece and in chunks whose sizes come from the
/// seed in `data[..8]` — and checks both give the same blocks or both fail. Never panics on any input
/// except when the two decodings disagree (a real bug).
pub fn decode_native(data: &[u8]) {
    if data.len() < 8 {
        return;
    }
    let (seed, stream) = data.split_at(8);
    let mut seed = u64::from_le_bytes(seed.try_into().unwrap_or([0; 8])) | 1;
    let whole = run(stream, &mut |_| usize::MAX);
    let split = run(stream, &mut |_| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        // Mostly tiny chunks, sometimes large ones.
        if seed % 4 == 0 { (seed >> 8) as usize % 4096 + 1 } else { (seed >> 8) as usize % 7 + 1 }
    });
    match (&whole, &split) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "chunking changed the decoded blocks"),
        (Err(_), Err(_)) => {}
        _ => panic!("chunking changed success: whole={whole:?} split={split:?}"),
    }
}

/// Decodes in chunks and renders every value (Debug form, so NaN compares equal to itself).
fn run(stream: &[u8], next: &mut dyn FnMut(usize) -> usize) -> Result<Vec<String>, String> {
    let mut d = BlockDecoder::new();
    let mut out = Vec::new();
    let mut pos = 0;
    let mut i = 0;
    while pos < stream.len() {
        let n = next(i).min(stream.len() - pos);
        i += 1;
        let mut chunk = &stream[pos..pos + n];
        pos += n;
        loop {
            match d.feed(&mut chunk) {
                Ok(Some(b)) => {
                    let names: Vec<String> =
                        b.columns().iter().map(|c| format!("{}:{}", c.name(), c.type_name())).collect();
                    out.push(format!("block {} rows {}", names.join(","), b.rows()));
                    for r in 0..b.rows().min(10_000) {
                        out.push(format!("{:?}", b.row(r)));
                    }
                }
                Ok(None) => break,
                Err(e) => return Err(e.to_string()),
            }
        }
    }
    d.finish().map_err(|e| e.to_string())?;
    Ok(out)
}

/// Parses `data` as a type name; when it parses, its canonical form must parse to the same type.
pub fn type_grammar(data: &[u8]) {
    let Ok(s) = std::str::from_utf8(data) else { return };
    if let Ok(t) = TypeDesc::parse(s) {
        let canonical = t.to_string();
        let again = TypeDesc::parse(&canonical).unwrap_or_else(|e| panic!("canonical {canonical:?} of {s:?}: {e}"));
        assert_eq!(again, t, "canonical form {canonical:?} of {s:?} parses differently");
    }
}

/// Splits `data[8..]` into chunks seeded by `data[..8]`, for the stream readers.
fn chunked(data: &[u8]) -> Option<(&[u8], Vec<usize>)> {
    if data.len() < 8 {
        return None;
    }
    let (seed, stream) = data.split_at(8);
    let mut seed = u64::from_le_bytes(seed.try_into().unwrap_or([0; 8])) | 1;
    let mut cuts = Vec::new();
    let mut pos = 0;
    while pos < stream.len() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let n = ((seed >> 8) as usize % 5000 + 1).min(stream.len() - pos);
        cuts.push(n);
        pos += n;
    }
    Some((stream, cuts))
}

/// A push reader run over a sequence of chunks: its whole output, or its error as text.
type ChunkRun<'a> = &'a dyn Fn(&mut dyn Iterator<Item = &[u8]>) -> Result<Vec<u8>, String>;

/// Runs a push reader over `stream` whole and in `cuts`; both must agree (output or failure).
fn same_either_way(stream: &[u8], cuts: &[usize], run: ChunkRun<'_>) {
    let whole = run(&mut std::iter::once(stream));
    let mut pos = 0;
    let mut pieces = cuts.iter().map(|&n| {
        let p = &stream[pos..pos + n];
        pos += n;
        p
    });
    let split = run(&mut pieces);
    match (&whole, &split) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "chunking changed the output"),
        (Err(_), Err(_)) => {}
        _ => panic!("chunking changed success: {:?} vs {:?}", whole.is_ok(), split.is_ok()),
    }
}

/// A body decoder on arbitrary bytes, whole and in random chunks.
fn body_decoder<D: crate::transport::BodyDecoder>(data: &[u8], new: fn() -> D) {
    let Some((stream, cuts)) = chunked(data) else { return };
    same_either_way(stream, &cuts, &|chunks| new().decode_all(chunks).map_err(|e| e.to_string()));
}

/// ClickHouse compressed frames (`compress=1`) on arbitrary bytes in random chunks.
pub fn compressed_frames(data: &[u8]) {
    body_decoder(data, crate::transport::compression::FrameReader::new);
}

/// LZ4 frames (`Content-Encoding: lz4`) on arbitrary bytes in random chunks.
pub fn lz4_frames(data: &[u8]) {
    body_decoder(data, crate::transport::lz4frame::Lz4FrameReader::new);
}

/// The response-header and exception parsers on arbitrary text: summary/progress JSON, exception
/// texts in both server forms, and exception trailers at the end of a body. None may panic.
pub fn headers(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = crate::transport::Progress::parse(&text);
    let _ = crate::error::Error::from_server_text(None, &text).to_string();
    let tag = text.get(..16.min(text.len())).unwrap_or("");
    let _ = crate::transport::find_exception(data, Some(tag));
    let _ = crate::transport::find_untagged_exception(data);
}

/// Values from fuzz bytes: a tag byte picks the kind, then its payload; composites nest 3 deep.
fn fuzz_value(data: &mut &[u8], depth: u32) -> crate::Value<'static> {
    use crate::Value;
    fn take<const N: usize>(data: &mut &[u8]) -> [u8; N] {
        let mut out = [0u8; N];
        let n = N.min(data.len());
        out[..n].copy_from_slice(&data[..n]);
        *data = &data[n..];
        out
    }
    let [tag] = take::<1>(data);
    match tag % 24 {
        0 => Value::Null,
        1 => Value::Bool(tag & 0x80 != 0),
        2 => Value::Int8(i8::from_le_bytes(take(data))),
        3 => Value::UInt64(u64::from_le_bytes(take(data))),
        4 => Value::Int64(i64::from_le_bytes(take(data))),
        5 => Value::UInt128(u128::from_le_bytes(take(data))),
        6 => Value::Int128(i128::from_le_bytes(take(data))),
        7 => Value::Int256([u64::from_le_bytes(take(data)), 0, 0, u64::from_le_bytes(take(data))]),
        8 => Value::Float64(f64::from_le_bytes(take(data))),
        9 => Value::Float32(f32::from_le_bytes(take(data))),
        10 => Value::Decimal { raw: i128::from_le_bytes(take(data)) % 10i128.pow(38), scale: take::<1>(data)[0] % 39 },
        11 | 12 => {
            let [n] = take::<1>(data);
            let n = usize::from(n).min(data.len());
            let (s, rest) = data.split_at(n);
            *data = rest;
            Value::String(s.to_vec().into())
        }
        13 => Value::Uuid(u128::from_le_bytes(take(data))),
        14 => Value::Ipv4(u32::from_le_bytes(take(data)).into()),
        15 => Value::Ipv6(u128::from_le_bytes(take(data)).into()),
        16 => Value::Date(u16::from_le_bytes(take(data))),
        17 => Value::DateTime(u32::from_le_bytes(take(data))),
        18 => Value::DateTime64 {
            ticks: i64::from_le_bytes(take(data)) % 10_000_000_000_000,
            precision: take::<1>(data)[0] % 4,
        },
        19 => Value::Time(i32::from_le_bytes(take(data)) % 3_600_000),
        20..=23 if depth < 3 => {
            let [n] = take::<1>(data);
            let items: Vec<Value<'static>> = (0..n % 5).map(|_| fuzz_value(data, depth + 1)).collect();
            match tag % 24 {
                20 | 21 => Value::Array(items),
                22 => Value::Tuple(items),
                _ => Value::Map(
                    items.chunks(2).map(|p| (p[0].clone(), p.get(1).cloned().unwrap_or(Value::Null))).collect(),
                ),
            }
        }
        _ => Value::UInt8(tag),
    }
}

/// Checks that a literal is self-contained: outside its string literals only the characters numbers,
/// calls, arrays and tuples need (no quote of another kind, comment, `;` or brace can appear), and every
/// string literal closes. Returns the decoded contents of its string literals, in order.
fn literal_strings(lit: &str) -> Vec<Vec<u8>> {
    let b = lit.as_bytes();
    let mut strings = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\'' => {
                let mut s = Vec::new();
                i += 1;
                loop {
                    match b.get(i) {
                        None => panic!("unterminated string literal in {lit:?}"),
                        Some(b'\'') => break,
                        Some(b'\\') => {
                            match b.get(i + 1) {
                                Some(b'x') => {
                                    let hex = lit.get(i + 2..i + 4).unwrap_or_else(|| panic!("short \\x in {lit:?}"));
                                    s.push(
                                        u8::from_str_radix(hex, 16).unwrap_or_else(|_| panic!("bad \\x in {lit:?}")),
                                    );
                                    i += 2;
                                }
                                Some(&c @ (b'\\' | b'\'')) => s.push(c),
                                other => panic!("unexpected escape {other:?} in {lit:?}"),
                            }
                            i += 2;
                            continue;
                        }
                        Some(&c) => {
                            assert!(c >= 0x20 && c != 0x7f && c != b'$', "raw control byte or `$` in {lit:?}");
                            s.push(c);
                        }
                    }
                    i += 1;
                }
                strings.push(s);
                i += 1;
            }
            b'$' => panic!("a `$` could close a heredoc: {lit:?}"),
            c => {
                assert!(
                    c.is_ascii_alphanumeric() || b"_.,()[] -+".contains(&c),
                    "byte {c:?} outside a string literal in {lit:?}"
                );
                assert!(!lit[i..].starts_with("--"), "comment start in {lit:?}");
                i += 1;
            }
        }
    }
    strings
}

/// How a query lexes for one generation of the server's lexer (0: up to 20.9, flat `/* */` comments,
/// `$` an identifier character; 1: 20.10 to 21.8, comments nest; 2: 21.9 to 22.1, heredocs with any
/// tag; 3: 22.2 to 25.7, also `# ` / `#!` comments; 4: 25.8 and newer, heredoc tags of word characters).
/// Written apart from `params::lex` on purpose, from the same rules (see its docs): the state at the end
/// (0 code, 1–3 inside a `'`, `"` or `` ` `` quote, 4 a line comment, 5 a block comment) and the text of
/// every comment, heredoc and quoted identifier, in order — none of which a literal may add, remove or
/// change.
fn lex_shape(sql: &str, generation: usize) -> (u8, Vec<String>) {
    let nested = generation >= 1;
    let hash = generation >= 3;
    let heredocs = [0u8, 0, 1, 1, 2][generation];
    let b = sql.as_bytes();
    let mut kept = Vec::new();
    let text = |from: usize, to: usize| String::from_utf8_lossy(&b[from..to]).into_owned();
    // 0: not in a word, 1: in an identifier (a `$` there is part of it), 2: in a number.
    let mut word = 0u8;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'$' && word != 1 && heredocs > 0 {
            if let Some(t) = b[i + 1..].iter().position(|&x| x == b'$') {
                let tag = &b[i + 1..i + 1 + t];
                if heredocs == 1 || tag.iter().all(|x| x.is_ascii_alphanumeric() || *x == b'_') {
                    let delimiter = &b[i..i + t + 2];
                    if let Some(p) = b[i + t + 2..].windows(delimiter.len()).position(|w| w == delimiter) {
                        let end = i + t + 2 + p + delimiter.len();
                        kept.push(text(i, end));
                        i = end;
                        word = 0;
                        continue;
                    }
                }
            }
        }
        let next = b.get(i + 1).copied();
        if let Some(q) = [b'\'', b'"', b'`'].iter().position(|&q| q == c) {
            let mut j = i + 1;
            loop {
                match b.get(j) {
                    None => return (q as u8 + 1, kept),
                    Some(&x) if x == c && b.get(j + 1) == Some(&c) => j += 2,
                    Some(&x) if x == c => break,
                    Some(b'\\') if j + 1 >= b.len() => return (q as u8 + 1, kept),
                    Some(b'\\') => j += 2,
                    Some(_) => j += 1,
                }
            }
            if c != b'\'' {
                kept.push(text(i, j + 1));
            }
            i = j + 1;
            word = 0;
            continue;
        }
        let line = (c == b'-' && next == Some(b'-'))
            || (c == b'/' && next == Some(b'/'))
            || (hash && c == b'#' && matches!(next, Some(b' ' | b'!')));
        if line {
            let Some(nl) = b[i..].iter().position(|&x| x == b'\n') else { return (4, kept) };
            kept.push(text(i, i + nl));
            i += nl;
            word = 0;
            continue;
        }
        if c == b'/' && next == Some(b'*') {
            let mut depth = 1;
            let mut j = i + 2;
            loop {
                if j + 1 >= b.len() {
                    return (5, kept);
                }
                if nested && b[j] == b'/' && b[j + 1] == b'*' {
                    depth += 1;
                    j += 2;
                } else if b[j] == b'*' && b[j + 1] == b'/' {
                    depth -= 1;
                    j += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    j += 1;
                }
            }
            kept.push(text(i, j));
            i = j;
            word = 0;
            continue;
        }
        word = match c {
            b'$' => 1,
            c if c.is_ascii_alphanumeric() || c == b'_' => {
                if word == 0 {
                    if c.is_ascii_digit() { 2 } else { 1 }
                } else {
                    word
                }
            }
            _ => 0,
        };
        i += 1;
    }
    (0, kept)
}

/// Every generation's [`lex_shape`] of `real` (values bound) equals that of `zero` (every value `0` or
/// empty).
fn same_shape(sql: &str, real: &str, zero: &str) {
    for generation in 0..5 {
        let (a, b) = (lex_shape(real, generation), lex_shape(zero, generation));
        assert_eq!(a, b, "generation {generation}: {sql:?} became {real:?} (with zeros {zero:?})");
    }
}

/// String contents of a value, in the order its literal writes them (strings only; dates, addresses
/// and the like are also quoted, but their text is ASCII produced by us).
fn value_strings(v: &crate::Value<'_>, out: &mut Vec<Vec<u8>>) {
    use crate::Value;
    match v {
        Value::String(s) | Value::FixedString(s) => out.push(s.to_vec()),
        Value::Array(items) | Value::Tuple(items) => items.iter().for_each(|x| value_strings(x, out)),
        Value::Map(entries) => entries.iter().for_each(|(k, x)| {
            value_strings(k, out);
            value_strings(x, out);
        }),
        _ => {}
    }
}

/// The parameter formatter and placeholder scanners: `data` is a query (up to the first NUL) and then
/// values. Nothing may panic; every literal must be self-contained, its strings must decode back to
/// exactly the bytes given, and the text around the placeholders must come through unchanged.
pub fn params(data: &[u8]) {
    let split = data.iter().position(|&b| b == 0).unwrap_or(data.len());
    let sql = String::from_utf8_lossy(&data[..split]).into_owned();
    let mut rest = data.get(split + 1..).unwrap_or(&[]);
    let mut values = Vec::new();
    while !rest.is_empty() && values.len() < 8 {
        values.push(fuzz_value(&mut rest, 0));
    }
    // Each value alone: self-contained, its strings intact and in order (other quoted texts — dates,
    // addresses — may come between them).
    let mut writer = crate::params::LiteralWriter::new();
    for v in &values {
        let mut lit = String::new();
        writer.write(&mut lit, v);
        let mut want = Vec::new();
        value_strings(v, &mut want);
        let mut want = want.iter().peekable();
        for s in literal_strings(&lit) {
            if want.peek().is_some_and(|w| **w == s) {
                want.next();
            }
        }
        assert!(want.next().is_none(), "strings of {v:?} not all found intact in {lit:?}");
    }
    // The query, positional and named: where it formats, it must lex like it does with every value
    // replaced by `0`, for every generation of the server's lexer — no value opened or closed a quote,
    // comment or heredoc.
    let named: Vec<(String, crate::Value<'static>)> =
        values.iter().enumerate().map(|(i, v)| (format!("p{i}"), v.clone())).collect();
    let zeros: Vec<crate::Value<'static>> = values.iter().map(|_| crate::Value::UInt8(0)).collect();
    let named_zeros: Vec<(String, crate::Value<'static>)> =
        named.iter().map(|(n, _)| (n.clone(), crate::Value::UInt8(0))).collect();
    for (real, zero) in [
        (crate::params::format_query(&sql, &[], &values), crate::params::format_query(&sql, &[], &zeros)),
        (crate::params::format_query(&sql, &named, &[]), crate::params::format_query(&sql, &named_zeros, &[])),
    ] {
        match (real, zero) {
            (Ok(real), Ok(zero)) => same_shape(&sql, &real, &zero),
            (Err(_), Err(_)) => {}
            (a, b) => panic!("values changed whether {sql:?} formats: {a:?} vs {b:?}"),
        }
    }
    // Server-side scanning and checks on any text (types with huge sizes are the user's own choice and
    // only cost memory, so they are left out). Substituted on the client, strings must leave the query
    // lexing as it does with empty strings.
    let placeholders = crate::params::server_placeholders(&sql);
    if placeholders.iter().all(|p| !p.type_name.bytes().any(|c| c.is_ascii_digit()) || p.type_name.len() < 40) {
        let huge = placeholders.iter().any(|p| p.type_name.split(|c: char| !c.is_ascii_digit()).any(|d| d.len() > 4));
        if !huge {
            let mut r = crate::format::TextRenderer::new("UTC");
            let _ = crate::params::server_params(&sql, &named, &mut r);
            let empty: Vec<(String, crate::Value<'static>)> = named
                .iter()
                .map(|(n, v)| match v {
                    crate::Value::String(_) => (n.clone(), crate::Value::String(Vec::new().into())),
                    v => (n.clone(), v.clone()),
                })
                .collect();
            let real = crate::params::substitute_server_placeholders(&sql, &named);
            let zero = crate::params::substitute_server_placeholders(&sql, &empty);
            if let (Ok(real), Ok(zero)) = (&real, &zero) {
                same_shape(&sql, real, zero);
            }
        }
    }
}

/// The insert readers (`JSONEachRow`, TSV, CSV) on arbitrary bytes: the first byte picks the format and
/// a table shape from a fixed set covering every kind of column; nothing may panic, and a reader stops
/// at its first error. Rows that are not canonical go to a stand-in for the server that rejects every
/// other batch and reads the rest as rows of defaults, so both paths of the reader run.
pub fn readers(data: &[u8]) {
    use crate::format::input::{ServerParser, ServerVerdict, TextRows};
    use crate::format::read::InputFormat;
    struct Alternating(usize, usize);
    impl ServerParser for Alternating {
        fn parse(&mut self, _: InputFormat, data: &[u8], _: bool) -> crate::Result<ServerVerdict> {
            self.0 += 1;
            let rows = memchr::memchr_iter(b'\n', data).count();
            Ok(if self.0 % 2 == 0 {
                ServerVerdict::Rejected { row: Some((self.0 % 3) as u64), message: "rejected".into() }
            } else {
                ServerVerdict::Rows(vec![Vec::new(); rows.min(self.1)])
            })
        }
    }
    const SHAPES: &[&[&str]] = &[
        &["UInt8", "String", "Nullable(Int64)"],
        &["Array(Nullable(String))", "Map(String, Array(UInt16))", "Tuple(a Decimal(20, 4), b Date)"],
        &["DateTime64(3, 'Asia/Tokyo')", "UUID", "IPv6", "Enum8('a' = 1, 'b\\'' = 2)", "Float32"],
        &["LowCardinality(Nullable(String))", "FixedString(3)", "Int256", "Decimal(76, 30)", "Bool"],
        &["Nested(x UInt8, y Array(String))", "Point", "Ring", "Time64(3)", "IPv4", "Date32"],
    ];
    let Some((&pick, input)) = data.split_first() else { return };
    let format = [InputFormat::JsonEachRow, InputFormat::TabSeparated, InputFormat::Csv][usize::from(pick) % 3];
    let shape = SHAPES[usize::from(pick / 3) % SHAPES.len()];
    let columns: Vec<(String, TypeDesc)> =
        shape.iter().enumerate().filter_map(|(i, t)| Some((format!("c{i}"), TypeDesc::parse(t).ok()?))).collect();
    let server = Box::new(Alternating(0, 100_000));
    let Ok(mut r) = TextRows::new(format, input, columns.clone(), "UTC", true, server) else { return };
    let mut row = Vec::new();
    for _ in 0..10_000 {
        match crate::format::read::RowReader::next_row(&mut r, &mut row) {
            // The stand-in's rows are empty; the reader's own have one value per column.
            Ok(true) => assert!(row.is_empty() || row.len() == columns.len(), "a row has one value per column"),
            Ok(false) | Err(_) => break,
        }
    }
}
