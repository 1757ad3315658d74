//! The crate's module graph, read from its source: no cycle between files, and no arrow running back up
//! the layers (the type grammar imports nothing of the codec; transport and codec never import the
//! facade). docs/ARCHITECTURE.md draws the same map.
//!
//! Every `crate::…` and `super::…` path in code (comments and `#[cfg(test)]` modules left out) is
//! resolved to the file of the deepest module it names; a module's own `mod.rs` declaring or
//! re-exporting its children is not an edge (that is how Rust spells a module tree, not a dependency).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Top-level modules, bottom layer first; each may use only those before it (and itself).
const LAYERS: &[&str] = &[
    "error",
    "types",
    "value",
    "native",
    "format",
    "params",
    "transport",
    "client",
    "arrow",
    "polars",
    "row",
    "fuzzing",
];

/// Which lower layers a layer may not use although they come before it (independent pillars).
const APART: &[(&str, &str)] = &[
    // The transport moves bytes; it knows nothing of types, values, the codec or text formats.
    ("transport", "types"),
    ("transport", "value"),
    ("transport", "native"),
    ("transport", "format"),
    ("transport", "params"),
];

fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap();
    let mut parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    let last = parts.pop().unwrap();
    match last.as_str() {
        "lib.rs" | "mod.rs" => {}
        other => parts.push(other.trim_end_matches(".rs").to_string()),
    }
    parts
}

fn file_of(src: &Path, module: &[String]) -> Option<PathBuf> {
    if module.is_empty() {
        return Some(src.join("lib.rs"));
    }
    let base = module.iter().fold(src.to_path_buf(), |p, m| p.join(m));
    let flat = base.with_extension("rs");
    if flat.is_file() {
        return Some(flat);
    }
    let dir = base.join("mod.rs");
    dir.is_file().then_some(dir)
}

