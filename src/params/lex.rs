//! ClickHouse's SQL lexer, as far as client-side binding needs it: where comments, quoted strings and
//! identifiers, and heredocs begin and end.
//!
//! The rules changed over the server's history, and a value is only safe where every lexer the server
//! might use puts it in code, so each generation is a [`Dialect`]:
//!
//! | servers | `/* */` comments | `# ` comments | `$` |
//! |---|---|---|---|
//! | up to 20.9 (18.16) | end at the first `*/` | none (`#` is an error) | an identifier character (18.16: an error) |
//! | 20.10 to 21.8 | nest | none | an identifier character |
//! | 21.9 to 22.1 | nest | none | heredocs `$tag$…$tag$`, any tag without `$` |
//! | 22.2 to 25.7 | nest | `# ` and `#!` | heredocs, any tag |
//! | 25.8 and newer | nest | `# ` and `#!` | heredocs, tags of ASCII letters, digits and `_` |
//!
//! Common to all: `--` and `//` comments run to the next `\n` (not `\r`); an unterminated `/* */`
//! comment or quote runs to the end of the query (which the server then rejects, but a placeholder
//! there is still inside it); in `'…'`, `"…"` and `` `…` `` a backslash escapes the next byte and a
//! doubled quote is one quote character. Inside a nesting comment `/*` and `*/` are taken left to
//! right in pairs (`/*/` opens one level and the `/` is not reused). A `$` in an identifier (`a$b`,
//! `$x$y`) never opens a heredoc, but one right after a number (`5$$x$$`) does.
//!
//! One difference is kept on purpose: the server takes a sign right after a number's exponent as part
//! of the number (`1e--5` is `1e-`, then `-5`), where this lexer sees a `--` comment. A number ending
//! in its exponent's sign never parses, so such a query is always rejected; reading `--` as a comment
//! there is the cautious side (a lexer that wrongly took a real comment's `-` as a sign would bind
//! where the server has a comment).
//!
//! Heredoc tags with any characters (21.9 to 25.7) make one more case depend on the values: after a `$`
//! that opens no heredoc, a value between two `$` signs could spell that `$`'s tag and close it, so
//! the heredoc would exist for some values and not others. Such positions are refused
//! ([`Lexer::value_dependent`]).

use memchr::{memchr, memchr2, memmem};

/// How a lexer generation treats `$`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Dollar {
    /// No heredocs: `$` is an identifier character (18.16 rejects it; treating it as an identifier
    /// character is the stricter reading, and either way it opens nothing).
    Word,
    /// Heredocs whose tag is anything up to the next `$` (21.9 to 25.7).
    AnyTag,
    /// Heredocs whose tag is ASCII letters, digits and `_` (25.8 and newer).
    WordTag,
}

/// One generation of the server's lexer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dialect {
    /// The first server version that lexes this way (`None`: the oldest).
    since: Option<&'static str>,
    /// The last one (`None`: still current).
    until: Option<&'static str>,
    /// `/* */` comments nest.
    pub(crate) nested: bool,
    /// `# ` and `#!` start line comments.
    pub(crate) hash: bool,
    /// What `$` does.
    pub(crate) dollar: Dollar,
}

/// Every generation, oldest first.
pub(crate) const DIALECTS: [Dialect; 5] = [
    Dialect { since: None, until: Some("20.9"), nested: false, hash: false, dollar: Dollar::Word },
    Dialect { since: Some("20.10"), until: Some("21.8"), nested: true, hash: false, dollar: Dollar::Word },
    Dialect { since: Some("21.9"), until: Some("22.1"), nested: true, hash: false, dollar: Dollar::AnyTag },
    Dialect { since: Some("22.2"), until: Some("25.7"), nested: true, hash: true, dollar: Dollar::AnyTag },
    Dialect { since: Some("25.8"), until: None, nested: true, hash: true, dollar: Dollar::WordTag },
];

/// "ClickHouse 20.10 and newer", "ClickHouse up to 20.9", "ClickHouse 21.9 to 25.7": the versions of
/// `dialects` (in order), adjacent generations joined.
pub(crate) fn versions_text(dialects: &[Dialect]) -> String {
    // Runs of adjacent generations, as (first, last) indices into DIALECTS.
    let mut runs: Vec<(usize, usize)> = Vec::new();
    for i in dialects.iter().filter_map(|d| DIALECTS.iter().position(|x| x == d)) {
        match runs.last_mut() {
            Some((_, last)) if *last + 1 == i => *last = i,
            _ => runs.push((i, i)),
        }
    }
    let ranges = runs.iter().map(|&(a, b)| (DIALECTS[a].since, DIALECTS[b].until));
    let texts: Vec<String> = ranges
        .map(|r| match r {
            (None, None) => "every version".to_string(),
            (None, Some(u)) => format!("up to {u}"),
            (Some(s), None) => format!("{s} and newer"),
            (Some(s), Some(u)) => format!("{s} to {u}"),
        })
        .collect();
    format!("ClickHouse {}", texts.join(", "))
}

