//! After the first blocks have sized the arena, decoding allocates nothing per block: a counting global
//! allocator watches the decoder over a real server response with fixed-width, string, nullable, array,
//! map and LowCardinality columns. The streaming inserter likewise allocates nothing per row or per
//! block once its builders and block buffers have grown.

mod common;

use clickhouse_connect::native::BlockDecoder;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};

struct Counting;

static ALLOCS: AtomicU64 = AtomicU64::new(0);

// SAFETY: forwards to the system allocator unchanged; only counts calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// The counter is process-wide and the test harness runs tests on parallel threads: each test holds
/// this lock so that it counts only its own allocations.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn alone() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

#[test]
fn steady_state_decoding_allocates_nothing_per_block() {
    let _alone = alone();
    let c = common::modern();
    let sql = "SELECT number, toString(number % 1000) AS s, if(number % 3 = 0, NULL, number) AS n, \
        range(number % 4) AS a, map(toString(number % 3), number) AS m, toLowCardinality(toString(number % 50)) AS lc, \
        toDateTime64(number, 3, 'UTC') AS t FROM numbers(3000000) SETTINGS max_block_size = 65536";
    let bytes = c.raw_query(sql, Some("Native")).unwrap();
    let mut d = BlockDecoder::new();
    let mut blocks = 0u64;
    let mut rows = 0usize;
    let mut steady_allocs = 0u64;
    let mut sum = 0u64;
    for chunk in bytes.chunks(16 * 1024) {
        let mut chunk = chunk;
        let before = ALLOCS.load(Ordering::Relaxed);
        while let Some(b) = d.feed(&mut chunk).unwrap() {
            blocks += 1;
            rows += b.rows();
            if let Some(v) = b.columns()[0].column().view().as_u64() {
                sum = sum.wrapping_add(v.iter().sum::<u64>());
            }
        }
        let after = ALLOCS.load(Ordering::Relaxed);
        if blocks > 4 {
            steady_allocs += after - before;
        }
    }
    d.finish().unwrap();
    assert_eq!(rows, 3_000_000);
    assert_eq!(sum, (0..3_000_000u64).sum::<u64>());
    assert!(blocks > 40, "{blocks} blocks");
    assert_eq!(steady_allocs, 0, "heap allocations after the first blocks ({blocks} blocks)");
}

#[test]
fn steady_state_streaming_inserts_allocate_nothing_per_block() {
    let _alone = alone();
    let c = common::modern();
    let t = common::table("alloc_insert");
    c.command(&format!(
        "CREATE TABLE {t} (id UInt64, s String, n Nullable(Int64), a Array(UInt32), lc LowCardinality(String), \
         f Float64) ENGINE = Memory"
    ))
    .unwrap();
    let names: Vec<String> = (0..100).map(|i| format!("name {i}")).collect();
    let arrays: Vec<clickhouse_connect::Value<'static>> = (0..4u32)
        .map(|k| clickhouse_connect::Value::Array((0..k).map(clickhouse_connect::Value::from).collect()))
        .collect();
    const BLOCK: u64 = 8192;
    const BLOCKS: u64 = 60;
    const WARM_UP: u64 = 12;
    let mut ins = c.inserter(&t, &[], BLOCK as usize).unwrap();
    let mut row = Vec::with_capacity(6);
    let mut steady_allocs = 0u64;
    let mut before = 0;
    for i in 0..BLOCK * BLOCKS {
        if i == BLOCK * WARM_UP {
            before = ALLOCS.load(Ordering::Relaxed);
        }
        row.clear();
        row.push(clickhouse_connect::Value::from(i));
        row.push(clickhouse_connect::Value::from(names[(i % 100) as usize].as_str()));
        row.push(if i % 3 == 0 {
            clickhouse_connect::Value::Null
        } else {
            clickhouse_connect::Value::Int64(-(i as i64))
        });
        row.push(arrays[(i % 4) as usize].clone());
        row.push(clickhouse_connect::Value::from(names[(i % 7) as usize].as_str()));
        row.push(clickhouse_connect::Value::Float64(i as f64 / 8.0));
        ins.write(&row).unwrap();
        if i == BLOCK * BLOCKS - 1 {
            steady_allocs = ALLOCS.load(Ordering::Relaxed) - before;
        }
    }
    let s = ins.end().unwrap();
    assert_eq!(s.rows, BLOCK * BLOCKS);
    let check = c
        .command(&format!(
            "SELECT concat(toString(count()), ' ', toString(sum(id)), ' ', toString(sum(length(a)))) FROM {t}"
        ))
        .unwrap();
    let n = BLOCK * BLOCKS;
    assert_eq!(check.trim(), format!("{n} {} {}", n * (n - 1) / 2, n / 4 * 6));
    c.command(&format!("DROP TABLE {t}")).unwrap();
    // The per-row Array values are cloned above (a Vec each): subtract those, what is left is the
    // inserter's. Block buffers come back from the sending thread; one that is late (a busy machine) is
    // replaced by a new one, so allow that now and then, but nothing per block and nothing per row.
    let row_clones = (WARM_UP * BLOCK..n).filter(|i| i % 4 != 0).count() as u64;
    let steady_blocks = BLOCKS - WARM_UP;
    let inserter_allocs = steady_allocs - row_clones;
    assert!(
        inserter_allocs < steady_blocks / 4,
        "{inserter_allocs} heap allocations in {steady_blocks} blocks of {BLOCK} rows after the first {WARM_UP}"
    );
}

