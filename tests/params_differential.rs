//! A generated differential test of client-side binding, with the real 26.9 server as the oracle.
//!
//! Query templates are built by a seeded PRNG from pieces: string literals with escapes (`\'`, `''`,
//! `\\`), quoted identifiers, `--` / `# ` / `#!` / `//` line comments, `/* */` comments nested 0 to 3
//! deep (sometimes with stray `/*/`, `*/*`, `**/` inside), `$$` and `$tag$` heredocs, numbers followed
//! by `$` identifiers, `%` signs, unterminated comments, quotes and heredocs at the end, and
//! placeholders both where a value goes and inside all of those. Every template is bound in three
//! forms — `%s` and `%(name)s` ([`format_query_for`]) and `{name:String}` on the client
//! ([`substitute_server_placeholders_for`]), with the server's version, as `Client` does — with
//! [`ASSIGNMENTS`] draws of hostile strings (`*/`, `/*`, `'`, `\`, `--`, newlines, `$$`, `%s`,
//! `{x:String}`, NUL, invalid UTF-8, …): [`TEMPLATES`] × 3 × [`ASSIGNMENTS`] = 108,000 cases
//! (at least [`MIN_CASES`]). What the server says decides, never our lexer:
//!
//! - the server's lexer (`tokenizeQuery`) on the reference query — the template with each placeholder
//!   replaced by a sentinel string `'__pN__'` (for `{name:Type}`, `CAST('__pN__' AS String)` where the
//!   server's lexer has the placeholder's `{` in code) — says which placeholders are in code: one
//!   string literal token exactly at the sentinel (`{name:Type}`: a `{` token at the placeholder);
//! - an accepted case must have every placeholder in code (`{name:Type}`: our scanner's placeholders
//!   are exactly the server's), and the server's parser must read the bound query exactly as the
//!   reference with each sentinel replaced by the server's own rendering of the value:
//!   `formatQuerySingleLineOrNull(bound)` equals `formatQuerySingleLineOrNull(reference)` with
//!   `'__pN__'` replaced (both NULL when the template does not parse). So each value is one literal
//!   equal to the bound string, in the template's place, and nothing else changed: same select list,
//!   same columns;
//! - a refused case must name a placeholder the server's lexer has inside a comment, quote or heredoc,
//!   with every placeholder before it in code (`{name:Type}`: every placeholder of that name hidden).
//!
//! Everything is sent in a few batches (rows inserted into a Memory table, formatted and tokenized
//! there), so the test takes seconds (about 4 s in a debug build). Both tests run on both drivers (the
//! blocking `Client` and the `AsyncClient`): the same cases, the server's answers fetched through each.
//!
//! A second, smaller test does the same for 18.16, whose `/* */` comments do not nest, with the `%`
//! forms: [`LEGACY_TEMPLATES`] templates without heredocs or `#` in code, 6,000 cases; that server has
//! no `tokenizeQuery` or `formatQuery`, so the reference and the bound queries (which only select
//! literals) run there and must give the same columns and rows, sentinels replaced by the values.

mod common;
#[path = "common/drivers.rs"]
mod drivers;

use clickhouse_connect::params::{format_query_for, literal, server_placeholders, substitute_server_placeholders_for};
use clickhouse_connect::{Error, Value};
use common::*;
use drivers::Driver;
use std::collections::HashMap;
use std::time::Instant;

/// Templates generated.
const TEMPLATES: usize = 12_000;
/// Value draws per template and binding form.
const ASSIGNMENTS: usize = 3;
/// The cases (template × values, over the three forms) the test must check.
const MIN_CASES: usize = 100_000;
/// The PRNG seed; a failure prints the template, so a fixed seed is enough to reproduce it.
const SEED: u64 = 0x5eed_c11c_4a11_0f26;

/// xorshift64*.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len())]
    }
}

