//! gort's netpoller (DESIGN.md §4, issue 3).
//!
//! This crate will hold one `polling::Poller` per runtime, the poll descriptors (slab slot plus
//! generation) that park Gs on sockets, the `net` types and the `io` re-exports. The executor
//! drives it from `findRunnable` and from the one idle M; it never imports the executor.
//!
//! Until the netpoller lands the crate is empty on purpose: the workspace layout of DESIGN.md §1
//! exists from the first commit so that dependency arrows can only point down.