/// The first version of each generation after the oldest.
const FIRST: [(u32, u32); 4] = [(20, 10), (21, 9), (22, 2), (25, 8)];

/// The lexers a server reporting `version` (e.g. `26.9.2.1`) may use: its generation's; in the first
/// two minor versions of a generation also the one before (which release a change shipped in is taken
/// from its pull request's date, so the neighbour is kept for safety); every generation when the
/// version does not parse.
pub(crate) fn dialects_for(version: &str) -> &'static [Dialect] {
    let mut parts = version.split('.').map(|p| p.parse::<u32>().ok());
    let (Some(Some(major)), Some(Some(minor))) = (parts.next(), parts.next()) else {
        return &DIALECTS;
    };
    let v = (major, minor);
    let generation = FIRST.iter().filter(|&&f| v >= f).count();
    let uncertain = generation > 0 && {
        let (fm, fn_) = FIRST[generation - 1];
        v == (fm, fn_) || v == (fm, fn_ + 1)
    };
    &DIALECTS[generation - usize::from(uncertain)..=generation]
}

/// What a byte of SQL is part of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Region {
    /// Between tokens of code (or inside a code token such as a number or an operator).
    Code,
    /// A `'…'` string literal, or a `"…"` / `` `…` `` quoted identifier.
    Quoted(u8),
    /// A `--`, `//`, `# ` or `#!` comment.
    LineComment,
    /// A `/* */` comment.
    BlockComment,
    /// A `$$…$$` / `$tag$…$tag$` heredoc string.
    Heredoc,
}

impl Region {
    /// "a comment", "a string literal", …
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Region::Code => "code",
            Region::Quoted(b'\'') => "a string literal",
            Region::Quoted(_) => "a quoted identifier",
            Region::LineComment | Region::BlockComment => "a comment",
            Region::Heredoc => "a $$ string",
        }
    }
}

/// Tracks the run of word characters the lexer is in, which decides what a `$` means: inside an
/// identifier (`a$b`, `$x$y`) it is part of the identifier; anywhere else, including right after a
/// number (`5$$x$$`, `1abc$$x$$`: the server ends those at the last letter or digit), it may open a
/// heredoc.
#[derive(Clone, Copy, Default)]
pub(crate) struct Words {
    /// 0: not in a word, 1: in an identifier, 2: in a number (or an identifier that began with a digit).
    run: u8,
}

impl Words {
    /// Takes code byte `c` (not part of a quote, comment or heredoc).
    pub(crate) fn step(&mut self, c: u8) {
        if c == b'$' {
            // A `$` that opened no heredoc starts (or continues) an identifier: `1$a$$x$$` is `1` then the
            // identifier `$a$$x$$`, not `1`, `$a`, and a `$$x$$` heredoc.
            self.run = 1;
        } else if is_word(c) {
            if self.run == 0 {
                self.run = if c.is_ascii_digit() { 2 } else { 1 };
            }
        } else {
            self.run = 0;
        }
    }
    /// A token ended (a quote, comment, heredoc or placeholder).
    pub(crate) fn reset(&mut self) {
        self.run = 0;
    }
    /// Inside an identifier, where a `$` is part of it.
    fn in_identifier(self) -> bool {
        self.run == 1
    }
}

/// Letters, digits, `_` and `$`.
pub(crate) fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'$'
}

/// The lexer of one [`Dialect`] over a query, asked where successive positions are.
pub(crate) struct Lexer<'a> {
    b: &'a [u8],
    dialect: Dialect,
    /// The next byte to lex; always at a token boundary.
    i: usize,
    /// The last multi-byte token that is not code: its start, end and region.
    last: (usize, usize, Region),
    words: Words,
    /// With [`Dollar::AnyTag`]: the first `$` at a token start that opened no heredoc.
    open_dollar: Option<usize>,
}

impl<'a> Lexer<'a> {
    /// A lexer at the start of `sql`.
    pub(crate) fn new(sql: &'a [u8], dialect: Dialect) -> Self {
        Lexer { b: sql, dialect, i: 0, last: (0, 0, Region::Code), words: Words::default(), open_dollar: None }
    }

