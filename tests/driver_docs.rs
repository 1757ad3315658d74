//! The Python driver's documented examples (`examples/driver_docs.rs`) against the real server: each
//! prints and checks the output the documentation shows.

mod common;

#[path = "../examples/driver_docs.rs"]
mod docs;

#[test]
fn the_documentations_examples_give_its_outputs() {
    common::env("CH_MODERN_URL");
    docs::run().unwrap();
}
