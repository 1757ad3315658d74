//! Text renderings of decoded values that reproduce ClickHouse's own, byte for byte.
//!
//! `text` writes a value the way the server's `TabSeparated` format does (and, inside arrays, tuples
//! and maps, the "quoted" form those use). It is what `chc` prints and what the differential tests
//! compare against the server's own output. `json` does the same for `JSONEachRow`.

pub mod json;
pub mod text;

pub use text::TextRenderer;