    /// The generation this lexer follows.
    pub(crate) fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// The region byte `pos` is in (`pos == len` asks for the state at the end). Positions never go
    /// back between calls.
    pub(crate) fn at(&mut self, pos: usize) -> Region {
        while self.i < pos {
            self.step();
        }
        let (start, end, region) = self.last;
        if pos < self.i && start <= pos && pos < end { region } else { Region::Code }
    }

    /// The region byte `i` (< the length) is part of: code, or a quote, comment or heredoc that
    /// contains it. Positions never go back between calls.
    pub(crate) fn region_of(&mut self, i: usize) -> Region {
        while self.i <= i && self.i < self.b.len() {
            self.step();
        }
        let (start, end, region) = self.last;
        if start <= i && i < end { region } else { Region::Code }
    }

    /// Takes `[pos, end)` as one code token — a placeholder, or `%%` — after [`Lexer::at`] found `pos`
    /// in code. What replaces it never joins the bytes around it into a token.
    pub(crate) fn skip(&mut self, end: usize) {
        debug_assert!(end >= self.i);
        self.i = end;
        self.words.reset();
    }

    /// Whether a value at `pos` (in code) could change where a heredoc ends: with tags of any
    /// characters, after a `$` that opened no heredoc, when there are `$` signs on both sides of `pos`
    /// (the value could spell that `$`'s tag between them).
    pub(crate) fn value_dependent(&self, pos: usize) -> bool {
        self.open_dollar.is_some_and(|o| o < pos) && memchr(b'$', &self.b[pos..]).is_some()
    }

    /// Lexes one token at `self.i`: a whole quote, comment or heredoc, or one byte of code.
    fn step(&mut self) {
        let (b, i) = (self.b, self.i);
        let c = b[i];
        if c == b'$' && !self.words.in_identifier() {
            match self.dialect.dollar {
                Dollar::Word => {}
                Dollar::WordTag => {
                    if let Some(end) = word_tag_heredoc_end(b, i) {
                        return self.token(end, Region::Heredoc);
                    }
                }
                Dollar::AnyTag => {
                    if let Some(end) = any_tag_heredoc_end(b, i) {
                        return self.token(end, Region::Heredoc);
                    }
                    self.open_dollar.get_or_insert(i);
                }
            }
        }
        match (c, b.get(i + 1).copied()) {
            (b'\'' | b'"' | b'`', _) => self.token(quoted_end(b, i), Region::Quoted(c)),
            (b'-', Some(b'-')) | (b'/', Some(b'/')) => self.token(line_end(b, i + 2), Region::LineComment),
            (b'#', Some(b' ' | b'!')) if self.dialect.hash => self.token(line_end(b, i + 2), Region::LineComment),
            (b'/', Some(b'*')) => {
                let end = if self.dialect.nested { nested_comment_end(b, i) } else { flat_comment_end(b, i) };
                self.token(end, Region::BlockComment)
            }
            _ => {
                self.words.step(c);
                self.i += 1;
            }
        }
    }

    fn token(&mut self, end: usize, region: Region) {
        self.last = (self.i, end, region);
        self.i = end;
        self.words.reset();
    }
}

/// The end of the quote opened at `i` (the end of the query when it never closes).
fn quoted_end(b: &[u8], i: usize) -> usize {
    let q = b[i];
    let mut j = i + 1;
    while let Some(p) = memchr2(q, b'\\', &b[j..]).map(|p| j + p) {
        if b[p] == q {
            if b.get(p + 1) == Some(&q) {
                j = p + 2;
                continue;
            }
            return p + 1;
        }
        // A backslash escapes whatever byte follows it.
        j = p + 2;
        if j > b.len() {
            break;
        }
    }
    b.len()
}

/// The `\n` ending a line comment whose text starts at `from` (or the end of the query).
fn line_end(b: &[u8], from: usize) -> usize {
    let from = from.min(b.len());
    memchr(b'\n', &b[from..]).map_or(b.len(), |p| from + p)
}

/// The end of the nesting `/* */` comment opened at `i`.
fn nested_comment_end(b: &[u8], i: usize) -> usize {
    let mut depth = 1usize;
    let mut j = i + 2;
    while j + 2 <= b.len() {
        match (b[j], b[j + 1]) {
            (b'/', b'*') => {
                depth += 1;
                j += 2;
            }
            (b'*', b'/') => {
                depth -= 1;
                j += 2;
                if depth == 0 {
                    return j;
                }
            }
            _ => j += 1,
        }
    }
    b.len()
}

/// The end of the `/* */` comment opened at `i`, by servers before 20.10: the first `*/` after the `/*`.
fn flat_comment_end(b: &[u8], i: usize) -> usize {
    memmem::find(&b[i + 2..], b"*/").map_or(b.len(), |p| i + 2 + p + 2)
}

