//! Client-side binding: `%(name)s` and `%s` placeholders replaced by literals before the query is sent.
//!
//! The rules are Python's `%` formatting, as the Python driver uses it: once parameters are given,
//! every `%` in the query is syntax — `%(name)s` takes a named value, `%s` the next positional one, `%%`
//! is a literal `%` (also inside string literals: `LIKE 'a%%'`), and anything else is an error. What
//! Python would do silently and dangerously is refused: a placeholder inside a quoted string, a quoted
//! identifier, a comment or a heredoc as the server's lexer sees them (`lex.rs`: `/* */` comments
//! nest, so `/* a /* b */ %s */` is still a comment and a value there could close it), and a value that
//! is never used.

use super::lex::{self, Dialect, Lexer, Misplaced, Region};
use super::literal::LiteralWriter;
use crate::error::{Error, Result};
use crate::value::Value;

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
/// both), safe on every server version: a placeholder must be in code for every generation of the
/// server's lexer. Errors, naming the byte offset, for a malformed or misplaced directive, a missing
/// value and a value left over. [`format_query_for`] checks against one server version's lexer only.
pub fn format_query(sql: &str, named: &[(String, Value<'_>)], positional: &[Value<'_>]) -> Result<String> {
    format_query_in(&lex::DIALECTS, sql, named, positional)
}

/// [`format_query`] for a server reporting `server_version` (`Client::server_version`, e.g.
/// `26.9.2.1`): placeholders are checked against that version's lexer (every lexer when the version
/// does not parse). This is what [`crate::Client`] does.
pub fn format_query_for(
    server_version: &str,
    sql: &str,
    named: &[(String, Value<'_>)],
    positional: &[Value<'_>],
) -> Result<String> {
    format_query_in(lex::dialects_for(server_version), sql, named, positional)
}

fn format_query_in(
    dialects: &[Dialect],
    sql: &str,
    named: &[(String, Value<'_>)],
    positional: &[Value<'_>],
) -> Result<String> {
    if !named.is_empty() && !positional.is_empty() {
        return Err(Error::usage("a query takes either named (%(name)s) or positional (%s) parameters, not both"));
    }
    let mut out = String::with_capacity(sql.len() + 32);
    let mut literal = LiteralWriter::new();
    let mut used = vec![false; named.len()];
    let mut next = 0usize;
    let mut at = 0usize;
    for (pos, len, directive) in directives(sql, dialects)? {
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
        // `1-%s` with -5 must not become the comment `1--5`, next to identifier characters or `$` a
        // space keeps the literal a token of its own (`true$$…` would be one identifier, `[1]$$…` a
        // heredoc), and next to a `'` it keeps two string literals apart (`'a''b'` is one string,
        // `a'b`): what follows the placeholder lexes the same whatever the value.
        if out.bytes().last().is_some_and(|c| c == b'-' || c == b'\'' || super::is_word(c)) {
            out.push(' ');
        }
        literal.write(&mut out, value);
        if sql.as_bytes().get(at).copied().is_some_and(|c| c == b'\'' || super::is_word(c)) {
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

/// The `%` directives of `sql` as (byte offset, length, directive), each placeholder checked to be in
/// code for every lexer of `dialects`.
///
/// Directives are found as Python finds them, wherever they are; the lexers then walk the query taking
/// each directive in code as one token (`%%` becomes a `%`, which joins nothing; a placeholder becomes a
/// literal, which is self-contained and spaced from word characters), so they see the query as the
/// server will. Inside quotes, comments and heredocs a `%%` is just text.
fn directives<'s>(sql: &'s str, dialects: &[Dialect]) -> Result<Vec<(usize, usize, Directive<'s>)>> {
    let b = sql.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(p) = memchr::memchr(b'%', &b[i..]).map(|p| i + p) {
        let (len, d) = match b.get(p + 1) {
            Some(b'%') => (2, Directive::Percent),
            Some(b's') => (2, Directive::Positional),
            Some(b'(') => {
                let close = b[p + 2..].iter().position(|&c| c == b')').map(|q| p + 2 + q);
                match close {
                    Some(close) if b.get(close + 1) == Some(&b's') => {
                        (close + 2 - p, Directive::Named(&sql[p + 2..close]))
                    }
                    _ => return Err(Error::usage(format!("malformed %(name)s at byte {p}"))),
                }
            }
            _ => {
                return Err(Error::usage(format!(
                    "unsupported % directive at byte {p} (parameters are %s or %(name)s; write %% for a %)"
                )));
            }
        };
        out.push((p, len, d));
        i = p + len;
    }
    let mut lexers: Vec<Lexer<'_>> = dialects.iter().map(|d| Lexer::new(b, *d)).collect();
    for (pos, len, d) in &out {
        if *d == Directive::Percent {
            for lx in &mut lexers {
                if lx.at(*pos) == Region::Code {
                    lx.skip(pos + len);
                }
            }
        } else if let Err((why, versions)) = lex::place(&mut lexers, *pos, pos + len) {
            let hint = if why == Misplaced::Inside(Region::Heredoc) { " (write %% for a %)" } else { "" };
            return Err(Error::usage(format!(
                "placeholder at byte {pos} {}; values are quoted for you, put the placeholder where the value goes{hint}",
                lex::misplaced_text(why, versions.as_deref())
            )));
        }
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
        // Adjacent string literals stay two tokens (`'a''b'` would be the one string `a'b`).
        let ab = [Value::from("a"), Value::from("b")];
        assert_eq!(format_query("SELECT %s%s", &[], &ab).unwrap(), "SELECT 'a' 'b'");
        assert_eq!(format_query("SELECT 'x'%s", &[], &ab[..1]).unwrap(), "SELECT 'x' 'a'");
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

    #[test]
    fn comments_nest_as_the_server_nests_them() {
        let one = [Value::from("*/, currentUser() --")];
        let refused = |sql: &str, version: &str| {
            let e = format_query_for(version, sql, &[], &one).unwrap_err().to_string();
            assert!(e.contains("inside a comment"), "{sql} on {version}: {e}");
        };
        for version in ["26.9.2.1", "24.8.1", "20.10.1", ""] {
            refused("SELECT 'safe' AS a /* off: /* old */ , %s AS b */", version);
            refused("SELECT 1 /* 1 /* 2 /* 3 */ 2 */ %s */", version);
            refused("SELECT 1 /*/* x */%s */", version);
            refused("SELECT 1 /* /* */ %s", version);
            refused("SELECT 1 /*/ %s */", version);
            assert_eq!(
                format_query_for(version, "SELECT 1 /* a /* b */ c */ , %s", &[], &one).unwrap(),
                "SELECT 1 /* a /* b */ c */ , '*/, currentUser() --'"
            );
            assert!(format_query_for(version, "SELECT 1 /*/**/*/, %s", &[], &one).is_ok());
        }
        // 18.16 ends a comment at its first `*/`: there the placeholder is in code, while a quote after
        // that `*/` opens a string that a nesting lexer would not see.
        assert!(format_query_for("18.16.1", "SELECT 1 /* a /* b */ , %s", &[], &one).is_ok());
        let legacy_string = "SELECT 'a' AS z /* x /* y */, ' */ , %s AS b --'";
        assert!(format_query_for("26.9.2.1", legacy_string, &[], &one).is_ok());
        let e = format_query_for("18.16.1", legacy_string, &[], &one).unwrap_err().to_string();
        assert!(e.contains("inside a string literal"), "{e}");
        // Without a version, every generation must agree.
        let e = format_query(legacy_string, &[], &one).unwrap_err().to_string();
        assert!(e.contains("inside a string literal for ClickHouse up to 20.9"), "{e}");
        let e = format_query("SELECT 1 /* /* */ %s */", &[], &one).unwrap_err().to_string();
        assert!(e.contains("inside a comment for ClickHouse 20.10 and newer"), "{e}");
        // `%%` inside a comment is text, and cannot join `*` and `/`.
        assert_eq!(
            format_query("SELECT 1 /* *%%/ */ , %s", &[], &one[..1]).unwrap(),
            "SELECT 1 /* *%/ */ , '*/, currentUser() --'"
        );
    }

    #[test]
    fn line_comments_and_dollars() {
        let one = [Value::from(1u8)];
        let ok = |sql: &str| format_query_for("26.9.2.1", sql, &[], &one).map_err(|e| e.to_string());
        // `//` is a line comment: its quote opens nothing, and a placeholder in it is refused.
        assert!(ok("SELECT 1 // it's\n, %s").is_ok());
        assert!(ok("SELECT 1 // %s").unwrap_err().contains("inside a comment"));
        assert!(ok("SELECT 1 // '\n, ' AS s, %s, '").unwrap_err().contains("inside a string literal"));
        // `# ` and `#!` are comments on 22.2 and newer; a `#` followed by anything else is not.
        assert!(ok("SELECT 1 # it's\n, %s").is_ok());
        assert!(ok("SELECT 1 #! %s").unwrap_err().contains("inside a comment"));
        assert!(ok("SELECT 1 #x, %s").is_ok());
        assert!(ok("SELECT 1 #x '\n, %s, '").unwrap_err().contains("inside a string literal"));
        assert!(format_query_for("21.8.1", "SELECT 1 # it's\n, %s", &[], &one).is_err(), "no # comments before 22.2");
        // After a number, `$a$$` is one identifier: the quote after it opens a string.
        assert!(ok("SELECT 1$a$$, ' $$, %s AS b, ' AS c").unwrap_err().contains("inside a string literal"));
        // Heredoc tags are word characters on 25.8 and newer, anything up to the next `$` before.
        assert!(ok("SELECT $a b$ %s $a b$").is_ok());
        let e = format_query_for("24.8.1", "SELECT $a b$ %s $a b$", &[], &one).unwrap_err().to_string();
        assert!(e.contains("inside a $$ string"), "{e}");
        // With any-character tags, a value between `$` signs after a `$` that opened no heredoc could
        // spell that `$`'s tag: `$ 5 $ ' $ 5 $` would be a heredoc for the value 5 only.
        let two = [Value::from(5u8), Value::from("x")];
        let sql = "SELECT $ %s $ ' $ 5 $ ', %s";
        let e = format_query_for("24.8.1", sql, &[], &two).unwrap_err().to_string();
        assert!(e.contains("between $ signs"), "{e}");
        assert!(format_query_for("26.9.2.1", sql, &[], &two).is_ok());
    }
}
