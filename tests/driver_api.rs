//! The Python driver's contract, item by item (issue 14), against 26.9 and 18.16.

mod common;

use clickhouse_connect::CallOptions;
use clickhouse_connect::native::TypeDesc;
use common::{legacy, modern, table};

#[test]
fn results_carry_type_objects_and_the_query_id_on_every_server() {
    for c in [modern(), legacy()] {
        let id = format!("api-{}", table("q"));
        let r =
            c.query_with("SELECT toUInt64(1) AS a, 'x' AS b, [1.5] AS c", &CallOptions::new().query_id(&id)).unwrap();
        assert_eq!(r.query_id.as_deref(), Some(id.as_str()), "{}", c.server_version());
        assert_eq!(r.column_types[0], TypeDesc::UInt64);
        assert_eq!(r.column_types[1], TypeDesc::String);
        assert_eq!(r.column_types[2], TypeDesc::Array(Box::new(TypeDesc::Float64)));
        assert_eq!(r.column_type_names, ["UInt64", "String", "Array(Float64)"]);
        // Without an id, the one the query ran under (the server's, or the client's on 18.16).
        let r = c.query("SELECT 1").unwrap();
        assert!(r.query_id.is_some_and(|q| q.len() == 36), "{}", c.server_version());
    }
}
