//! Per-thread state that several gort crates read (DESIGN.md §1): the executor sets it, and the
//! crates below it (`reactor`, `timer`) read it without importing the executor.
//!
//! - `budget.rs`: the coop budget, how many ready results a G may take in one poll.

mod budget;

pub use budget::{poll_proceed, with_budget, Progress, DEFAULT_BUDGET};
