//! Per-thread state that several gort crates read (DESIGN.md §1): the executor sets it, and the
//! crates below it (`reactor`, `timer`) read it without importing the executor.
//!
//! - `budget.rs`: the coop budget, how many ready results a G may take in one poll.
//! - `wake.rs`: waking a batch of wakers when one of them may panic.
//! - `waker_slot.rs`: the waker slot the timer entry and the channel waiter share, swapped for
//!   loom's under `cfg(loom)`.

mod budget;
mod debug;
mod wake;
mod waker_slot;

pub use budget::{
    has_budget_remaining, in_budgeted_poll, poll_proceed, with_budget, with_unconstrained,
    Progress, DEFAULT_BUDGET,
};
pub use debug::{debug_switch, debug_switch_in};
pub use wake::wake_all;
pub use waker_slot::WakerSlot;
