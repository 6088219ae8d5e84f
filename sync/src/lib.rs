//! gort's Go channels and synchronisation (DESIGN.md §2, issue 6).
//!
//! This crate will hold `chan`/`Sender`/`Receiver` with Go's semantics, the runtime side of
//! `select!`, `WaitGroup`, and the async locks. Channel state is allocated in the `gort-gc`
//! arena.
//!
//! Until channels land the crate is empty on purpose: the workspace layout of DESIGN.md §1 exists
//! from the first commit so that dependency arrows can only point down.
