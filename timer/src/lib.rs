//! gort's timers (DESIGN.md §4, issue 4).
//!
//! This crate will hold the 4-ary min-heap each P owns, `Sleep`/`Timeout`/`Interval`, and the
//! clock with `pause`/`advance` for tests. It reads the current P's heap from the per-thread
//! context the executor installs and never imports the executor.
//!
//! So far it has the heap itself ([`TimerHeap`], `heap.rs`): 4-ary, with lazily removed
//! zombies. The timer state it will hold, the futures, the clock and the executor's side (running
//! expired timers in `findRunnable`, bounding the poller's wait by the earliest deadline) are the
//! rest of issue 4.

mod heap;

pub use heap::TimerHeap;
