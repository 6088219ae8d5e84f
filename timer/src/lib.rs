//! gort's timers (DESIGN.md §4, issue 4).
//!
//! This crate will hold the 4-ary min-heap each P owns, `Sleep`/`Timeout`/`Interval`, and the
//! clock with `pause`/`advance` for tests. It reads the current P's heap from the per-thread
//! context the executor installs and never imports the executor.
//!
//! So far:
//!
//! - [`TimerHeap`] (`heap.rs`): the 4-ary min-heap, with lazily removed zombies;
//! - [`TimerEntry`] (`entry.rs`): one timer's state, a generation and a fired bit in one atomic,
//!   so that cancelling and re-arming never have to find the old heap record;
//! - [`Timers`] (`timers.rs`): one P's set (heap under a lock, earliest deadline in an atomic
//!   for other Ms), with `arm`, `cancel` and `run_expired`.
//!
//! The futures (`Sleep`, `Timeout`, `Interval`), the clock, and the executor's side (running
//! expired timers in `findRunnable` and when stealing, bounding the poller's wait by the earliest
//! deadline) are the rest of issue 4.

mod entry;
mod heap;
mod timers;

pub use entry::TimerEntry;
pub use heap::TimerHeap;
pub use timers::{Armed, Timers};
