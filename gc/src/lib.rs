//! gort's tracing arena (DESIGN.md §5, issue 7).
//!
//! This crate will hold `Gc<T>`, the `Trace` trait, the collector that finds roots by "refcount
//! minus internal references", leak detection and `stats()`.
//!
//! Until the arena lands the crate is empty on purpose: the workspace layout of DESIGN.md §1
//! exists from the first commit so that dependency arrows can only point down.
