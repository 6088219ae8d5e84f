//! tokio's `tokio::macros`: the support the macro expansions name.
//!
//! tokio keeps it public but hidden, and some code reaches into it (tokio's own tests build a
//! `poll_fn` through `tokio::macros::support::poll_fn`), so gort has the same path. gort's
//! `select!`, `join!` and `try_join!` expand through `gort::__private` instead; what is here is
//! the part of tokio's module that is plain standard-library re-exports plus `maybe_done`,
//! and the entry points of a `#[gort::main]`/`#[gort::test]` given a runtime `name`.

/// Items macro expansions use (tokio's `tokio::macros::support`). Not a public API.
#[doc(hidden)]
pub mod support {
    pub use crate::join::MaybeDone;
    pub use gort_executor::runtime::EntryFlavor;
    pub use std::future::{poll_fn, Future, IntoFuture};
    pub use std::pin::Pin;
    pub use std::result::Result;
    pub use std::task::{ready, Context, Poll};

    use gort_executor::runtime::{Builder, LocalOptions};

    /// Wraps a future (or anything `IntoFuture`) in a [`MaybeDone`] (tokio's `maybe_done`).
    pub fn maybe_done<F: IntoFuture>(future: F) -> MaybeDone<F::IntoFuture> {
        MaybeDone::new(future)
    }

    /// `run_main` of a `#[gort::main(name = "...")]`: the same, on a runtime named `name`
    /// (multi-thread or current-thread; the attribute rejects `name` with `flavor = "local"`).
    #[track_caller]
    pub fn run_main_named<F: Future>(
        flavor: EntryFlavor,
        worker_threads: Option<usize>,
        start_paused: bool,
        name: &str,
        future: F,
    ) -> F::Output {
        // `#[gort::main]` refuses `name` with `flavor = "local"`: a `LocalRuntime` can be made
        // the process default only from inside the executor (`run_main`).
        assert!(
            flavor != EntryFlavor::Local,
            "gort: a named local runtime cannot be the process default"
        );
        let runtime = entry_builder(flavor, worker_threads, start_paused, name)
            .build()
            .expect("gort: cannot start the runtime");
        runtime.install_as_default();
        runtime.block_on(future)
    }

    /// `run_test` of a `#[gort::test(name = "...")]`: the same, on a runtime named `name`.
    #[track_caller]
    pub fn run_test_named<F: Future>(
        flavor: EntryFlavor,
        worker_threads: Option<usize>,
        start_paused: bool,
        name: &str,
        future: F,
    ) -> F::Output {
        let mut builder = entry_builder(flavor, worker_threads, start_paused, name);
        if flavor == EntryFlavor::Local {
            return builder
                .build_local(LocalOptions::default())
                .expect("gort: cannot start the runtime")
                .block_on(future);
        }
        builder
            .build()
            .expect("gort: cannot start the runtime")
            .block_on(future)
    }

    /// The builder `run_main`/`run_test` use for `flavor`, with the runtime's name set.
    #[track_caller]
    fn entry_builder(
        flavor: EntryFlavor,
        worker_threads: Option<usize>,
        start_paused: bool,
        name: &str,
    ) -> Builder {
        let mut builder = match flavor {
            EntryFlavor::CurrentThread | EntryFlavor::Local => Builder::new_current_thread(),
            EntryFlavor::MultiThread => Builder::new_multi_thread(),
        };
        if let Some(procs) = worker_threads {
            builder.worker_threads(procs);
        }
        builder.start_paused(start_paused).name(name);
        builder
    }
}