/// Hostile string values.
fn hostile() -> Vec<Vec<u8>> {
    let mut v: Vec<Vec<u8>> = [
        "*/",
        "/*",
        "*/, currentUser() AS who, (SELECT count() FROM system.tables) AS n --",
        "*/ SELECT 1 /*",
        "'",
        "\\",
        "\\'",
        "''",
        "'; SELECT 1 --",
        "' OR 1=1 --",
        "--",
        "-- x\n, currentUser() AS who",
        "\n",
        "\r\n",
        "$$",
        "$$, currentUser() AS who, $$",
        "$a$",
        "$",
        "%s",
        "%(p0)s",
        "%%",
        "{x:String}",
        "{p0:String}",
        "}",
        "\0",
        "\"",
        "`",
        "#",
        "# x\n",
        "#!",
        "//",
        ";",
        "*/*/*/",
        "/*/*/*",
        "x'\n/*",
        "\\x41\\0",
        "ünïcødé ✓ 🚀",
        "",
        "\t\u{7f}",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    v.push(b"\xff\xfe invalid \xc3".to_vec());
    v.push(b"*/\xff'--".to_vec());
    v.push("*/".repeat(100).into_bytes());
    v
}

/// A piece of a template.
enum Seg {
    Text(String),
    /// A placeholder for the value named `p{k}`.
    Ph(usize),
    /// A `%` (`%%` in the `%` forms).
    Pct,
}

#[derive(Default)]
struct Template {
    segs: Vec<Seg>,
    /// Names `p0` … `p{names-1}`.
    names: usize,
    /// For 18.16, which has no heredocs and no `#` comments (and rejects `$` and `#` in code): those
    /// are left out of the code (comments and strings still have them).
    legacy: bool,
}

impl Template {
    fn text(&mut self, s: &str) {
        if let Some(Seg::Text(t)) = self.segs.last_mut() {
            t.push_str(s);
        } else {
            self.segs.push(Seg::Text(s.to_string()));
        }
    }
    fn ph(&mut self, g: &mut Rng) {
        let k = if self.names > 0 && g.chance(20) {
            g.below(self.names)
        } else {
            self.names += 1;
            self.names - 1
        };
        self.segs.push(Seg::Ph(k));
    }
}

/// What surrounds generated content.
#[derive(Clone, Copy, PartialEq)]
enum Ctx<'t> {
    Str,
    Quoted(u8),
    Heredoc(&'t str),
    Block(usize),
    Line,
}

/// 0 to 5 pieces of content for `ctx`, placeholders and `%` included.
fn content(g: &mut Rng, t: &mut Template, ctx: Ctx<'_>) {
    const PIECES: &[&str] = &[
        "x", "it", "SELECT", "1", "'", "\"", "`", "\\", "/*", "*/", "--", "#", "# ", "#!", "//", "$$", "$t$", "$x",
        "\n", ",", "*", "/", "-",
    ];
    for _ in 0..g.below(6) {
        let sep = if ctx == Ctx::Line { g.pick(&["", " ", " "]) } else { g.pick(&["", " ", " ", " ", "\n"]) };
        t.text(sep);
        match g.below(100) {
            0..=6 => {
                t.ph(g);
                continue;
            }
            7..=13 => {
                t.segs.push(Seg::Pct);
                continue;
            }
            _ => {}
        }
        let p = g.pick(PIECES);
        match (ctx, p) {
            (Ctx::Line, "\n") => t.text(" "),
            (Ctx::Str, "'") => t.text(g.pick(&["\\'", "''"])),
            (Ctx::Str | Ctx::Quoted(_), "\\") => t.text("\\\\"),
            (Ctx::Quoted(q), _) if p.as_bytes() == [q] => {
                let q = q as char;
                t.text(&if g.chance(50) { format!("\\{q}") } else { format!("{q}{q}") });
            }
            (Ctx::Heredoc(tag), _) if p.trim_matches('$') == tag && p.starts_with('$') && p.ends_with('$') => {
                t.text("$")
            }
            (Ctx::Block(depth), "/*") => {
                if depth < 3 {
                    block_comment(g, t, depth + 1);
                }
            }
            (Ctx::Block(_), "*/") => {
                // Stray pairs change how deep the comment is; the server decides what they mean.
                if g.chance(15) {
                    t.text(g.pick(&["/*/", "*/*", "**/", "/**", "*/"]));
                }
            }
            _ => t.text(p),
        }
    }
}

fn block_comment(g: &mut Rng, t: &mut Template, depth: usize) {
    t.text("/*");
    content(g, t, Ctx::Block(depth));
    t.text("*/");
}

/// Whitespace and comments between tokens.
fn noise(g: &mut Rng, t: &mut Template) {
    for _ in 0..g.below(3) {
        match g.below(10) {
            0..=3 => t.text(g.pick(&[" ", "\n", "  "])),
            4..=6 => block_comment(g, t, 1),
            7 | 8 => {
                t.text(if t.legacy { g.pick(&["--", "-- ", "//"]) } else { g.pick(&["--", "-- ", "# ", "#!", "//"]) });
                content(g, t, Ctx::Line);
                t.text("\n");
            }
            _ if t.legacy => t.text(g.pick(&["/**/", "/*/**/*/"])),
            _ => t.text(g.pick(&["/**/", " #x\n", "/*/**/*/"])),
        }
    }
}

fn string_literal(g: &mut Rng, t: &mut Template) {
    t.text("'");
    content(g, t, Ctx::Str);
    t.text("'");
}

fn heredoc(g: &mut Rng, t: &mut Template) {
    if t.legacy {
        return string_literal(g, t);
    }
    let tag = g.pick(&["", "t", "ab_1"]);
    t.text(&format!("${tag}$"));
    content(g, t, Ctx::Heredoc(tag));
    t.text(&format!("${tag}$"));
}

/// A value where an expression goes.
fn value(g: &mut Rng, t: &mut Template) {
    match g.below(10) {
        0..=5 => t.ph(g),
        6 | 7 => string_literal(g, t),
        _ => heredoc(g, t),
    }
}

/// One select expression, usually with an alias.
fn item(g: &mut Rng, t: &mut Template, j: usize) {
    match g.below(100) {
        0..=44 => t.ph(g),
        45..=59 => string_literal(g, t),
        60..=69 => heredoc(g, t),
        70..=74 => {
            t.text("7 ");
            t.segs.push(Seg::Pct);
            t.text(" 3");
        }
        75..=77 if t.legacy => string_literal(g, t),
        75..=77 => {
            // A number, then what the server makes of `$` after it (an implicit alias, or a heredoc).
            t.text(g.pick(&["1$a$$", "2$$", "3$b", "4abc$$", "5$$x$$"]));
            return;
        }
        78 | 79 => {
            // Two values side by side: `'a''b'` would be one string.
            value(g, t);
            t.text(g.pick(&["", "", " "]));
            value(g, t);
        }
        80..=89 => {
            t.text("[");
            value(g, t);
            t.text(", ");
            value(g, t);
            t.text("]");
        }
        _ => {
            t.text("CAST(");
            value(g, t);
            t.text(" AS String)");
        }
    }
    noise(g, t);
    t.text(" AS ");
    match g.below(10) {
        0 => {
            t.text(&format!("\"c{j}"));
            content(g, t, Ctx::Quoted(b'"'));
            t.text("\"");
        }
        1 => {
            t.text(&format!("`c{j}"));
            content(g, t, Ctx::Quoted(b'`'));
            t.text("`");
        }
        2 if !t.legacy => t.text(&format!("c{j}$x")),
        _ => t.text(&format!("c{j}")),
    }
}

fn template(g: &mut Rng, legacy: bool) -> Template {
    let mut t = Template { legacy, ..Template::default() };
    t.text("SELECT ");
    for j in 0..1 + g.below(4) {
        if j > 0 {
            noise(g, &mut t);
            t.text(",");
        }
        noise(g, &mut t);
        item(g, &mut t, j);
    }
    noise(g, &mut t);
    if g.chance(6) {
        // Left open to the end.
        match g.below(4) {
            0 => {
                t.text(" /* ");
                content(g, &mut t, Ctx::Block(1));
            }
            1 => {
                t.text(" '");
                content(g, &mut t, Ctx::Str);
            }
            2 => {
                t.text(" -- ");
                content(g, &mut t, Ctx::Line);
            }
            _ if t.legacy => {
                t.text(" `");
                content(g, &mut t, Ctx::Quoted(b'`'));
            }
            _ => {
                t.text(" $$");
                content(g, &mut t, Ctx::Heredoc(""));
            }
        }
    }
    if t.names == 0 {
        t.text(", ");
        t.ph(g);
        t.text(" AS cz");
    }
    t
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Form {
    Positional,
    Named,
    Typed,
}

const FORMS: [Form; 3] = [Form::Positional, Form::Named, Form::Typed];

/// A placeholder as rendered: its byte offset in the rendered template and the slot its value fills
/// (the occurrence's index for `%s`, the name's index otherwise).
#[derive(Clone, Copy)]
struct Occurrence {
    at: usize,
    slot: usize,
    name: usize,
}

/// The template as text in `form`, and its placeholders.
fn render(t: &Template, form: Form) -> (String, Vec<Occurrence>) {
    let mut s = String::new();
    let mut occ = Vec::new();
    for seg in &t.segs {
        match seg {
            Seg::Text(x) => s.push_str(x),
            Seg::Pct => s.push_str(if form == Form::Typed { "%" } else { "%%" }),
            Seg::Ph(k) => {
                let slot = if form == Form::Positional { occ.len() } else { *k };
                occ.push(Occurrence { at: s.len(), slot, name: *k });
                match form {
                    Form::Positional => s.push_str("%s"),
                    Form::Named => s.push_str(&format!("%({})s", name(*k))),
                    Form::Typed => s.push_str(&format!("{{{}:String}}", name(*k))),
                }
            }
        }
    }
    (s, occ)
}

fn name(k: usize) -> String {
    format!("p{k}")
}

fn sentinel(slot: usize) -> String {
    format!("'__p{slot}__'")
}

fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'$'
}

/// The reference query: placeholders replaced by sentinels — all of them in the `%` forms (Python's
/// rules), and for `{name:Type}` those the server has in code (`code`) — with the spaces the binder
/// puts around a literal. Returns it with each sentinel's byte span.
fn reference(t: &Template, form: Form, code: &[bool]) -> (String, Vec<(u64, u64)>) {
    let (text, occ) = render(t, form);
    let mut out = String::new();
    let mut spans = Vec::new();
    let mut at = 0;
    for (i, o) in occ.iter().enumerate() {
        // Text (and `%%`) before the placeholder.
        let before = &text[at..o.at];
        out.push_str(&if form == Form::Typed { before.to_string() } else { before.replace("%%", "%") });
        let len = match form {
            Form::Positional => 2,
            Form::Named => name(o.name).len() + 4,
            Form::Typed => name(o.name).len() + ":String".len() + 2,
        };
        at = o.at + len;
        let next = text.as_bytes().get(at).copied();
        let prev = out.bytes().last();
        match form {
            Form::Typed if !code[i] => out.push_str(&text[o.at..at]),
            Form::Typed => {
                if prev.is_some_and(is_word) {
                    out.push(' ');
                }
                out.push_str("CAST(");
                spans.push((out.len() as u64, (out.len() + sentinel(o.slot).len()) as u64));
                out.push_str(&sentinel(o.slot));
                out.push_str(" AS String)");
                if next.is_some_and(is_word) {
                    out.push(' ');
                }
            }
            _ => {
                if prev.is_some_and(|c| c == b'-' || c == b'\'' || is_word(c)) {
                    out.push(' ');
                }
                spans.push((out.len() as u64, (out.len() + sentinel(o.slot).len()) as u64));
                out.push_str(&sentinel(o.slot));
                if next.is_some_and(|c| c == b'\'' || is_word(c)) {
                    out.push(' ');
                }
            }
        }
    }
    let rest = &text[at..];
    out.push_str(&if form == Form::Typed { rest.to_string() } else { rest.replace("%%", "%") });
    (out, spans)
}

/// Rows sent to the server to be formatted (`formatQuerySingleLineOrNull`), by id.
#[derive(Default)]
struct Batch {
    queries: Vec<Vec<u8>>,
}

impl Batch {
    fn add(&mut self, q: impl Into<Vec<u8>>) -> usize {
        self.queries.push(q.into());
        self.queries.len() - 1
    }
}

/// Each query formatted by the server (None where it does not parse).
fn format_all(c: &Driver, queries: &[Vec<u8>]) -> Vec<Option<Vec<u8>>> {
    let t = table("params_diff_fmt");
    c.command(&format!("CREATE TABLE {t} (id UInt64, q String) ENGINE = Memory")).unwrap();
    for (n, chunk) in queries.chunks(50_000).enumerate() {
        let rows: Vec<Vec<Value<'_>>> = chunk
            .iter()
            .enumerate()
            .map(|(i, q)| vec![Value::UInt64((n * 50_000 + i) as u64), Value::from(q.clone())])
            .collect();
        c.insert(&t, &["id", "q"], &rows).unwrap();
    }
    let r = c.query(&format!("SELECT id, formatQuerySingleLineOrNull(q) FROM {t} ORDER BY id")).unwrap();
    c.command(&format!("DROP TABLE {t}")).unwrap();
    assert_eq!(r.rows.len(), queries.len());
    r.rows
        .into_iter()
        .enumerate()
        .map(|(i, row)| {
            assert_eq!(row[0], Value::UInt64(i as u64));
            match &row[1] {
                Value::Null => None,
                v => Some(v.as_bytes().expect("formatted text").to_vec()),
            }
        })
        .collect()
}

/// A query, byte spans in it, and the token type the server's lexer should have exactly at each.
type TokenQuery<'a> = (String, Vec<(u64, u64)>, &'a str);

