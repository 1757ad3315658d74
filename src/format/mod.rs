//! Text renderings of decoded values that reproduce ClickHouse's own, byte for byte.
//!
//! `text` writes a value the way the server's `TabSeparated` format does (and, inside arrays, tuples
//! and maps, the "quoted" form those use). It is what `chc` prints and what the differential tests
//! compare against the server's own output. `json` does the same for `JSONEachRow`.

pub mod cells;
pub mod csv;
pub mod input;
pub mod json;
pub(crate) mod json_text;
pub mod parse;
pub mod read;
pub mod text;

pub use parse::TextParser;
pub use text::{DATETIME, TextRenderer};

use jiff::tz::TimeZone;

/// Time zones by name, for the renderer and the parser: `None` is the server's zone; others are loaded
/// once and then found by a string comparison — a result has one or a few, and comparing is cheaper
/// than hashing the name for every value.
///
/// Zones come from the IANA time zone database compiled into this crate (jiff's bundled copy), never
/// from the machine's, so the same value renders the same everywhere. A zone the database does not
/// know is an error, never a silent UTC.
pub(crate) struct Zones {
    default: Result<TimeZone, String>,
    loaded: Vec<(String, Result<TimeZone, String>)>,
}

fn load(name: &str) -> Result<TimeZone, String> {
    // The server's name for UTC in some builds.
    let name = if name == "Etc/UTC" || name == "UTC" { "UTC" } else { name };
    TimeZone::get(name).map_err(|_| format!("unknown time zone {:?}", crate::error::excerpt(name.as_bytes(), 64)))
}

impl Zones {
    pub(crate) fn new(server_tz: &str) -> Self {
        Zones { default: load(server_tz), loaded: Vec::new() }
    }

    pub(crate) fn get(&mut self, name: Option<&str>) -> Result<TimeZone, String> {
        let Some(n) = name else { return self.default.clone() };
        if let Some((_, z)) = self.loaded.iter().find(|(k, _)| k == n) {
            return z.clone();
        }
        let z = load(n);
        self.loaded.push((n.to_string(), z.clone()));
        z
    }

    /// Loads every zone a value of type `t` may need: an error names the first unknown one.
    pub(crate) fn check(&mut self, t: &crate::types::TypeDesc) -> Result<(), String> {
        use crate::types::TypeDesc as T;
        match t {
            T::DateTime(tz) | T::DateTime64(_, tz) => self.get(tz.as_deref()).map(|_| ()),
            T::Nullable(c) | T::Array(c) | T::LowCardinality(c) | T::SimpleAggregateFunction(_, c) => self.check(c),
            T::Map(k, v) => self.check(k).and_then(|()| self.check(v)),
            T::Tuple(items) => items.iter().try_for_each(|(_, c)| self.check(c)),
            T::Nested(items) => items.iter().try_for_each(|(_, c)| self.check(c)),
            T::Variant(items) => items.iter().try_for_each(|c| self.check(c)),
            _ => Ok(()),
        }
    }
}
