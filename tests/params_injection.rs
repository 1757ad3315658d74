//! Client-side binding against the real servers' lexers: a value must never end a comment, quote or
//! heredoc that the server sees around its placeholder. Each case either is refused before anything is
//! sent (the placeholder is inside a comment or quote, by the server's rules) or the hostile value comes
//! back as data: exactly the template's columns, the value byte for byte, and `currentUser()` never run.

mod common;
#[path = "common/drivers.rs"]
mod drivers;

use clickhouse_connect::{CallOptions, Error, Value};

/// Closes a `/* */` comment that a lexer without nesting thinks is already closed, then runs SQL.
const HOSTILE: &str = "*/, currentUser() AS who, (SELECT count() FROM system.tables) AS n --";

/// The three client-side forms of one template whose placeholder is written `@`.
fn forms(template: &str, value: &str) -> [(String, CallOptions); 3] {
    [
        (template.replace('@', "%s"), CallOptions::new().args((value.to_string(),))),
        (template.replace('@', "%(v)s"), CallOptions::new().param("v", value.to_string())),
        (template.replace('@', "{v:String}"), CallOptions::new().param("v", value.to_string()).client_side_binding()),
    ]
}

/// Refused before sending with a usage error naming where the placeholder is.
fn assert_refused(c: &drivers::Driver, template: &str, value: &str, place: &str) {
    for (sql, opts) in forms(template, value) {
        match c.query_with(&sql, &opts) {
            Err(Error::Usage(m)) => assert!(m.contains(place), "{sql}: {m}"),
            Err(e) => panic!("{sql}: expected a usage error before sending, got {e}"),
            Ok(r) => panic!("{sql}: bound and ran, the server returned columns {:?}: {:?}", r.column_names, r.rows),
        }
    }
}

/// Bound and run: exactly `columns`, the value where `b` is.
fn assert_data(c: &drivers::Driver, template: &str, value: &str, columns: &[&str]) {
    for (sql, opts) in forms(template, value) {
        let r = c.query_with(&sql, &opts).unwrap_or_else(|e| panic!("{sql}: {e}"));
        assert_eq!(r.column_names, columns, "{sql}");
        let b = columns.iter().position(|c| *c == "b").unwrap();
        assert_eq!(r.rows.len(), 1, "{sql}");
        assert_eq!(r.rows[0][b], Value::from(value), "{sql}");
    }
}

#[test]
fn a_value_cannot_close_a_nested_comment() {
    for c in drivers::Driver::both("CH_MODERN_URL") {
        let c = &c;
        // The placeholder is inside the outer comment: `/* old */` only closes the inner one.
        assert_refused(c, "SELECT 'safe' AS a /* off: /* old */ , @ AS b */", HOSTILE, "inside a comment");
        // Deeper, and with the placeholder right after an inner comment closes.
        assert_refused(c, "SELECT 'safe' AS a /* 1 /* 2 /* 3 */ 2 */@ */ AS b", HOSTILE, "inside a comment");
        assert_refused(c, "SELECT 'safe' AS a /*/* x */@ AS b */", HOSTILE, "inside a comment");
        // An unterminated comment runs to the end: every placeholder after it is inside.
        assert_refused(c, "SELECT 'safe' AS a /* /* */ @ AS b", HOSTILE, "inside a comment");
        // Where the nested comment really is closed, the value is data.
        assert_data(c, "SELECT 'safe' AS a /* off: /* old */ still off */ , @ AS b", HOSTILE, &["a", "b"]);
        assert_data(c, "SELECT 'safe' AS a /*/**/*/, @ AS b /**/", HOSTILE, &["a", "b"]);
        assert_eq!(c.command("SELECT count() FROM system.one").unwrap(), "1");
    }
}

#[test]
fn double_slash_comments_and_dollars_after_numbers_lex_as_the_server_lexes_them() {
    for c in drivers::Driver::both("CH_MODERN_URL") {
        let c = &c;
        let payload = " AS s1, currentUser() AS who, ";
        // `//` starts a line comment on both servers: the quote on that line opens nothing.
        assert_refused(c, "SELECT 1 AS a // '\n, ' AS s, @ AS b, ' AS c", payload, "inside a string literal");
        assert_data(c, "SELECT 1 AS a // it's\n, @ AS b", payload, &["a", "b"]);
        // After a number, `$a$$` is an identifier (not `$a` then a `$$` heredoc): the quote opens a string.
        assert_refused(c, "SELECT 1$a$$, ' $$, @ AS b, ' AS c", payload, "inside a string literal");
        // `#` needs a space or `!` after it to start a comment (26.9); `# ` comments hide quotes.
        assert_data(c, "SELECT 1 AS a # it's\n, @ AS b", payload, &["a", "b"]);
        assert_data(c, "SELECT 1 AS a #!it's\n, @ AS b", payload, &["a", "b"]);
    }
}

#[test]
fn legacy_server_comments_do_not_nest() {
    // 18.16 ends a comment at its first `*/`: the quote after it opens a string there, so a client that
    // nests comments would put this placeholder in code while 18.16 reads it inside a string.
    for old in drivers::Driver::both("CH_LEGACY_URL") {
        let payload = " AS s1, currentUser() AS who, ";
        assert_refused(&old, "SELECT 'a' AS z /* x /* y */, ' */ , @ AS b --'", payload, "inside a string literal");
        // Nested-looking comments that 18.16 reads flat: the placeholder after the first `*/` is code there.
        let (sql, opts) = &forms("SELECT 'a' AS z /* x /* y */, @ AS b", HOSTILE)[0];
        let r = old.query_with(sql, opts).unwrap();
        assert_eq!(r.column_names, ["z", "b"]);
        assert_eq!(r.rows[0][1], Value::from(HOSTILE));
    }
    // The same text on 26.9 is one unterminated comment: refused there.
    for c in drivers::Driver::both("CH_MODERN_URL") {
        assert_refused(&c, "SELECT 'a' AS z /* x /* y */, @ AS b", HOSTILE, "inside a comment");
    }
}
