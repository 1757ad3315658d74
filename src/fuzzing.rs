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