/// For each (query, spans, token type): whether the server's lexer has a token of that type exactly at
/// each span.
fn tokens_at(c: &Driver, rows: &[TokenQuery<'_>]) -> Vec<Vec<bool>> {
    let t = table("params_diff_tok");
    c.command(&format!(
        "CREATE TABLE {t} (id UInt64, q String, want String, spans Array(Tuple(UInt64, UInt64))) ENGINE = Memory"
    ))
    .unwrap();
    let values: Vec<Vec<Value<'_>>> = rows
        .iter()
        .enumerate()
        .map(|(i, (q, spans, want))| {
            vec![
                Value::UInt64(i as u64),
                Value::from(q.as_str()),
                Value::from(*want),
                Value::Array(
                    spans.iter().map(|&(a, b)| Value::Tuple(vec![Value::UInt64(a), Value::UInt64(b)])).collect(),
                ),
            ]
        })
        .collect();
    c.insert(&t, &["id", "q", "want", "spans"], &values).unwrap();
    let r = c
        .query(&format!(
            "SELECT id, arrayMap(s -> has(toks, (s.1, s.2, want)), spans) FROM \
             (SELECT id, want, spans, arrayMap(x -> (x.1, x.2, toString(x.3)), tokenizeQuery(q)) AS toks FROM {t}) \
             ORDER BY id"
        ))
        .unwrap();
    c.command(&format!("DROP TABLE {t}")).unwrap();
    assert_eq!(r.rows.len(), rows.len());
    r.rows
        .into_iter()
        .map(|row| match &row[1] {
            Value::Array(xs) => xs.iter().map(|x| matches!(x, Value::UInt8(1) | Value::Bool(true))).collect(),
            v => panic!("{v:?}"),
        })
        .collect()
}

/// The byte offset an error names ("… at byte N …").
fn byte_named(e: &Error) -> usize {
    let m = e.to_string();
    let i = m.find("at byte ").unwrap_or_else(|| panic!("no byte offset in {m}")) + "at byte ".len();
    m[i..].split(|c: char| !c.is_ascii_digit()).next().unwrap().parse().unwrap()
}

/// `text` with each sentinel replaced by the server's rendering of its slot's value.
fn substituted(text: &[u8], slots: &[usize], rendered: &[Vec<u8>]) -> Vec<u8> {
    let mut out = text.to_vec();
    for (slot, &v) in slots.iter().enumerate() {
        let s = sentinel(slot);
        let mut next = Vec::with_capacity(out.len());
        let mut rest = &out[..];
        while let Some(p) = rest.windows(s.len()).position(|w| w == s.as_bytes()) {
            next.extend_from_slice(&rest[..p]);
            next.extend_from_slice(&rendered[v]);
            rest = &rest[p + s.len()..];
        }
        next.extend_from_slice(rest);
        out = next;
    }
    out
}

struct Case {
    template: usize,
    form: Form,
    /// Value (index into the pool) of each slot.
    slots: Vec<usize>,
    /// The formatted bound query's row, or the error.
    outcome: Result<usize, Error>,
}

#[test]
fn generated_templates_bind_as_the_server_lexes_and_parses_them() {
    for c in Driver::both("CH_MODERN_URL") {
        let c = &c;
        let start = Instant::now();
        let version = c.blocking().server_version().to_string();
        let pool = hostile();

        // The server's rendering of each value as a literal, after checking that our literal means it.
        let select: Vec<String> =
            pool.iter().enumerate().map(|(i, v)| format!("{} AS v{i}", literal(&Value::from(v.clone())))).collect();
        let back = c.query(&format!("SELECT {}", select.join(", "))).unwrap();
        for (i, v) in pool.iter().enumerate() {
            assert_eq!(back.rows[0][i].as_bytes(), Some(&v[..]), "literal of {v:?}");
        }
        let mut batch = Batch::default();
        let value_rows: Vec<usize> = select.iter().map(|s| batch.add(format!("SELECT {s}"))).collect();

        // Templates, their references' lexing by the server.
        let mut g = Rng(SEED);
        let templates: Vec<Template> = (0..TEMPLATES).map(|_| template(&mut g, false)).collect();
        let mut tok_rows = Vec::new();
        for t in &templates {
            for form in [Form::Positional, Form::Named] {
                let (r, spans) = reference(t, form, &[]);
                tok_rows.push((r, spans, "StringLiteral"));
            }
            let (text, occ) = render(t, Form::Typed);
            tok_rows.push((text, occ.iter().map(|o| (o.at as u64, o.at as u64 + 1)).collect(), "OpeningCurlyBrace"));
        }
        let lexed = tokens_at(c, &tok_rows);
        let code = |i: usize, form: Form| &lexed[i * 3 + FORMS.iter().position(|f| *f == form).unwrap()];
        let lexed_at = start.elapsed();

        // Bind every case; queue the references and the bound queries for formatting.
        let mut refs = Vec::new();
        let mut cases = Vec::new();
        for (i, t) in templates.iter().enumerate() {
            for form in FORMS {
                let (text, occ) = render(t, form);
                let (r, _) = reference(t, form, code(i, form));
                refs.push(batch.add(r));
                let slots = if form == Form::Positional { occ.len() } else { t.names };
                for _ in 0..ASSIGNMENTS {
                    let values: Vec<usize> = (0..slots).map(|_| g.below(pool.len())).collect();
                    let bound = match form {
                        Form::Positional => {
                            let args: Vec<Value<'_>> = values.iter().map(|&v| Value::from(pool[v].clone())).collect();
                            format_query_for(&version, &text, &[], &args)
                        }
                        _ => {
                            let named: Vec<(String, Value<'_>)> = values
                                .iter()
                                .enumerate()
                                .map(|(k, &v)| (name(k), Value::from(pool[v].clone())))
                                .collect();
                            if form == Form::Named {
                                format_query_for(&version, &text, &named, &[])
                            } else {
                                substitute_server_placeholders_for(&version, &text, &named)
                            }
                        }
                    };
                    let outcome = bound.map(|q| batch.add(q));
                    cases.push(Case { template: i, form, slots: values, outcome });
                }
            }
        }
        let bound_at = start.elapsed();
        let formatted = format_all(c, &batch.queries);
        let formatted_at = start.elapsed();

        // The server's rendering of each value: `SELECT <literal> AS vN` formatted, the middle kept.
        let rendered: Vec<Vec<u8>> = value_rows
            .iter()
            .enumerate()
            .map(|(i, &row)| {
                let f = formatted[row].clone().expect("a literal formats");
                let suffix = format!(" AS v{i}");
                assert!(f.starts_with(b"SELECT ") && f.ends_with(suffix.as_bytes()), "{}", String::from_utf8_lossy(&f));
                f[7..f.len() - suffix.len()].to_vec()
            })
            .collect();

        // Check every case against what the server said.
        let mut counts: HashMap<(Form, &str), usize> = HashMap::new();
        for case in &cases {
            let t = &templates[case.template];
            let (text, occ) = render(t, case.form);
            let in_code = code(case.template, case.form);
            let show = || format!("{}: {:?} form of template {}: {text:?}", c.name(), case.form, case.template);
            let reference = &formatted[refs[case.template * 3 + FORMS.iter().position(|f| *f == case.form).unwrap()]];
            match &case.outcome {
                Ok(row) => {
                    if case.form == Form::Typed {
                        // Our scanner's placeholders (`server_placeholders` lexes as 25.8 and newer, as
                        // binding for 26.9 does) are exactly those the server's lexer has in code.
                        let ours: Vec<usize> = server_placeholders(&text).iter().map(|p| p.span.start).collect();
                        let servers: Vec<usize> =
                            occ.iter().zip(in_code).filter(|(_, c)| **c).map(|(o, _)| o.at).collect();
                        assert_eq!(ours, servers, "{}", show());
                    } else {
                        let outside: Vec<usize> =
                            occ.iter().zip(in_code).filter(|(_, c)| !**c).map(|(o, _)| o.at).collect();
                        assert!(
                            outside.is_empty(),
                            "{}: bound, but the server's lexer has placeholders at {outside:?} inside a comment, quote or heredoc",
                            show()
                        );
                    }
                    let want = reference.as_ref().map(|r| substituted(r, &case.slots, &rendered));
                    let got = &formatted[*row];
                    assert_eq!(
                        got.as_ref().map(|x| String::from_utf8_lossy(x).into_owned()),
                        want.as_ref().map(|x| String::from_utf8_lossy(x).into_owned()),
                        "{}: values {:?}",
                        show(),
                        case.slots.iter().map(|&v| String::from_utf8_lossy(&pool[v]).into_owned()).collect::<Vec<_>>()
                    );
                    *counts
                        .entry((case.form, if want.is_some() { "bound" } else { "bound, template does not parse" }))
                        .or_default() += 1;
                }
                Err(e) => {
                    assert!(matches!(e, Error::Usage(_)), "{}: {e}", show());
                    let at = byte_named(e);
                    let o = occ
                        .iter()
                        .position(|o| o.at == at)
                        .unwrap_or_else(|| panic!("{}: {e} names no placeholder", show()));
                    assert!(
                        !in_code[o],
                        "{}: refused ({e}), but the server's lexer has that placeholder in code",
                        show()
                    );
                    if case.form == Form::Typed {
                        let name = occ[o].name;
                        assert!(
                            occ.iter().zip(in_code).all(|(x, c)| x.name != name || !c),
                            "{}: refused ({e}), but the server's lexer has a {{p{name}:String}} in code",
                            show()
                        );
                    } else {
                        assert!(
                            in_code[..o].iter().all(|c| *c),
                            "{}: refused ({e}) later than the first placeholder outside code",
                            show()
                        );
                    }
                    *counts.entry((case.form, "refused")).or_default() += 1;
                }
            }
        }
        let mut summary: Vec<_> = counts.iter().map(|((f, k), n)| format!("{f:?} {k}: {n}")).collect();
        summary.sort();
        eprintln!(
            "{}: {} cases from {TEMPLATES} templates (seed {SEED:#x}): {}; server lexed in {:.1?}, bound by {:.1?}, \
         formatted by {:.1?}, checked by {:.1?}",
            c.name(),
            cases.len(),
            summary.join(", "),
            lexed_at,
            bound_at,
            formatted_at,
            start.elapsed()
        );
        assert!(cases.len() >= MIN_CASES, "{}", cases.len());
        for form in FORMS {
            for kind in ["bound", "refused"] {
                assert!(
                    counts.get(&(form, kind)).copied().unwrap_or(0) > 5_000,
                    "too few {form:?} {kind} cases: {counts:?}"
                );
            }
        }
    }
}

/// Templates bound for 18.16 executed there against 18.16's flat `/* */` comments (this server has
/// no `tokenizeQuery` or `formatQuery`: the queries run, and they only select literals).
const LEGACY_TEMPLATES: usize = 1500;

/// Every value found in a result, strings as bytes (arrays searched).
fn strings_in(v: &Value<'_>, out: &mut Vec<Vec<u8>>) {
    match v {
        Value::Array(xs) | Value::Tuple(xs) => xs.iter().for_each(|x| strings_in(x, out)),
        v => {
            if let Some(b) = v.as_bytes() {
                out.push(b.to_vec());
            }
        }
    }
}

#[test]
fn generated_templates_bind_as_the_legacy_server_reads_them() {
    for c in Driver::both("CH_LEGACY_URL") {
        let c = &c;
        let old = c;
        let start = Instant::now();
        let version = old.blocking().server_version().to_string();
        let pool = hostile();
        let mut g = Rng(SEED ^ 0x1816);
        let (mut bound, mut refused, mut failing) = (0usize, 0usize, 0usize);
        for i in 0..LEGACY_TEMPLATES {
            let t = template(&mut g, true);
            for form in [Form::Positional, Form::Named] {
                let (text, occ) = render(&t, form);
                let (r, _) = reference(&t, form, &[]);
                let show = || format!("{}: {form:?} form of legacy template {i}: {text:?}", old.name());
                // Where the server reads each sentinel as a value of its own.
                let reference = old.query(&r).ok();
                let mut seen = Vec::new();
                if let Some(res) = &reference {
                    res.rows.iter().flatten().for_each(|v| strings_in(v, &mut seen));
                }
                let slot_seen =
                    |slot: usize| seen.iter().any(|s| s[..] == sentinel(slot).as_bytes()[1..sentinel(slot).len() - 1]);
                for _ in 0..2 {
                    let slots = if form == Form::Positional { occ.len() } else { t.names };
                    let values: Vec<usize> = (0..slots).map(|_| g.below(pool.len())).collect();
                    let result = if form == Form::Positional {
                        let args: Vec<Value<'_>> = values.iter().map(|&v| Value::from(pool[v].clone())).collect();
                        format_query_for(&version, &text, &[], &args)
                    } else {
                        let named: Vec<(String, Value<'_>)> =
                            values.iter().enumerate().map(|(k, &v)| (name(k), Value::from(pool[v].clone()))).collect();
                        format_query_for(&version, &text, &named, &[])
                    };
                    match result {
                        Ok(q) => {
                            let got = old.query(&q);
                            match &reference {
                                None => {
                                    assert!(
                                        got.is_err(),
                                        "{}: the reference fails on 18.16, the bound query ran",
                                        show()
                                    );
                                    failing += 1;
                                }
                                Some(want) => {
                                    let got = got.unwrap_or_else(|e| {
                                        panic!("{}: the reference ran, the bound query failed: {e}", show())
                                    });
                                    assert_eq!(got.column_names, want.column_names, "{}", show());
                                    let expect: Vec<Vec<Value<'static>>> = want
                                        .rows
                                        .iter()
                                        .map(|row| row.iter().map(|v| with_values(v, &values, &pool)).collect())
                                        .collect();
                                    assert_eq!(got.rows, expect, "{}", show());
                                    bound += 1;
                                }
                            }
                        }
                        Err(e) => {
                            let at = byte_named(&e);
                            let o = occ.iter().position(|o| o.at == at).unwrap_or_else(|| panic!("{}: {e}", show()));
                            if reference.is_some() && form == Form::Positional {
                                assert!(
                                    !slot_seen(occ[o].slot),
                                    "{}: refused ({e}), but 18.16 reads that placeholder as a value",
                                    show()
                                );
                                assert!(
                                    occ[..o].iter().all(|x| slot_seen(x.slot)),
                                    "{}: refused ({e}) after a placeholder 18.16 does not read",
                                    show()
                                );
                            }
                            refused += 1;
                        }
                    }
                }
            }
        }
        eprintln!(
            "18.16, {}: {} cases from {LEGACY_TEMPLATES} templates: {bound} bound and read back, {failing} bound where the template \
         itself fails there, {refused} refused; {:.1?}",
            old.name(),
            bound + refused + failing,
            start.elapsed()
        );
        assert!(bound > 300 && refused > 300, "{bound} {refused}");
    }
}

/// `v` with each string that is a sentinel replaced by its slot's value.
fn with_values(v: &Value<'_>, slots: &[usize], pool: &[Vec<u8>]) -> Value<'static> {
    match v {
        Value::Array(xs) => Value::Array(xs.iter().map(|x| with_values(x, slots, pool)).collect()),
        v => {
            for (slot, &value) in slots.iter().enumerate() {
                let s = sentinel(slot);
                if v.as_bytes() == Some(&s.as_bytes()[1..s.len() - 1]) {
                    return Value::from(pool[value].clone());
                }
            }
            v.clone().into_owned()
        }
    }
}