/// The end of the heredoc opened at `i` by servers from 25.8: `$`, a tag of ASCII letters, digits and
/// `_`, `$`, and a later copy of that delimiter; without one the `$` is not a heredoc.
pub(crate) fn word_tag_heredoc_end(b: &[u8], i: usize) -> Option<usize> {
    let tag_len = b[i + 1..].iter().position(|&c| !(c.is_ascii_alphanumeric() || c == b'_'))?;
    let close = i + 1 + tag_len;
    if b.get(close) != Some(&b'$') {
        return None;
    }
    let delimiter = &b[i..=close];
    memmem::find(&b[close + 1..], delimiter).map(|p| close + 1 + p + delimiter.len())
}

/// The end of the heredoc opened at `i` by servers 21.9 to 25.7: the tag is everything up to the next
/// `$`.
fn any_tag_heredoc_end(b: &[u8], i: usize) -> Option<usize> {
    let close = i + 1 + memchr(b'$', &b[i + 1..])?;
    let delimiter = &b[i..=close];
    memmem::find(&b[close + 1..], delimiter).map(|p| close + 1 + p + delimiter.len())
}

/// Why a value may not go at a position.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Misplaced {
    /// The position is inside a quote, comment or heredoc.
    Inside(Region),
    /// See [`Lexer::value_dependent`].
    BetweenDollars,
}

