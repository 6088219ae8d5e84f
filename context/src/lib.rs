//! Per-thread state that several gort crates read (DESIGN.md §1): the executor sets it, and the
//! crates below it (`reactor`, `timer`) read it without importing the executor.
//!
//! - `budget.rs`: the coop budget, how many ready results a G may take in one poll.
//! - `blocking.rs`: where blocking work goes (the current runtime's blocking pool).

mod blocking;
mod budget;

pub use blocking::{set_blocking_spawner, spawn_blocking_job, BlockingJob, BlockingSpawner};
pub use budget::{poll_proceed, with_budget, Progress, DEFAULT_BUDGET};
