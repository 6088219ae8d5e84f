//! A collection never makes the process wait on a thread stuck inside a poll (issue 14): while
//! one G blocks its thread for 400 ms in a plain poll (pinned, as every poll is), collections
//! are wanted all the time (explicit `gc::collect()` calls from a plain thread, and automatic
//! ones from allocations in a G), and a 1 ms ticker on the same runtime keeps at least 90% of
//! the ticks it makes in the same setting without the blocked poll. On 1 P and on 2, and with
//! the blocked poll on a second runtime in the process (the arena is process-wide).
//!
//! One test, run in sequence: the scenarios share the process's arena, and so must not run at
//! the same time.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use gort::gc::{Gc, GcCell};
use gort::runtime::Runtime;

use common::{runtime, watchdog};

/// How long the blocked poll lasts, and the window the ticks are counted in.
const WINDOW: Duration = Duration::from_millis(400);

/// A node that can point at itself: each one made and dropped is a cycle for the collector.
#[derive(gort::gc::Trace)]
struct Node {
    next: GcCell<Option<Gc<Node>>>,
}

/// Ticks of a 1 ms ticker on `ticking` over [`WINDOW`], while a plain thread calls
/// `gc::collect()` every 2 ms and a G on `ticking` makes self-cycles (automatic collections),
/// and, if `blocked` is given, a G on that runtime blocks its thread for the whole window
/// inside one poll.
fn ticks_while_collections_are_wanted(ticking: &Runtime, blocked: Option<&Runtime>) -> usize {
    let stop = Arc::new(AtomicBool::new(false));
    let collector = {
        let stop = Arc::clone(&stop);
        thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                gort::gc::collect();
                thread::sleep(Duration::from_millis(2));
            }
        })
    };
    let allocator = {
        let stop = Arc::clone(&stop);
        ticking.spawn(async move {
            while !stop.load(Ordering::SeqCst) {
                for _ in 0..512 {
                    let node = Gc::new(Node {
                        next: GcCell::new(None),
                    });
                    *node.next.lock() = Some(Gc::clone(&node));
                }
                gort::time::sleep(Duration::from_millis(1)).await;
            }
        })
    };
    let entered = Arc::new(AtomicBool::new(false));
    let blocker = blocked.map(|runtime| {
        let entered = Arc::clone(&entered);
        runtime.spawn(async move {
            entered.store(true, Ordering::SeqCst);
            thread::sleep(WINDOW + Duration::from_millis(50));
        })
    });
    if blocker.is_some() {
        while !entered.load(Ordering::SeqCst) {
            thread::sleep(Duration::from_micros(100));
        }
    }
    let ticks = ticking.block_on(ticking.spawn(async {
        let start = Instant::now();
        let mut ticks = 0;
        while start.elapsed() < WINDOW {
            gort::time::sleep(Duration::from_millis(1)).await;
            ticks += 1;
        }
        ticks
    }));
    stop.store(true, Ordering::SeqCst);
    collector.join().unwrap();
    ticking.block_on(allocator).unwrap();
    if let (Some(runtime), Some(blocker)) = (blocked, blocker) {
        runtime.block_on(blocker).unwrap();
    }
    ticks.expect("ticker")
}

/// The ticks with the blocked poll must be at least 90% of those without.
fn check(name: &str, ticking: &Runtime, blocked: &Runtime) {
    let without = ticks_while_collections_are_wanted(ticking, None);
    let with = ticks_while_collections_are_wanted(ticking, Some(blocked));
    eprintln!("{name}: {with} ticks beside a blocked poll, {without} without");
    assert!(
        with * 10 >= without * 9,
        "{name}: a poll blocked for {WINDOW:?} cut the ticker from {without} to {with} ticks \
         while collections were wanted"
    );
}

#[test]
fn collections_never_stall_the_process_on_a_blocked_poll() {
    let _watchdog = watchdog(
        Duration::from_secs(120),
        "collections beside a blocked poll",
    );
    let one = runtime(1);
    check("1 P", &one, &one);
    let two = runtime(2);
    check("2 Ps", &two, &two);
    check("two runtimes", &one, &two);
}