/// Asks every lexer about a placeholder at `[pos, end)`; when each has it in code, each takes it as one
/// token. Otherwise the first reason and the versions it holds for (`None` when it holds for all).
pub(crate) fn place(lexers: &mut [Lexer<'_>], pos: usize, end: usize) -> Result<(), (Misplaced, Option<String>)> {
    let mut bad: Vec<(Misplaced, Dialect)> = Vec::new();
    for lx in lexers.iter_mut() {
        match lx.at(pos) {
            Region::Code if lx.value_dependent(pos) => bad.push((Misplaced::BetweenDollars, lx.dialect())),
            Region::Code => lx.skip(end),
            r => bad.push((Misplaced::Inside(r), lx.dialect())),
        }
    }
    let Some(&(first, _)) = bad.first() else { return Ok(()) };
    let dialects: Vec<Dialect> = bad.iter().filter(|(m, _)| *m == first).map(|(_, d)| *d).collect();
    Err((first, (dialects.len() < lexers.len()).then(|| versions_text(&dialects))))
}

/// "is inside a comment", "is inside a string literal for ClickHouse up to 20.9", …
pub(crate) fn misplaced_text(m: Misplaced, versions: Option<&str>) -> String {
    let mut s = match m {
        Misplaced::Inside(r) => format!("is inside {}", r.describe()),
        Misplaced::BetweenDollars => "is between $ signs after a $ that opens no heredoc (a value there could \
                                      complete a $tag$ heredoc delimiter)"
            .to_string(),
    };
    if let Some(v) = versions {
        s.push_str(" for ");
        s.push_str(v);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The region of the byte where `needle` starts, per dialect index.
    fn region(sql: &str, needle: &str, d: usize) -> Region {
        let pos = sql.find(needle).unwrap();
        Lexer::new(sql.as_bytes(), DIALECTS[d]).at(pos)
    }

    const NEW: usize = 4;

    #[test]
    fn comments_nest_except_on_old_servers() {
        let sql = "SELECT 1 /* a /* b */ X */ Y";
        assert_eq!(region(sql, "X", NEW), Region::BlockComment);
        assert_eq!(region(sql, "Y", NEW), Region::Code);
        assert_eq!(region(sql, "X", 0), Region::Code);
        // `/*/` opens one level; `*/*` closes one and the `*` does not start anything.
        assert_eq!(region("/*/ X */ Y", "X", NEW), Region::BlockComment);
        assert_eq!(region("/*/ X */ Y", "Y", NEW), Region::Code);
        assert_eq!(region("/*/ X */ Y", "Y", 0), Region::Code);
        assert_eq!(region("/* /* */*/ Y", "Y", NEW), Region::Code);
        assert_eq!(region("/**/ Y", "Y", NEW), Region::Code);
        assert_eq!(region("/*/**/ Y", "Y", NEW), Region::BlockComment, "unterminated");
        assert_eq!(region("/*/**/ Y", "Y", 0), Region::Code);
        // Quotes and heredocs inside comments mean nothing.
        assert_eq!(region("/* ' */ Y '", "Y", NEW), Region::Code);
        assert_eq!(region("/* $$ */ Y $$", "Y", NEW), Region::Code);
    }

    #[test]
    fn line_comments() {
        for d in 0..5 {
            assert_eq!(region("SELECT 1 // ' X\n Y '", "X", d), Region::LineComment);
            assert_eq!(region("SELECT 1 // ' X\n Y '", "Y", d), Region::Code);
            assert_eq!(region("SELECT 1 -- /* X\r Z\n Y", "Z", d), Region::LineComment);
            assert_eq!(region("SELECT 1 -- /* X\n Y", "Y", d), Region::Code);
        }
        // `# ` and `#!` from 22.2; a `#` followed by anything else is an error token, then code.
        assert_eq!(region("SELECT 1 # X\n Y", "X", 3), Region::LineComment);
        assert_eq!(region("SELECT 1 #!X\n Y", "X", NEW), Region::LineComment);
        assert_eq!(region("SELECT 1 #X", "X", NEW), Region::Code);
        assert_eq!(region("SELECT 1 # ' X\n Y", "Y", 2), Region::Quoted(b'\''));
        assert_eq!(region("SELECT 1 # ' X\n Y", "Y", NEW), Region::Code);
    }

    #[test]
    fn quotes() {
        assert_eq!(region(r"SELECT 'a\' X' Y", "X", NEW), Region::Quoted(b'\''));
        assert_eq!(region(r"SELECT 'a\' X' Y", "Y", NEW), Region::Code);
        assert_eq!(region("SELECT 'a'' X' Y", "X", NEW), Region::Quoted(b'\''));
        assert_eq!(region("SELECT 'a'' X' Y", "Y", NEW), Region::Code);
        assert_eq!(region("SELECT \"a\"\" X\" Y", "Y", NEW), Region::Code);
        assert_eq!(region("SELECT `a\\` X` Y", "X", NEW), Region::Quoted(b'`'));
        assert_eq!(region("SELECT 'a\\", "a", NEW), Region::Quoted(b'\''));
    }

    #[test]
    fn heredocs() {
        assert_eq!(region("SELECT $$ X $$ Y", "X", NEW), Region::Heredoc);
        assert_eq!(region("SELECT $$ X $$ Y", "Y", NEW), Region::Code);
        assert_eq!(region("SELECT $$ X $$ Y", "X", 1), Region::Code);
        assert_eq!(region("SELECT a$$ X $$ Y", "X", NEW), Region::Code);
        assert_eq!(region("SELECT 5$$ X $$ Y", "X", NEW), Region::Heredoc);
        assert_eq!(region("SELECT 1abc$$ X $$ Y", "X", NEW), Region::Heredoc);
        // After a number, a `$` that opens no heredoc starts an identifier that takes the next `$$`.
        assert_eq!(region("SELECT 1$a$$, ' $$, X, '", "X", NEW), Region::Quoted(b'\''));
        // Tags: word characters from 25.8, anything without `$` before.
        assert_eq!(region("SELECT $a b$ X $a b$ Y", "X", NEW), Region::Code);
        assert_eq!(region("SELECT $a b$ X $a b$ Y", "X", 3), Region::Heredoc);
        assert_eq!(region("SELECT $a b$ X $a b$ Y", "Y", 3), Region::Code);
    }

    #[test]
    fn values_between_dollars_after_an_open_dollar() {
        let sql = "SELECT $ X $ ' $ 5 $ ', Y";
        let mut lx = Lexer::new(sql.as_bytes(), DIALECTS[3]);
        let x = sql.find('X').unwrap();
        assert_eq!(lx.at(x), Region::Code);
        assert!(lx.value_dependent(x));
        let mut lx = Lexer::new(sql.as_bytes(), DIALECTS[NEW]);
        assert_eq!(lx.at(x), Region::Code);
        assert!(!lx.value_dependent(x));
    }

    #[test]
    fn versions() {
        let names = |v: &str| versions_text(dialects_for(v));
        assert_eq!(names("26.9.2.1"), "ClickHouse 25.8 and newer");
        assert_eq!(names("25.8.1"), "ClickHouse 22.2 and newer");
        assert_eq!(names("24.8.3.59"), "ClickHouse 22.2 to 25.7");
        assert_eq!(names("21.9.1"), "ClickHouse 20.10 to 22.1");
        assert_eq!(names("18.16.1"), "ClickHouse up to 20.9");
        assert_eq!(names("20.11.2"), "ClickHouse up to 21.8");
        assert_eq!(names(""), "ClickHouse every version");
        assert_eq!(names("nightly"), "ClickHouse every version");
        assert_eq!(versions_text(&[DIALECTS[0], DIALECTS[2], DIALECTS[3]]), "ClickHouse up to 20.9, 21.9 to 25.7");
    }
}
