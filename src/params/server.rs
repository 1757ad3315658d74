//! Server-side binding: `{name:Type}` placeholders, values sent as `param_name` URL parameters.
//!
//! See the [module docs](super) for the design.

use crate::error::{Error, Result};
use crate::format::TextRenderer;
use crate::native::encoder::builder_for;
use crate::native::{BlockDecoder, ColumnEncoder, TypeDesc, write_block};
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

/// Finds the `{name:Type}` placeholders of `sql`, outside literals and comments.
pub fn server_placeholders(sql: &str) -> Vec<Placeholder> {
    let b = sql.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut words = super::Words::default();
    while i < b.len() {
        if let Some(end) = super::heredoc_end(b, i, words) {
            i = end;
            words.reset();
            continue;
        }
        if !super::is_word(b[i]) {
            words.reset();
        }
        match b[i] {
            q @ (b'\'' | b'"' | b'`') => {
                i += 1;
                while i < b.len() && b[i] != q {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'-' if b.get(i + 1) == Some(&b'-') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                    i += 1;
                }
                i += 2;
            }
            b'{' => {
                let start = i + 1;
                let name_end =
                    b[start..].iter().position(|c| !(c.is_ascii_alphanumeric() || *c == b'_')).map(|p| start + p);
                match name_end {
                    Some(colon) if colon > start && b[colon] == b':' => {
                        // The type runs to the matching `}` (types contain no braces; quotes are skipped).
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
                        if j < b.len() {
                            out.push(Placeholder {
                                name: sql[start..colon].to_string(),
                                type_name: sql[colon + 1..j].trim().to_string(),
                                span: i..j + 1,
                            });
                        }
                        i = j + 1;
                    }
                    _ => i += 1,
                }
            }
            c => {
                words.step(c);
                i += 1;
            }
        }
    }
    out
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
    let placeholders = server_placeholders(sql);
    check_names(&placeholders, params)?;
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
pub fn substitute_server_placeholders(sql: &str, params: &[(String, Value<'_>)]) -> Result<String> {
    let placeholders = server_placeholders(sql);
    check_names(&placeholders, params)?;
    let mut out = String::with_capacity(sql.len() + 64);
    let mut at = 0;
    let mut literal = super::literal::LiteralWriter::new();
    for p in &placeholders {
        let Some((_, value)) = params.iter().find(|(n, _)| n == &p.name) else { continue };
        let (t, v) = checked(p, value)?;
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

/// Every parameter has a placeholder and every placeholder a parameter.
fn check_names(placeholders: &[Placeholder], params: &[(String, Value<'_>)]) -> Result<()> {
    if let Some((name, _)) = params.iter().find(|(n, _)| !placeholders.iter().any(|p| &p.name == n)) {
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
