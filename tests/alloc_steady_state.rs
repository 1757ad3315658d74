//! After the first blocks have sized the arena, decoding allocates nothing per block: a counting global
//! allocator watches the decoder over a real server response with fixed-width, string, nullable, array,
//! map and LowCardinality columns.

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

#[test]
fn steady_state_decoding_allocates_nothing_per_block() {
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
