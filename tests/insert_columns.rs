//! Which columns an insert sends and where it looks them up: computed columns (MATERIALIZED, ALIAS,
//! EPHEMERAL) are left out of an insert "into all columns", as ClickHouse's own INSERT without a column
//! list does; the lookup follows the call's database and session and is made for every insert (so an ALTER applies at once).

mod common;
#[path = "common/drivers.rs"]
mod drivers;

use clickhouse_connect::{CallOptions, Value};
use common::table;

#[test]
fn all_columns_means_the_columns_an_insert_without_a_list_takes() {
    for c in drivers::Driver::both("CH_MODERN_URL") {
        let t = table("ins_computed");
        c.command(&format!(
            "CREATE TABLE {t} (a UInt64, b UInt64 MATERIALIZED a * 2, c String ALIAS toString(a), \
             d UInt8 DEFAULT 7, e UInt64 EPHEMERAL, f String DEFAULT 'x') ENGINE = MergeTree ORDER BY a"
        ))
        .unwrap();
        let rows: Vec<Vec<Value>> =
            (0..3u64).map(|i| vec![Value::from(i), Value::from(1u8), Value::from("s")]).collect();
        c.insert(&t, &[], &rows).unwrap();
        c.insert(&t, &["*"], &rows).unwrap();
        let mut ins = c.open_inserter(&t, &[], 10, &CallOptions::new()).unwrap();
        assert_eq!(ins.columns().iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(), ["a", "d", "f"]);
        ins.write(&[Value::from(10u64), Value::from(2u8), Value::from("t")]).unwrap();
        ins.end().unwrap();
        // The same rows through the server's own INSERT without a column list, into a twin table: the
        // tables must be equal, computed columns included.
        let twin = table("ins_computed_twin");
        c.command(&format!("CREATE TABLE {twin} AS {t}")).unwrap();
        let tsv = "0\t1\ts\n1\t1\ts\n2\t1\ts\n".repeat(2) + "10\t2\tt\n";
        c.raw_insert(&twin, &[], "TSV", tsv.as_bytes()).unwrap();
        for (x, y) in [(&t, &twin), (&twin, &t)] {
            let diff = c
                .command(&format!(
                    "SELECT count() FROM (SELECT a, b, c, d, f FROM {x} EXCEPT ALL SELECT a, b, c, d, f FROM {y})"
                ))
                .unwrap();
            assert_eq!(diff, "0");
        }
        assert_eq!(c.command(&format!("SELECT count() FROM {t}")).unwrap(), "7");
        c.command(&format!("DROP TABLE {twin}")).unwrap();
        // A named EPHEMERAL column can be given.
        c.insert(&t, &["a", "e"], &[vec![Value::from(100u64), Value::from(5u64)]]).unwrap();
        c.command(&format!("DROP TABLE {t}")).unwrap();
    }

    for old in drivers::Driver::both("CH_LEGACY_URL") {
        let t = table("ins_computed_legacy");
        old.command(&format!(
            "CREATE TABLE {t} (a UInt64, b UInt64 MATERIALIZED a * 2, c String ALIAS toString(a), d UInt8 DEFAULT 7) \
         ENGINE = MergeTree ORDER BY a"
        ))
        .unwrap();
        old.insert(&t, &[], &[vec![Value::from(4u64), Value::from(1u8)]]).unwrap();
        assert_eq!(old.command(&format!("SELECT a, b, c, d FROM {t}")).unwrap(), "4\t8\t4\t1");
        old.command(&format!("DROP TABLE {t}")).unwrap();
    }
}

#[test]
fn the_lookup_follows_the_calls_database_and_session_and_an_alter() {
    for c in drivers::Driver::both("CH_MODERN_URL") {
        let t = table("ins_where");
        let db = table("ins_db");
        c.command(&format!("CREATE DATABASE {db}")).unwrap();
        c.command(&format!("CREATE TABLE {t} (x UInt64) ENGINE = Memory")).unwrap();
        c.command(&format!("CREATE TABLE {db}.{t} (x String, y Date) ENGINE = Memory")).unwrap();
        // Same table name, other database, other types.
        let in_db = CallOptions::new().database(&db);
        c.insert_with(&t, &[], &[vec![Value::from("text"), Value::Date(1)]], &in_db).unwrap();
        c.insert(&t, &[], &[vec![Value::from(5u64)]]).unwrap();
        assert_eq!(c.command(&format!("SELECT x, y FROM {db}.{t}")).unwrap(), "text\t1970-01-02");
        assert_eq!(c.command(&format!("SELECT x FROM {t}")).unwrap(), "5");
        // A session's temporary table.
        let s = CallOptions::new().session(format!("ins-{}", table("s")));
        c.command_with("CREATE TEMPORARY TABLE tmp_ins (v String)", &s).unwrap();
        c.insert_with("tmp_ins", &[], &[vec![Value::from("in session")]], &s).unwrap();
        let mut ins = c.open_inserter("tmp_ins", &[], 10, &s).unwrap();
        ins.write(&[Value::from("streamed")]).unwrap();
        ins.end().unwrap();
        assert_eq!(c.command_with("SELECT count() FROM tmp_ins", &s).unwrap(), "2");
        // After an ALTER the next insert sees the new columns.
        c.command(&format!("ALTER TABLE {t} ADD COLUMN z String")).unwrap();
        c.insert(&t, &[], &[vec![Value::from(6u64), Value::from("12")]]).unwrap();
        assert_eq!(c.command(&format!("SELECT z FROM {t} WHERE x = 6")).unwrap(), "12");
        c.command(&format!("ALTER TABLE {t} MODIFY COLUMN z UInt8")).unwrap();
        c.insert(&t, &[], &[vec![Value::from(7u64), Value::from(9u8)]]).unwrap();
        assert_eq!(c.command(&format!("SELECT z FROM {t} WHERE x = 7")).unwrap(), "9");
        c.command(&format!("DROP DATABASE {db}")).unwrap();
        c.command(&format!("DROP TABLE {t}")).unwrap();
    }
}
