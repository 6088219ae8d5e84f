//! gort's tracing arena (DESIGN.md §5, issue 7).
//!
//! Today the crate holds the arena's allocation API, [`Gc`], and [`Trace`] (how the collector
//! will see the handles an object holds, with `#[derive(Trace)]` in `gort-macros`), so that the state other crates
//! allocate through it (channel state, `sync/src/chan`) keeps its layout when the collector
//! lands: a handle that clones and drops like `Arc`, freeing its object when the last handle
//! goes. What issue 7 adds behind the same API: an object header with a colour and trace and drop
//! functions, `Trace`, the collector that finds roots by "refcount minus internal references",
//! leak detection and `stats()`. Until then a cycle of `Gc`s leaks, exactly as a cycle of
//! `Arc`s does.

mod gc;
mod trace;

pub use gc::Gc;
pub use trace::{Edge, Trace, Visitor};
