//! The README's demo: create a table, insert a batch, query it back, print rows and throughput.
//!
//! `cargo run --release --example demo -- http://127.0.0.1:8123 [rows]` (scripts/demo starts a server).

use clickhouse_connect::format::TextRenderer;
use clickhouse_connect::native::{FixedBuilder, NullableBuilder, StringBuilder, TypeDesc};
use clickhouse_connect::{Client, QueryResult};
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let url = args.next().unwrap_or_else(|| "http://127.0.0.1:8123".into());
    let rows: u64 = args.next().map(|s| s.parse()).transpose()?.unwrap_or(1_000_000);

    let client = Client::from_url(&url)?;
    println!("connected to ClickHouse {} at {url} (database {})", client.server_version(), client.database());

    client.command("DROP TABLE IF EXISTS demo_events")?;
    client.command(
        "CREATE TABLE demo_events (id UInt64, user String, amount Float64, ts DateTime, note Nullable(String)) \
         ENGINE = MergeTree ORDER BY id",
    )?;

    // Build one batch column by column.
    let mut id = FixedBuilder::<u64>::new("UInt64");
    let mut user = StringBuilder::new();
    let mut amount = FixedBuilder::<f64>::new("Float64");
    let mut ts = FixedBuilder::<u32>::new("DateTime");
    let mut note = NullableBuilder::new(StringBuilder::new());
    let users = ["alice", "bob", "carol", "dave", "erin"];
    for i in 0..rows {
        id.push(i);
        user.push(users[(i % 5) as usize]);
        amount.push((i % 1000) as f64 * 0.25);
        ts.push(1_700_000_000 + (i as u32 % 86_400));
        if i % 3 == 0 {
            note.push_null(|b| b.push(""));
        } else {
            note.push_with(|b| b.push(format!("order #{i}")));
        }
    }
    let t = Instant::now();
    client.insert_block(
        "demo_events",
        &[("id", &id), ("user", &user), ("amount", &amount), ("ts", &ts), ("note", &note)],
    )?;
    let insert_s = t.elapsed().as_secs_f64();
    println!("inserted {rows} rows in {insert_s:.3} s ({:.0} rows/s)", rows as f64 / insert_s);

    let mut text = TextRenderer::new(client.server_timezone());
    let first = client.query("SELECT id, user, amount, ts, note FROM demo_events ORDER BY id LIMIT 5")?;
    print_table(&first, &mut text)?;

    let t = Instant::now();
    let mut read = 0usize;
    let mut sum = 0.0f64;
    client.query_blocks("SELECT id, user, amount FROM demo_events", |block| {
        read += block.rows();
        if let Some(c) = block.column("amount") {
            if let clickhouse_connect::native::ColumnView::Float64(v) = c.column().view() {
                sum += v.iter().sum::<f64>();
            }
        }
        Ok(())
    })?;
    let query_s = t.elapsed().as_secs_f64();
    println!("read back {read} rows in {query_s:.3} s ({:.0} rows/s); sum(amount) = {sum}", read as f64 / query_s);
    let server_sum = client.command("SELECT sum(amount) FROM demo_events")?;
    println!("server says sum(amount) = {server_sum}");

    let by_user = client.query(
        "SELECT user, count() AS n, round(avg(amount), 3) AS avg FROM demo_events GROUP BY user ORDER BY user",
    )?;
    print_table(&by_user, &mut text)?;
    Ok(())
}

/// Prints a result as ClickHouse's TabSeparatedWithNames would, through this crate's renderer.
fn print_table(r: &QueryResult, text: &mut TextRenderer) -> Result<(), Box<dyn std::error::Error>> {
    let types: &[TypeDesc] = &r.column_types;
    let mut out = r.column_names.join("\t").into_bytes();
    out.push(b'\n');
    for row in &r.rows {
        for (i, (v, t)) in row.iter().zip(types).enumerate() {
            if i > 0 {
                out.push(b'\t');
            }
            text.write_tsv(&mut out, v, t);
        }
        out.push(b'\n');
    }
    print!("{}", String::from_utf8_lossy(&out));
    Ok(())
}
