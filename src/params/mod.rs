//! Parameter binding, both ways the Python driver offers.
//!
//! **Server side** (the default when the query has `{name:Type}` placeholders; servers from 19.11):
//! values travel as `param_name` URL parameters in the text form the server parses for the type, never
//! as SQL. Each value is first made canonical for its placeholder's type — pushed through the type's
//! column builder (a checked conversion: a wrong kind or an out-of-range value is an error naming the
//! parameter, before anything is sent) and decoded back — then rendered by [`crate::format::TextRenderer`],
//! which reproduces the server's own TabSeparated text byte for byte ([`server`]).
//!
//! **Client side** (`%(name)s` / `%s`, or `{name:Type}` when asked for with
//! [`crate::CallOptions::client_side_binding`], e.g. on 18.16): each value becomes a ClickHouse literal
//! ([`literal`](mod@literal)) spliced into the SQL where the server's lexer has code: a placeholder inside a quote,
//! a comment (`/* */` comments nest: `/* a /* b */ %s */` is still a comment) or a heredoc is refused,
//! by the rules of the server's version (`Client` binds with [`format_query_for`] and
//! [`substitute_server_placeholders_for`]; [`format_query`] and [`substitute_server_placeholders`]
//! check the rules of every version, see `lex.rs`).
//!
//! Values are [`Value`]s: anything with `Into<Value>` binds — Rust integers, floats,
//! strings, byte strings, `bool`, `Option`, `Vec`, tuples, maps, `std::net` addresses, jiff dates and
//! timestamps, and your own types once they implement `From<YourType> for Value<'static>`.
//!
//! ```no_run
//! use clickhouse_connect::{CallOptions, Client, params};
//! let client = Client::from_url("http://localhost:8123")?;
//! // Server side: typed placeholders.
//! let opts = CallOptions::new().param("since", 10u64).param("name", "it's");
//! client.query_with("SELECT {name:String}, number FROM numbers(20) WHERE number > {since:UInt64}", &opts)?;
//! // Client side, named (Python's `%(name)s`) and positional (`%s`).
//! client.query_with("SELECT %(a)s, %(b)s", &CallOptions::new().params(params! { "a" => 1u8, "b" => clickhouse_connect::Value::array([1.5f64]) }))?;
//! client.query_with("SELECT %s + %s", &CallOptions::new().args((1u8, 2i64)))?;
//! # Ok::<(), clickhouse_connect::Error>(())
//! ```

pub mod client;
pub(crate) mod lex;
pub mod literal;
pub mod server;

pub use client::{format_query, format_query_for};
pub use literal::{LiteralWriter, literal};
pub use server::{
    Placeholder, canonical_value, server_params, server_placeholders, substitute_server_placeholders,
    substitute_server_placeholders_for,
};

/// The words (keywords and identifiers) of `sql` that stand in code — outside strings, quoted names,
/// comments and heredocs — as a server reporting `server_version` reads them (under each lexer
/// generation the version may use: a word in code under any of them is listed).
///
/// ```
/// let words = clickhouse_connect::params::code_words("SELECT 'WITH TOTALS' /* TOTALS */ WITH TOTALS", "26.9");
/// assert_eq!(words, ["SELECT", "WITH", "TOTALS"]);
/// ```
pub fn code_words(sql: &str, server_version: &str) -> Vec<String> {
    let b = sql.as_bytes();
    let mut out: Vec<(usize, String)> = Vec::new();
    for dialect in lex::dialects_for(server_version) {
        let mut lexer = lex::Lexer::new(b, *dialect);
        let mut i = 0;
        while i < b.len() {
            let starts = (b[i].is_ascii_alphabetic() || b[i] == b'_') && (i == 0 || !lex::is_word(b[i - 1]));
            if !starts {
                i += 1;
                continue;
            }
            let end = b[i..].iter().position(|c| !lex::is_word(*c)).map_or(b.len(), |p| i + p);
            if lexer.region_of(i) == lex::Region::Code && !out.iter().any(|(at, _)| *at == i) {
                out.push((i, String::from_utf8_lossy(&b[i..end]).into_owned()));
            }
            i = end;
        }
    }
    out.sort_by_key(|(at, _)| *at);
    out.into_iter().map(|(_, w)| w).collect()
}

pub(crate) use lex::is_word;

use crate::value::Value;

/// Positional parameters: tuples of values, `Vec`s, arrays and slices of values.
pub trait IntoArgs {
    /// The values, in order.
    fn into_args(self) -> Vec<Value<'static>>;
}

impl<T: Into<Value<'static>>> IntoArgs for Vec<T> {
    fn into_args(self) -> Vec<Value<'static>> {
        self.into_iter().map(Into::into).collect()
    }
}

impl<T: Into<Value<'static>>, const N: usize> IntoArgs for [T; N] {
    fn into_args(self) -> Vec<Value<'static>> {
        self.into_iter().map(Into::into).collect()
    }
}

impl<T: Into<Value<'static>> + Clone> IntoArgs for &[T] {
    fn into_args(self) -> Vec<Value<'static>> {
        self.iter().cloned().map(Into::into).collect()
    }
}

macro_rules! args_tuple {
    ($($n:ident),+) => {
        impl<$($n: Into<Value<'static>>),+> IntoArgs for ($($n,)+) {
            #[allow(non_snake_case)]
            fn into_args(self) -> Vec<Value<'static>> {
                let ($($n,)+) = self;
                vec![$($n.into()),+]
            }
        }
    };
}
args_tuple!(A);
args_tuple!(A, B);
args_tuple!(A, B, C);
args_tuple!(A, B, C, D);
args_tuple!(A, B, C, D, E);
args_tuple!(A, B, C, D, E, F);
args_tuple!(A, B, C, D, E, F, G);
args_tuple!(A, B, C, D, E, F, G, H);

/// Named parameters: `params! { "id" => 5u64, "name" => "x" }` is a `Vec<(String, Value<'static>)>`
/// for [`crate::CallOptions::params`].
#[macro_export]
macro_rules! params {
    () => { ::std::vec::Vec::<(::std::string::String, $crate::Value<'static>)>::new() };
    ($($name:expr => $value:expr),+ $(,)?) => {
        ::std::vec![$((::std::string::String::from($name), $crate::Value::from($value))),+]
    };
}
