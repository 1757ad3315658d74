//! Server-side binding: `{name:Type}` placeholders, values sent as `param_name` URL parameters.
//!
//! See the [module docs](super) for the design.

use super::lex::{self, Dialect, Lexer, Region};
use crate::error::{Error, Result};
use crate::format::TextRenderer;
use crate::native::builder_for;
use crate::native::{BlockDecoder, ColumnEncoder, write_block};
use crate::types::TypeDesc;
use crate::value::Value;
use std::fmt::Write;

/// A `{name:Type}` placeholder found in SQL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Placeholder {
    /// The parameter name.
    pub name: String,
    /// The type text as written.
    pub type_name: String,
    /// Byte range of the whole `{name:Type}` in the SQL.
    pub span: std::ops::Range<usize>,
}

/// Finds the `{name:Type}` placeholders of `sql` outside literals, comments and heredocs, as the
/// newest servers' lexer sees them (see `lex.rs`; [`substitute_server_placeholders`] checks every
/// generation).
pub fn server_placeholders(sql: &str) -> Vec<Placeholder> {
    scan(sql, &lex::DIALECTS[lex::DIALECTS.len() - 1..]).map(|s| s.placeholders).unwrap_or_default()
}

/// Whether named parameters for `sql` are `{name:Type}` ones (rather than `%(name)s`): the query has a
/// `{name:Type}` placeholder in code, has one whose position is in doubt (so the scan's error is
/// reported), or has no `%` and mentions a `{name:` of a parameter inside a quote or comment (so the
/// error says where it is).
pub(crate) fn typed(sql: &str, dialects: &[Dialect], params: &[(String, Value<'_>)]) -> bool {
    match scan(sql, dialects) {
        Err(_) => true,
        Ok(s) if !s.placeholders.is_empty() => true,
        Ok(s) => !sql.contains('%') && s.hidden.iter().any(|(p, _)| params.iter().any(|(n, _)| *n == p.name)),
    }
}

/// Whether a `{name:Type}` placeholder of `sql` has a type whose parameter text the server reads by
/// guessing: a `Variant` (or `Geometry`) takes the first alternative the text parses as (`['a']` may
/// come back a String), a `Dynamic` or `JSON` infers types (`5` becomes an Int64, and no text is a NULL
/// Dynamic). Such queries are bound on the client, where a value keeps its alternative and type.
pub(crate) fn binds_on_client(sql: &str, dialects: &[Dialect]) -> bool {
    use TypeDesc as T;
    let guessed = |t: &TypeDesc| matches!(t, T::Variant(_) | T::Dynamic { .. } | T::Json(_) | T::Geometry);
    scan(sql, dialects)
        .is_ok_and(|s| s.placeholders.iter().any(|p| TypeDesc::parse(&p.type_name).is_ok_and(|t| t.contains(&guessed))))
}

/// What a scan of a query for `{name:Type}` placeholders found.
#[derive(Debug, Default)]
pub(crate) struct Scan {
    /// The placeholders in code, for every lexer.
    pub(crate) placeholders: Vec<Placeholder>,
    /// Text shaped like a placeholder inside a quote, comment or heredoc for every lexer (not a
    /// placeholder; kept to explain a missing one).
    pub(crate) hidden: Vec<(Placeholder, Region)>,
}

/// Scans `sql` for `{name:Type}` placeholders with the lexers of `dialects`. A placeholder in code for
/// some lexers but not others, or one whose value could change where a heredoc ends, is an error.
pub(crate) fn scan(sql: &str, dialects: &[Dialect]) -> Result<Scan> {
    let b = sql.as_bytes();
    let mut lexers: Vec<Lexer<'_>> = dialects.iter().map(|d| Lexer::new(b, *d)).collect();
    let mut out = Scan::default();
    let mut from = 0;
    while let Some(i) = memchr::memchr(b'{', &b[from..]).map(|p| from + p) {
        let Some(p) = placeholder_at(sql, i) else {
            from = i + 1;
            continue;
        };
        let regions: Vec<Region> = lexers.iter_mut().map(|lx| lx.at(i)).collect();
        if regions.iter().all(|r| *r != Region::Code) {
            out.hidden.push((p, regions[regions.len() - 1]));
            from = i + 1;
            continue;
        }
        if let Err((why, versions)) = lex::place(&mut lexers, i, p.span.end) {
            return Err(Error::usage(format!(
                "placeholder {{{}:{}}} at byte {i} {}; values are quoted for you, put the placeholder where the \
                 value goes",
                p.name,
                p.type_name,
                lex::misplaced_text(why, versions.as_deref())
            )));
        }
        from = p.span.end;
        out.placeholders.push(p);
    }
    Ok(out)
}

/// The `{name:Type}` starting at byte `i`, if one does: a name of letters, digits and `_`, a `:`, and a
/// type running to the next `}` outside quotes (types contain no braces).
fn placeholder_at(sql: &str, i: usize) -> Option<Placeholder> {
    let b = sql.as_bytes();
    let start = i + 1;
    let colon = start + b[start..].iter().position(|c| !(c.is_ascii_alphanumeric() || *c == b'_'))?;
    if colon == start || b[colon] != b':' {
        return None;
    }
    let mut j = colon + 1;
    let mut quote = None;
    while j < b.len() {
        match (quote, b[j]) {
            (None, b'}') => break,
            (None, q @ (b'\'' | b'"' | b'`')) => quote = Some(q),
            (Some(q), c) if c == q => quote = None,
            (Some(_), b'\\') => j += 1,
            _ => {}
        }
        j += 1;
    }
    (j < b.len()).then(|| Placeholder {
        name: sql[start..colon].to_string(),
        type_name: sql[colon + 1..j].trim().to_string(),
        span: i..j + 1,
    })
}

/// The value pushed through `t`'s builder and decoded back: checked, and in `t`'s exact representation.
pub fn canonical_value(t: &TypeDesc, v: &Value<'_>) -> std::result::Result<Value<'static>, String> {
    let mut b = builder_for(t).map_err(|e| e.to_string())?;
    b.push(v)?;
    let mut bytes = Vec::new();
    write_block(&mut bytes, &[("v", b.as_ref() as &dyn ColumnEncoder)]).map_err(|e| e.to_string())?;
    let mut d = BlockDecoder::new();
    let mut s = &bytes[..];
    let block = d.feed(&mut s).map_err(|e| e.to_string())?.ok_or("value did not encode")?;
    Ok(block.row(0).remove(0).into_owned())
}

/// The `param_name=text` pairs for `params`, checked against the placeholders of `sql`: every
/// placeholder needs a value and every value a placeholder.
pub fn server_params(
    sql: &str,
    params: &[(String, Value<'_>)],
    renderer: &mut TextRenderer,
) -> Result<Vec<(String, String)>> {
    server_params_in(&lex::DIALECTS[lex::DIALECTS.len() - 1..], sql, params, renderer)
}

/// [`server_params`] with the placeholders found by the lexers of `dialects`.
pub(crate) fn server_params_in(
    dialects: &[Dialect],
    sql: &str,
    params: &[(String, Value<'_>)],
    renderer: &mut TextRenderer,
) -> Result<Vec<(String, String)>> {
    let scan = scan(sql, dialects)?;
    check_names(&scan, params)?;
    let placeholders = scan.placeholders;
    let mut out = Vec::with_capacity(params.len());
    for (name, value) in params {
        let Some(p) = placeholders.iter().find(|p| &p.name == name) else { continue };
        let (t, v) = checked(p, value)?;
        let mut text = Vec::new();
        renderer.write_tsv(&mut text, &v, &t);
        out.push((format!("param_{name}"), escape_invalid_utf8(&text)));
    }
    Ok(out)
}

/// `sql` with each `{name:Type}` placeholder replaced, on the client, by `CAST(<literal> AS Type)`: the
/// same checks as [`server_params`], for servers without query parameters (18.16) or when asked for.
/// Safe on every server version: each placeholder must be in code for every generation of the
/// server's lexer ([`substitute_server_placeholders_for`] checks one version's).
pub fn substitute_server_placeholders(sql: &str, params: &[(String, Value<'_>)]) -> Result<String> {
    substitute_in(&lex::DIALECTS, sql, params)
}

/// [`substitute_server_placeholders`] for a server reporting `server_version` (e.g. `26.9.2.1`; every
/// lexer when it does not parse). This is what [`crate::Client`] does with
/// [`crate::CallOptions::client_side_binding`].
pub fn substitute_server_placeholders_for(
    server_version: &str,
    sql: &str,
    params: &[(String, Value<'_>)],
) -> Result<String> {
    substitute_in(lex::dialects_for(server_version), sql, params)
}

fn substitute_in(dialects: &[Dialect], sql: &str, params: &[(String, Value<'_>)]) -> Result<String> {
    let scan = scan(sql, dialects)?;
    check_names(&scan, params)?;
    let placeholders = scan.placeholders;
    let mut out = String::with_capacity(sql.len() + 64);
    let mut at = 0;
    let mut literal = super::literal::LiteralWriter::new();
    for p in &placeholders {
        let Some((_, value)) = params.iter().find(|(n, _)| n == &p.name) else { continue };
        let (t, v) = checked(p, value)?;
        if !plain_type_text(&p.type_name) {
            return Err(Error::usage(format!(
                "placeholder {{{}:{}}}: the type's text has characters outside quotes that could start a \
                 comment or heredoc in the SQL",
                p.name, p.type_name
            )));
        }
        out.push_str(&sql[at..p.span.start]);
        // Spaces keep the call a token of its own next to identifiers and `$`.
        if out.bytes().last().is_some_and(super::is_word) {
            out.push(' ');
        }
        out.push_str("CAST(");
        literal.write_typed(&mut out, &v, &t);
        out.push_str(" AS ");
        out.push_str(&p.type_name);
        out.push(')');
        at = p.span.end;
        if sql.as_bytes().get(at).copied().is_some_and(super::is_word) {
            out.push(' ');
        }
    }
    out.push_str(&sql[at..]);
    Ok(out)
}

/// The placeholder's type and the value made canonical for it; a value that does not fit is an error
/// naming the parameter.
fn checked(p: &Placeholder, value: &Value<'_>) -> Result<(TypeDesc, Value<'static>)> {
    let t = TypeDesc::parse(&p.type_name)?;
    let v =
        canonical_value(&t, value).map_err(|e| Error::usage(format!("parameter {} ({}): {e}", p.name, p.type_name)))?;
    Ok((t, v))
}

/// The type text of a placeholder substituted on the client goes into the SQL as written: outside its
/// quotes it may only have the characters of type names (no `/`, `*`, `#`, `$`, `{`, `}`, `;`, `%` and
/// no `--`), so it cannot open a comment or a heredoc or end the query.
fn plain_type_text(t: &str) -> bool {
    let b = t.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            q @ (b'\'' | b'"' | b'`') => {
                // Like the server's lexer: a backslash escapes a byte, a doubled quote is one quote.
                i += 1;
                loop {
                    match b.get(i) {
                        None => return false,
                        Some(b'\\') => i += 2,
                        Some(&c) if c == q => {
                            if b.get(i + 1) == Some(&q) {
                                i += 2;
                            } else {
                                break;
                            }
                        }
                        Some(_) => i += 1,
                    }
                }
                i += 1;
            }
            b'-' if b.get(i + 1) == Some(&b'-') => return false,
            c if c.is_ascii_alphanumeric() || b"_(),= \t\n\r.-+:".contains(&c) => i += 1,
            _ => return false,
        }
    }
    true
}

/// Every parameter has a placeholder and every placeholder a parameter.
fn check_names(scan: &Scan, params: &[(String, Value<'_>)]) -> Result<()> {
    let placeholders = &scan.placeholders;
    if let Some((name, _)) = params.iter().find(|(n, _)| !placeholders.iter().any(|p| &p.name == n)) {
        if let Some((p, region)) = scan.hidden.iter().find(|(p, _)| &p.name == name) {
            return Err(Error::usage(format!(
                "parameter {name} has no {{{name}:Type}} placeholder outside quotes and comments: the one at byte {} \
                 is inside {}; values are quoted for you, put the placeholder where the value goes",
                p.span.start,
                region.describe()
            )));
        }
        return Err(Error::usage(format!("parameter {name} has no {{{name}:Type}} placeholder in the query")));
    }
    if let Some(p) = placeholders.iter().find(|p| !params.iter().any(|(n, _)| n == &p.name)) {
        return Err(Error::usage(format!("no value for the query's {{{}:{}}} placeholder", p.name, p.type_name)));
    }
    Ok(())
}

/// The text with every byte that is not part of valid UTF-8 written as `\xHH`, which the server's
/// escaped and quoted formats decode back to that byte: parameters travel as URL text.
fn escape_invalid_utf8(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02X}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_placeholders_outside_literals_and_comments() {
        let sql = "SELECT {a:UInt8}, '{b:String}', `{c:X}`, {d:Map(String, Array(UInt8))} -- {e:Int8}\n\
                   /* {f:Int8} */ FROM t WHERE x = {g:DateTime64(3, 'Asia/Tokyo')} AND y = '\\'{h:Int8}'";
        let names: Vec<(String, String)> =
            server_placeholders(sql).into_iter().map(|p| (p.name, p.type_name)).collect();
        assert_eq!(server_placeholders("SELECT {a:UInt8}")[0].span, 7..16);
        assert_eq!(
            names,
            vec![
                ("a".into(), "UInt8".into()),
                ("d".into(), "Map(String, Array(UInt8))".into()),
                ("g".into(), "DateTime64(3, 'Asia/Tokyo')".into())
            ]
        );
        assert!(server_placeholders("SELECT {not a placeholder}, {x}, {:T}").is_empty());
    }

    #[test]
    fn placeholders_in_nested_comments_are_not_placeholders() {
        let v = vec![("v".to_string(), Value::from("*/, currentUser() --"))];
        let sql = "SELECT 'safe' AS a /* off: /* old */ , {v:String} AS b */";
        assert!(server_placeholders(sql).is_empty());
        let e = substitute_server_placeholders_for("26.9.2.1", sql, &v).unwrap_err().to_string();
        assert!(e.contains("the one at byte 39 is inside a comment"), "{e}");
        let e = substitute_server_placeholders(sql, &v).unwrap_err().to_string();
        assert!(e.contains("inside a comment for ClickHouse 20.10 and newer"), "{e}");
        // 18.16 does not nest: there the comment ends at the first `*/`.
        assert!(substitute_server_placeholders_for("18.16.1", sql, &v).is_ok());
        assert_eq!(
            substitute_server_placeholders_for("26.9.2.1", "SELECT 1 /* /* */ */ // {x:String}\n, {v:String}", &v)
                .unwrap(),
            "SELECT 1 /* /* */ */ // {x:String}\n, CAST('*/, currentUser() --' AS String)"
        );
        let mut r = TextRenderer::new("UTC");
        assert!(server_params(sql, &v, &mut r).is_err());
    }

    #[test]
    fn type_text_is_plain() {
        for t in
            ["String", "Enum8('a/*' = 1, 'b''$$' = -2)", "DateTime64(3, 'Asia/Tokyo')", "Map(String, Array(UInt8))"]
        {
            assert!(plain_type_text(t), "{t}");
        }
        for t in ["String /* x */", "String -- x", "Enum8('a' = --1)", "String $$", "Enum8('a = 1)", "String # x"] {
            assert!(!plain_type_text(t), "{t}");
        }
    }

    #[test]
    fn values_are_checked_and_placeholders_matched() {
        let mut r = TextRenderer::new("UTC");
        let p = |n: &str, v: Value<'static>| (n.to_string(), v);
        let got = server_params(
            "SELECT {x:UInt8}, {s:String}",
            &[p("x", Value::from(7u64)), p("s", Value::from("a\tb"))],
            &mut r,
        )
        .unwrap();
        assert_eq!(got, vec![("param_x".into(), "7".into()), ("param_s".into(), "a\\tb".into())]);
        assert!(server_params("SELECT {x:UInt8}", &[p("x", Value::from(300u64))], &mut r).is_err(), "out of range");
        assert!(server_params("SELECT {x:UInt8}", &[], &mut r).is_err(), "missing");
        assert!(server_params("SELECT 1", &[p("x", Value::from(1u8))], &mut r).is_err(), "extra");
        assert_eq!(escape_invalid_utf8(b"a\xffb\xc3\xa9"), "a\\xFFbé");
    }
}
