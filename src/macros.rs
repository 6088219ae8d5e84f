//! tokio's `tokio::macros`: the support the macro expansions name.
//!
//! tokio keeps it public but hidden, and some code reaches into it (tokio's own tests build a
//! `poll_fn` through `tokio::macros::support::poll_fn`), so gort has the same path. gort's
//! `select!`, `join!` and `try_join!` expand through `gort::__private` instead; what is here is
//! the part of tokio's module that is plain standard-library re-exports plus `maybe_done`.

/// Items macro expansions use (tokio's `tokio::macros::support`). Not a public API.
#[doc(hidden)]
pub mod support {
    pub use crate::join::MaybeDone;
    pub use gort_executor::runtime::EntryFlavor;
    pub use std::future::{poll_fn, Future, IntoFuture};
    pub use std::pin::Pin;
    pub use std::result::Result;
    pub use std::task::{ready, Context, Poll};

    /// Wraps a future (or anything `IntoFuture`) in a [`MaybeDone`] (tokio's `maybe_done`).
    pub fn maybe_done<F: IntoFuture>(future: F) -> MaybeDone<F::IntoFuture> {
        MaybeDone::new(future)
    }
}
