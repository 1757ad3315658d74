//! Text renderings of decoded values that reproduce ClickHouse's own, byte for byte.
//!
//! `text` writes a value the way the server's `TabSeparated` format does (and, inside arrays, tuples
//! and maps, the "quoted" form those use). It is what `chc` prints and what the differential tests
//! compare against the server's own output. `json` does the same for `JSONEachRow`.

pub mod csv;
pub mod json;
pub mod parse;
pub mod read;
pub mod text;

pub use parse::TextParser;
pub use text::TextRenderer;

use jiff::tz::TimeZone;

/// Time zones by name, for the renderer and the parser: `None` is the server's zone; others are loaded
/// once (unknown names fall back to UTC) and then found by a string comparison — a result has one or a
/// few, and comparing is cheaper than hashing the name for every value.
pub(crate) struct Zones {
    default: TimeZone,
    loaded: Vec<(String, TimeZone)>,
}

impl Zones {
    pub(crate) fn new(server_tz: &str) -> Self {
        Zones { default: TimeZone::get(server_tz).unwrap_or(TimeZone::UTC), loaded: Vec::new() }
    }

    pub(crate) fn get(&mut self, name: Option<&str>) -> TimeZone {
        let Some(n) = name else { return self.default.clone() };
        if let Some((_, z)) = self.loaded.iter().find(|(k, _)| k == n) {
            return z.clone();
        }
        let z = TimeZone::get(n).unwrap_or(TimeZone::UTC);
        self.loaded.push((n.to_string(), z.clone()));
        z
    }
}
