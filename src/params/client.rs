//! Client-side binding: `%(name)s` and `%s` placeholders replaced by literals before the query is sent.
//!
//! The rules are Python's `%` formatting, as the Python driver uses it: once parameters are given,
//! every `%` in the query is syntax — `%(name)s` takes a named value, `%s` the next positional one, `%%`
//! is a literal `%` (also inside string literals: `LIKE 'a%%'`), and anything else is an error. What
//! Python would do silently and dangerously is refused: a placeholder inside a quoted string, a quoted
//! identifier or a comment (a value there would be spliced into the quote, or could close a `/* */`
//! comment), and a value that is never used.

use super::literal::LiteralWriter;
use crate::error::{Error, Result};
use crate::value::Value;

/// Where a byte of SQL is, lexically.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Lex {
    Code,
    Quoted(u8),
    LineComment,
    BlockComment,
}

/// One `%` directive in a query.
#[derive(Debug, PartialEq, Eq)]
enum Directive<'s> {
    /// `%%`
    Percent,
    /// `%s`
    Positional,
    /// `%(name)s`
    Named(&'s str),
}

/// The query with its `%` placeholders replaced by the literals of `named` or `positional` values (not
/// both). Errors, naming the byte offset, for a malformed or misplaced directive, a missing value and a
/// value left over.
pub fn format_query(sql: &str, named: &[(String, Value<'_>)], positional: &[Value<'_>]) -> Result<String> {
    if !named.is_empty() && !positional.is_empty() {
        return Err(Error::usage("a query takes either named (%(name)s) or positional (%s) parameters, not both"));
    }
    let mut out = String::with_capacity(sql.len() + 32);
    let mut literal = LiteralWriter::new();
    let mut used = vec![false; named.len()];
    let mut next = 0usize;
    let mut at = 0usize;
    for (pos, len, directive) in directives(sql)? {
        out.push_str(&sql[at..pos]);
        at = pos + len;
        let value = match directive {
            Directive::Percent => {
                out.push('%');
                continue;
            }
            Directive::Positional => {
                if !named.is_empty() {
                    return Err(Error::usage(format!("%s at byte {pos}, but the parameters are named")));
                }
                let v = positional.get(next).ok_or_else(|| {
                    Error::usage(format!(
                        "%s at byte {pos} is placeholder {}, but {} values were given",
                        next + 1,
                        positional.len()
                    ))
                })?;
                next += 1;
                v
            }
            Directive::Named(name) => {
                let Some(i) = named.iter().position(|(n, _)| n == name) else {
                    return Err(Error::usage(format!("no value for %({name})s at byte {pos}")));
                };
                used[i] = true;
                &named[i].1
            }
        };
        // `1-%s` with -5 must not become the comment `1--5`, and next to identifier characters or `$`
        // a space keeps the literal a token of its own (`true$$…` would be one identifier, `[1]$$…` a
        // heredoc): what follows the placeholder lexes the same whatever the value.
        if out.bytes().last().is_some_and(|c| c == b'-' || super::is_word(c)) {
            out.push(' ');
        }
        literal.write(&mut out, value);
        if sql.as_bytes().get(at).copied().is_some_and(super::is_word) {
            out.push(' ');
        }
    }
    out.push_str(&sql[at..]);
    if next < positional.len() {
        return Err(Error::usage(format!("{} positional values given but the query has {next} %s", positional.len())));
    }
    if let Some(i) = used.iter().position(|u| !u) {
        return Err(Error::usage(format!("parameter {} is not used by the query (no %({})s)", named[i].0, named[i].0)));
    }
    Ok(out)
}

/// The `%` directives of `sql` as (byte offset, length, directive).
fn directives(sql: &str) -> Result<Vec<(usize, usize, Directive<'_>)>> {
    let b = sql.as_bytes();
    let mut out = Vec::new();
    let mut lex = Lex::Code;
    let mut words = super::Words::default();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'%' {
            let (len, d) = match b.get(i + 1) {
                Some(b'%') => (2, Directive::Percent),
                Some(b's') => (2, Directive::Positional),
                Some(b'(') => {
                    let close = b[i + 2..].iter().position(|&c| c == b')').map(|p| i + 2 + p);
                    match close {
                        Some(close) if b.get(close + 1) == Some(&b's') => {
                            (close + 2 - i, Directive::Named(&sql[i + 2..close]))
                        }
                        _ => return Err(Error::usage(format!("malformed %(name)s at byte {i}"))),
                    }
                }
                _ => {
                    return Err(Error::usage(format!(
                        "unsupported % directive at byte {i} (parameters are %s or %(name)s; write %% for a %)"
                    )));
                }
            };
            if d != Directive::Percent && lex != Lex::Code {
                let place = match lex {
                    Lex::Quoted(b'\'') => "a string literal",
                    Lex::Quoted(_) => "a quoted identifier",
                    _ => "a comment",
                };
                return Err(Error::usage(format!(
                    "placeholder at byte {i} is inside {place}; values are quoted for you, put the placeholder where the value goes"
                )));
            }
            out.push((i, len, d));
            words.reset();
            i += len;
            continue;
        }
        if lex == Lex::Code {
            if let Some(end) = super::heredoc_end(b, i, words) {
                // A heredoc string: `%%` inside still means `%`; a placeholder there is refused.
                let mut j = i;
                while let Some(p) = memchr::memchr(b'%', &b[j..end]).map(|p| j + p) {
                    if b.get(p + 1) != Some(&b'%') || p + 1 >= end {
                        return Err(Error::usage(format!(
                            "% at byte {p} is inside a $$ string: placeholders go where the value goes (write %% for a %)"
                        )));
                    }
                    out.push((p, 2, Directive::Percent));
                    j = p + 2;
                }
                i = end;
                words.reset();
                continue;
            }
        }
        let was_code = lex == Lex::Code;
        lex = match (lex, c) {
            (Lex::Code, b'\'' | b'"' | b'`') => Lex::Quoted(c),
            (Lex::Code, b'-') if b.get(i + 1) == Some(&b'-') => Lex::LineComment,
            (Lex::Code, b'#') => Lex::LineComment,
            (Lex::Code, b'/') if b.get(i + 1) == Some(&b'*') => {
                i += 1;
                Lex::BlockComment
            }
            (Lex::Quoted(_), b'\\') => {
                // An escaped byte never closes the quote; `%` after a backslash is still a directive.
                if b.get(i + 1) != Some(&b'%') {
                    i += 1;
                }
                lex
            }
            (Lex::Quoted(q), c) if c == q => Lex::Code,
            (Lex::LineComment, b'\n') => Lex::Code,
            (Lex::BlockComment, b'*') if b.get(i + 1) == Some(&b'/') => {
                i += 1;
                Lex::Code
            }
            (l, _) => l,
        };
        if was_code && lex == Lex::Code {
            words.step(c);
        } else {
            words.reset();
        }
        i += 1;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(pairs: &[(&str, Value<'static>)]) -> Vec<(String, Value<'static>)> {
        pairs.iter().map(|(n, v)| (n.to_string(), v.clone())).collect()
    }

    #[test]
    fn named_and_positional() {
        let q = format_query(
            "SELECT %(a)s, %(b)s, %(a)s LIKE 'x%%'",
            &named(&[("a", 1u8.into()), ("b", "it's".into())]),
            &[],
        )
        .unwrap();
        assert_eq!(q, "SELECT 1, 'it\\'s', 1 LIKE 'x%'");
        let q = format_query("SELECT %s - %s, 100%%", &[], &[Value::from(1u8), Value::from(-5i32)]).unwrap();
        assert_eq!(q, "SELECT 1 - -5, 100%");
        assert_eq!(format_query("SELECT 1-%s", &[], &[Value::from(-5i32)]).unwrap(), "SELECT 1- -5");
    }

    #[test]
    fn mistakes_are_errors() {
        let one = [Value::from(1u8)];
        let a = named(&[("a", 1u8.into())]);
        for (sql, n, p) in [
            ("SELECT %s, %s", &[][..], &one[..]),
            ("SELECT 1", &[][..], &one[..]),
            ("SELECT %(b)s", &a[..], &[][..]),
            ("SELECT 1", &a[..], &[][..]),
            ("SELECT %d", &[][..], &one[..]),
            ("SELECT %(a", &a[..], &[][..]),
            ("SELECT '%s'", &[][..], &one[..]),
            ("SELECT 1 /* %s */", &[][..], &one[..]),
            ("SELECT 1 -- %s", &[][..], &one[..]),
            ("SELECT `%s`", &[][..], &one[..]),
            ("SELECT %s", &a[..], &one[..]),
            ("SELECT 'a%'", &[][..], &one[..]),
            ("SELECT $$ %s $$", &[][..], &one[..]),
            ("SELECT $t$ %(a)s $t$", &a[..], &[][..]),
        ] {
            assert!(format_query(sql, n, p).is_err(), "{sql}");
        }
        // Quotes and comments end where the server's lexer ends them.
        assert!(format_query("SELECT 'it\\'s' || %s -- x\n, %s", &[], &[Value::from(1u8), Value::from(2u8)]).is_ok());
        assert_eq!(
            format_query("SELECT $$100%%$$, %s, a$b", &[], &[Value::from(1u8)]).unwrap(),
            "SELECT $$100%$$, 1, a$b"
        );
        // Next to word characters and `$` the literal gets spaces; `5$$…$$` is a number then a heredoc.
        assert_eq!(format_query("SELECT x%s$$", &[], &[Value::Bool(true)]).unwrap(), "SELECT x true $$");
        assert!(format_query("SELECT 5$$ %s $$", &[], &[Value::from(1u8)]).is_err(), "inside a heredoc");
        assert!(format_query("SELECT a$$ %s $$", &[], &[Value::from(1u8)]).is_ok(), "a$$ is an identifier");
    }
}
