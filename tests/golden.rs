//! Golden files: Native responses captured from the real servers (26.9 and 18.16) with the SQL that made
//! them and the servers' own TabSeparated and JSONEachRow renderings of the same rows
//! (`scripts/capture-golden`). Decoding each file — whole and in random chunk splits — and rendering it
//! must reproduce the server's renderings byte for byte.

use clickhouse_connect::Value;
use clickhouse_connect::format::TextRenderer;
use clickhouse_connect::native::{BlockDecoder, TypeDesc};
use std::path::{Path, PathBuf};

struct Decoded {
    names: Vec<String>,
    types: Vec<TypeDesc>,
    rows: Vec<Vec<Value<'static>>>,
}

fn decode(bytes: &[u8], block_info: bool, split: &mut dyn FnMut() -> usize) -> Decoded {
    let mut d = if block_info { BlockDecoder::with_block_info() } else { BlockDecoder::new() };
    let mut out = Decoded { names: vec![], types: vec![], rows: vec![] };
    let mut pos = 0;
    while pos < bytes.len() {
        let n = split().clamp(1, bytes.len() - pos);
        let mut chunk = &bytes[pos..pos + n];
        pos += n;
        while let Some(b) = d.feed(&mut chunk).unwrap() {
            if out.names.is_empty() {
                out.names = b.columns().iter().map(|c| c.name().to_string()).collect();
                out.types = b.columns().iter().map(|c| c.desc().clone()).collect();
            }
            for r in 0..b.rows() {
                out.rows.push(b.row(r).into_iter().map(Value::into_owned).collect());
            }
        }
    }
    d.finish().unwrap();
    out
}

fn files(server: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(server);
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "native"))
        .collect();
    v.sort();
    assert!(!v.is_empty(), "no golden files in {}", dir.display());
    v
}

fn check(server: &str, block_info: bool) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(server);
    let tz = std::fs::read_to_string(dir.join("timezone")).unwrap();
    for native in files(server) {
        let bytes = std::fs::read(&native).unwrap();
        let whole = decode(&bytes, block_info, &mut || usize::MAX);
        let mut seed = 0x2545F4914F6CDD1Du64;
        let split = decode(&bytes, block_info, &mut || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % 97) as usize + 1
        });
        assert_eq!(
            format!("{:?}", whole.rows),
            format!("{:?}", split.rows),
            "{}: chunking changed rows",
            native.display()
        );

        // 18.16 prints zero dates as 0000-00-00 and keeps decimal trailing zeros.
        let mut r = TextRenderer::new(tz.trim()).with_legacy_formatting(!block_info);
        let mut tsv = Vec::new();
        for row in &whole.rows {
            for (i, (v, t)) in row.iter().zip(&whole.types).enumerate() {
                if i > 0 {
                    tsv.push(b'\t');
                }
                r.write_tsv(&mut tsv, v, t);
            }
            tsv.push(b'\n');
        }
        let want = std::fs::read(native.with_extension("tsv")).unwrap();
        if tsv != want {
            let (a, b) = (String::from_utf8_lossy(&tsv), String::from_utf8_lossy(&want));
            let line = a.lines().zip(b.lines()).find(|(x, y)| x != y);
            panic!("{}: TSV differs, first differing line (ours, server): {line:?}", native.display());
        }

        let json_path = native.with_extension("json");
        if json_path.exists() {
            let names: Vec<&str> = whole.names.iter().map(String::as_str).collect();
            let mut json = Vec::new();
            for row in &whole.rows {
                r.write_json_row(&mut json, &names, row, &whole.types);
                json.push(b'\n');
            }
            let want = std::fs::read(&json_path).unwrap();
            assert!(json == want, "{}: JSONEachRow differs", native.display());
        }
        assert!(!whole.rows.is_empty(), "{}: no rows", native.display());
    }
}

#[test]
fn modern_golden_files_decode_to_the_server_renderings() {
    check("modern", true);
}

#[test]
fn legacy_golden_files_decode_to_the_server_renderings() {
    check("legacy", false);
}
