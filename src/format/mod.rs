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
