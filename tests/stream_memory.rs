//! A result far larger than memory budgets streams through `query_blocks` with bounded memory: 5.6 GB of
//! Native data from the real server, peak RSS of this test process checked afterwards. (Its own test
//! binary, so the peak belongs to this test alone.)

mod common;

#[test]
fn a_5_gb_result_streams_in_bounded_memory() {
    let c = common::modern();
    let rows_wanted: u64 = 700_000_000; // 5.6 GB of UInt64
    let mut rows = 0u64;
    let mut sum = 0u64;
    let meta = c
        .query_blocks(&format!("SELECT number FROM numbers({rows_wanted})"), |b| {
            rows += b.rows() as u64;
            if let Some(v) = b.columns()[0].column().view().as_u64() {
                sum = sum.wrapping_add(v.iter().fold(0u64, |a, x| a.wrapping_add(*x)));
            }
            Ok(())
        })
        .unwrap();
    assert_eq!(rows, rows_wanted);
    assert_eq!(sum, (rows_wanted - 1) * rows_wanted / 2);
    assert!(meta.wire_bytes > 5_600_000_000);
    let peak = common::peak_rss_kib();
    eprintln!("peak RSS {} MiB for {} MB streamed", peak / 1024, meta.wire_bytes / 1_000_000);
    assert!(peak < 100 * 1024, "peak RSS {peak} KiB");
}
