//! Adapters between gort and the tokio/hyper ecosystems (issue 3 onwards).
//!
//! This crate will hold hyper's `rt::Executor`, `rt::Read`, `rt::Write` and `rt::Timer` for gort
//! types, and tokio io-trait adapters. It is the only crate besides `benches` that names tokio or
//! hyper.
//!
//! Until the reactor lands there is nothing to adapt, so the crate is empty on purpose.