/// Code without comments, strings' contents and the trailing `#[cfg(test)]` module.
fn code_of(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(i) => &text[..i],
        None => text,
    };
    let mut out = String::new();
    for line in text.lines() {
        let line = line.trim_start();
        if line.starts_with("//") {
            continue;
        }
        let line = match line.find("//") {
            Some(i) if !line[..i].contains('"') => &line[..i],
            _ => line,
        };
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// Expands `a::{b, c::{d, e}}` into paths.
fn expand(path: &str) -> Vec<String> {
    let Some(open) = path.find('{') else { return vec![path.trim().trim_end_matches("::").to_string()] };
    let prefix = &path[..open];
    let inner = &path[open + 1..path.rfind('}').unwrap_or(path.len())];
    let mut items = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(&inner[start..]);
    items
        .into_iter()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .flat_map(|item| expand(&format!("{prefix}{item}")))
        .collect()
}

/// The paths a file's code names, starting at `crate` or `super`.
fn paths_in(code: &str) -> Vec<String> {
    let bytes = code.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < code.len() {
        let rest = &code[i..];
        let starts = (rest.starts_with("crate::") || rest.starts_with("super::"))
            && (i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_' || bytes[i - 1] == b':'));
        if !starts {
            i += rest.chars().next().map_or(1, char::len_utf8);
            continue;
        }
        let mut end = 0;
        let mut depth = 0;
        for (j, c) in rest.char_indices() {
            match c {
                '{' => depth += 1,
                '}' if depth > 0 => depth -= 1,
                c if depth > 0 || c.is_alphanumeric() || c == '_' || c == ':' => {}
                _ => {
                    end = j;
                    break;
                }
            }
            end = j + c.len_utf8();
        }
        out.extend(expand(&rest[..end]));
        i += end.max(1);
    }
    out
}

fn resolve(src: &Path, from: &[String], path: &str) -> Option<Vec<String>> {
    let mut segs = path.split("::").map(str::trim).filter(|s| !s.is_empty());
    let mut module: Vec<String> = match segs.next()? {
        "crate" => Vec::new(),
        "super" => from[..from.len().checked_sub(1)?].to_vec(),
        _ => return None,
    };
    for s in segs {
        if s == "super" {
            module.pop();
            continue;
        }
        let mut deeper = module.clone();
        deeper.push(s.split_whitespace().next().unwrap_or(s).to_string());
        if file_of(src, &deeper).is_some() {
            module = deeper;
        } else {
            break;
        }
    }
    Some(module)
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Every file-to-file edge of the crate, keyed by module path.
fn graph() -> BTreeMap<Vec<String>, BTreeSet<Vec<String>>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut edges = BTreeMap::new();
    for f in files {
        let from = module_of(&src, &f);
        let is_parent = f.file_name().is_some_and(|n| n == "mod.rs" || n == "lib.rs");
        let code = code_of(&std::fs::read_to_string(&f).unwrap());
        let mut to = BTreeSet::new();
        for p in paths_in(&code) {
            let Some(target) = resolve(&src, &from, &p) else { continue };
            let declares_child = is_parent && target.len() > from.len() && target.starts_with(&from);
            if target != from && !declares_child {
                to.insert(target);
            }
        }
        edges.insert(from, to);
    }
    edges
}

#[test]
fn no_arrow_runs_back_up_the_layers() {
    let layer = |m: &[String]| m.first().and_then(|top| LAYERS.iter().position(|l| l == top));
    let mut wrong = Vec::new();
    for (from, tos) in graph() {
        let Some(a) = layer(&from) else { continue };
        for to in tos {
            let Some(b) = layer(&to) else { continue };
            let apart = APART.iter().any(|(x, y)| *x == LAYERS[a] && *y == LAYERS[b]);
            if b > a || apart {
                wrong.push(format!("{} -> {}", from.join("::"), to.join("::")));
            }
        }
    }
    assert!(wrong.is_empty(), "imports against the layering ({LAYERS:?}):\n{}", wrong.join("\n"));
}

#[test]
fn the_file_graph_has_no_cycle() {
    let g = graph();
    // Depth-first search with colours; a grey target is a cycle, reported with its path.
    fn visit(
        n: &Vec<String>,
        g: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        colour: &mut BTreeMap<Vec<String>, u8>,
        stack: &mut Vec<Vec<String>>,
        cycles: &mut Vec<String>,
    ) {
        colour.insert(n.clone(), 1);
        stack.push(n.clone());
        for m in g.get(n).into_iter().flatten() {
            match colour.get(m).copied().unwrap_or(0) {
                0 => visit(m, g, colour, stack, cycles),
                1 => {
                    let at = stack.iter().position(|s| s == m).unwrap_or(0);
                    let names: Vec<String> = stack[at..].iter().chain([m]).map(|s| s.join("::")).collect();
                    cycles.push(names.join(" -> "));
                }
                _ => {}
            }
        }
        stack.pop();
        colour.insert(n.clone(), 2);
    }
    let mut colour = BTreeMap::new();
    let mut cycles = Vec::new();
    for n in g.keys() {
        if colour.get(n).copied().unwrap_or(0) == 0 {
            visit(n, &g, &mut colour, &mut Vec::new(), &mut cycles);
        }
    }
    assert!(cycles.is_empty(), "module cycles:\n{}", cycles.join("\n"));
}

#[test]
fn the_reader_of_paths_sees_what_it_must() {
    // The checker itself: braces, nesting, super, and paths inside expressions.
    assert_eq!(expand("crate::a::{b, c::{d, e}}"), ["crate::a::b", "crate::a::c::d", "crate::a::c::e"]);
    let code = code_of("use crate::x::{Y, z::W};\n// use crate::hidden;\nlet v = super::q::f(crate::r::S);\n");
    assert_eq!(paths_in(&code), ["crate::x::Y", "crate::x::z::W", "super::q::f", "crate::r::S"]);
    // The real crate: the codec's decoder does depend on the column files, and the graph knows it.
    let g = graph();
    let decoder = vec!["native".to_string(), "decoder".to_string()];
    assert!(g[&decoder].contains(&vec!["native".to_string(), "columns".to_string()]), "{:?}", g[&decoder]);
}
