//! The Python driver's documented examples (`examples/driver_docs.rs`) against the real server: each
//! prints and checks the output the documentation shows.

mod common;

#[path = "../examples/driver_docs.rs"]
mod docs;

// Blocking-only: the example is the documentation's blocking code (the Python driver's synchronous
// calls, side by side); the same kinds of calls run on both drivers in driver_api.rs, client.rs and
// params.rs.
#[test]
fn the_documentations_examples_give_its_outputs() {
    common::env("CH_MODERN_URL");
    docs::run().unwrap();
}
