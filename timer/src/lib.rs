//! gort's timers (DESIGN.md §4, issue 4).
//!
//! This crate will hold the 4-ary min-heap each P owns, `Sleep`/`Timeout`/`Interval`, and the
//! clock with `pause`/`advance` for tests. It reads the current P's heap from the per-thread
//! context the executor installs and never imports the executor.
//!
//! Until timers land the crate is empty on purpose: the workspace layout of DESIGN.md §1 exists
//! from the first commit so that dependency arrows can only point down.
