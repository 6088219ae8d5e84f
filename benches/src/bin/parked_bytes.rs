//! Where the bytes of an idle task go: `parked200k`'s loop (each task parked on a receive from a
//! rendezvous channel of its own) under a counting global allocator, which prints how many
//! allocations of each size are still live per task once every task is parked, with glibc's
//! chunk size for each (the request plus 8, rounded up to 16, at least 32).
//!
//! `cargo run --release -p gort-benches --bin parked_bytes` (BENCHMARKS.md, issue 17, has the
//! table it fills). Sizes that are live for fewer than half the tasks (the runtime's own setup,
//! the growing slabs) are summed on one line.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicIsize, AtomicUsize, Ordering};

/// Tasks parked, as in `parked200k`.
const TASKS: usize = 200_000;

/// Sizes above this are counted together.
const LARGEST_COUNTED: usize = 4096;

/// Whether allocations are being counted (only while the tasks park).
static COUNTING: AtomicBool = AtomicBool::new(false);

/// Live allocations made while counting, by requested size (the last slot: anything larger).
static LIVE: [AtomicIsize; LARGEST_COUNTED + 2] =
    [const { AtomicIsize::new(0) }; LARGEST_COUNTED + 2];

/// Live bytes made while counting, for the larger sizes.
static LARGE_BYTES: AtomicIsize = AtomicIsize::new(0);

/// Tasks whose receive has parked.
static PARKED: AtomicUsize = AtomicUsize::new(0);

/// The system allocator, counting what it hands out and takes back while [`COUNTING`].
struct Counting;

impl Counting {
    fn count(size: usize, delta: isize) {
        if COUNTING.load(Ordering::Relaxed) {
            LIVE[size.min(LARGEST_COUNTED + 1)].fetch_add(delta, Ordering::Relaxed);
            if size > LARGEST_COUNTED {
                LARGE_BYTES.fetch_add(delta * size as isize, Ordering::Relaxed);
            }
        }
    }
}

// SAFETY: every call is passed on to `System` unchanged.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        Counting::count(layout.size(), 1);
        // SAFETY: the caller's contract, passed on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        Counting::count(layout.size(), -1);
        // SAFETY: the caller's contract, passed on.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        Counting::count(layout.size(), -1);
        Counting::count(new_size, 1);
        // SAFETY: the caller's contract, passed on.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[cfg(not(feature = "mimalloc"))]
#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// glibc's chunk for a request of `size` bytes on 64-bit Linux.
fn glibc_chunk(size: usize) -> usize {
    ((size + 8 + 15) & !15).max(32)
}

fn main() {
    if cfg!(feature = "mimalloc") {
        eprintln!("parked_bytes counts glibc's allocations: build it without the mimalloc feature");
        std::process::exit(2);
    }
    let runtime = gort::runtime::Builder::new()
        .worker_threads(2)
        .build()
        .expect("a runtime");
    let senders = runtime.block_on(async {
        gort::spawn(async {
            let mut senders = Vec::with_capacity(TASKS);
            COUNTING.store(true, Ordering::SeqCst);
            for _ in 0..TASKS {
                let (tx, rx) = gort::chan::<u64>(0);
                senders.push(tx);
                gort::spawn(async move {
                    let mut recv = std::pin::pin!(rx.recv());
                    assert!(futures::poll!(recv.as_mut()).is_pending());
                    PARKED.fetch_add(1, Ordering::SeqCst);
                    assert_eq!(recv.await, None, "a message on a channel nobody sends on");
                });
            }
            while PARKED.load(Ordering::SeqCst) < TASKS {
                gort::task::yield_now().await;
            }
            COUNTING.store(false, Ordering::SeqCst);
            senders
        })
        .await
        .expect("the driver task")
    });
    println!("live allocations per parked task ({TASKS} tasks), by requested size:");
    let (mut total, mut total_chunks, mut other) = (0.0, 0.0, 0.0);
    for (size, live) in LIVE.iter().enumerate() {
        let live = live.load(Ordering::Relaxed) as f64;
        if size > LARGEST_COUNTED {
            other += LARGE_BYTES.load(Ordering::Relaxed) as f64 / TASKS as f64;
        } else if live >= TASKS as f64 / 2.0 {
            let per_task = live / TASKS as f64;
            println!(
                "  {size:5} B (glibc chunk {:4} B): {per_task:.3} per task",
                glibc_chunk(size)
            );
            total += per_task * size as f64;
            total_chunks += per_task * glibc_chunk(size) as f64;
        } else {
            other += live * size as f64 / TASKS as f64;
        }
    }
    println!("  everything else: {other:.1} B per task (requested)");
    println!(
        "sum: {:.1} B requested, {:.1} B in glibc chunks, per task",
        total + other,
        total_chunks + other
    );
    drop(senders);
}