/// A typed inserter of a struct of scalar fields pushes each field straight into its builder: no
/// allocation per row (nor per block, after the first blocks), as with rows of values.
#[cfg(feature = "serde")]
#[test]
fn steady_state_typed_inserts_allocate_nothing_per_row() {
    #[derive(serde::Serialize)]
    struct Row<'a> {
        id: u64,
        s: &'a str,
        n: Option<i64>,
        lc: &'a str,
        f: f64,
        d: &'a str,
    }
    let _alone = alone();
    let c = common::modern();
    let t = common::table("alloc_typed");
    c.command(&format!(
        "CREATE TABLE {t} (id UInt64, s String, n Nullable(Int64), lc LowCardinality(String), f Float64, d Date) \
         ENGINE = Memory"
    ))
    .unwrap();
    let names: Vec<String> = (0..100).map(|i| format!("name {i}")).collect();
    const BLOCK: u64 = 8192;
    const BLOCKS: u64 = 60;
    const WARM_UP: u64 = 12;
    let mut ins = c.inserter_as::<Row>(&t, BLOCK as usize).unwrap();
    let (mut before, mut steady_allocs) = (0, 0);
    for i in 0..BLOCK * BLOCKS {
        if i == BLOCK * WARM_UP {
            before = ALLOCS.load(Ordering::Relaxed);
        }
        let row = Row {
            id: i,
            s: &names[(i % 100) as usize],
            n: (i % 3 != 0).then(|| -(i as i64)),
            lc: &names[(i % 7) as usize],
            f: i as f64 / 8.0,
            d: "2024-02-29",
        };
        ins.write(&row).unwrap();
        if i == BLOCK * BLOCKS - 1 {
            steady_allocs = ALLOCS.load(Ordering::Relaxed) - before;
        }
    }
    let n = BLOCK * BLOCKS;
    assert_eq!(ins.end().unwrap().rows, n);
    let check = c.command(&format!("SELECT count(), sum(id), uniqExact(d) FROM {t}")).unwrap();
    assert_eq!(check.trim(), format!("{n}\t{}\t1", n * (n - 1) / 2));
    c.command(&format!("DROP TABLE {t}")).unwrap();
    let steady_blocks = BLOCKS - WARM_UP;
    assert!(
        steady_allocs < steady_blocks / 4,
        "{steady_allocs} heap allocations in {steady_blocks} blocks of {BLOCK} rows after the first {WARM_UP}"
    );
}

/// Reading rows into a borrowing struct allocates nothing per row: a block's rows reader is made once
/// per block (its few allocations), and strings are lent from the block.
#[cfg(feature = "serde")]
#[test]
fn rows_read_into_borrowing_structs_allocate_nothing_per_row() {
    #[derive(serde::Deserialize)]
    struct Row<'a> {
        number: u64,
        s: &'a str,
        n: Option<u64>,
    }
    let _alone = alone();
    let c = common::modern();
    let bytes = c
        .raw_query(
            "SELECT number, toString(number) AS s, if(number % 3 = 0, NULL, number) AS n FROM numbers(1000000) \
             SETTINGS max_block_size = 65536",
            Some("Native"),
        )
        .unwrap();
    let mut d = BlockDecoder::new();
    let (mut rows, mut blocks, mut sum, mut allocs) = (0u64, 0u64, 0u64, 0u64);
    let mut chunk = bytes.as_slice();
    while let Some(b) = d.feed(&mut chunk).unwrap() {
        let before = ALLOCS.load(Ordering::Relaxed);
        for row in b.rows_as::<Row>() {
            let row = row.unwrap();
            sum = sum.wrapping_add(row.number + row.s.len() as u64 + row.n.unwrap_or(0));
            rows += 1;
        }
        allocs += ALLOCS.load(Ordering::Relaxed) - before;
        blocks += 1;
    }
    assert_eq!(rows, 1_000_000);
    assert!(sum > 0);
    assert!(allocs <= blocks * 4, "{allocs} heap allocations reading {rows} rows in {blocks} blocks");
}
