//! Harnesses shared by the cargo-fuzz targets in `fuzz/` and by `tests/fuzz_corpus.rs`, which replays
//! every saved corpus input on stable Rust in `scripts/test`. Not part of the public API.

use crate::native::{BlockDecoder, TypeDesc};

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

/// ClickHouse compressed frames (`compress=1`) on arbitrary bytes in random chunks.
pub fn compressed_frames(data: &[u8]) {
    let Some((stream, cuts)) = chunked(data) else { return };
    same_either_way(stream, &cuts, &|chunks| {
        let mut r = crate::transport::compression::FrameReader::new();
        let mut out = Vec::new();
        for c in chunks {
            r.feed(c, &mut |b| {
                out.extend_from_slice(b);
                Ok(())
            })
            .map_err(|e| e.to_string())?;
        }
        r.finish().map_err(|e| e.to_string())?;
        Ok(out)
    });
}

/// LZ4 frames (`Content-Encoding: lz4`) on arbitrary bytes in random chunks.
pub fn lz4_frames(data: &[u8]) {
    let Some((stream, cuts)) = chunked(data) else { return };
    same_either_way(stream, &cuts, &|chunks| {
        let mut r = crate::transport::lz4frame::Lz4FrameReader::new();
        let mut out = Vec::new();
        for c in chunks {
            r.feed(c, &mut |b| {
                out.extend_from_slice(b);
                Ok(())
            })
            .map_err(|e| e.to_string())?;
        }
        r.finish().map_err(|e| e.to_string())?;
        Ok(out)
    });
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
