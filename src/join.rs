//! `join!`, `try_join!` and `pin!`: tokio's macros for running several futures inside one task.
//!
//! `join!` and `try_join!` expand (in `gort-macros`, `join.rs`) to one `poll_fn` over the
//! futures, each wrapped in a [`MaybeDone`] pinned on the caller's stack: no allocation and no
//! spawned task. Everything runs in the calling G, so the futures share its thread and its coop
//! budget; use `spawn` or a `JoinSet` for parallelism.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

pin_project_lite::pin_project! {
    /// A future of `join!`, or its output once it finished (the future itself is dropped then,
    /// as soon as it is done, not at the end of the join).
    #[doc(hidden)]
    #[project = MaybeDoneProj]
    #[project_replace = MaybeDoneTaken]
    pub enum MaybeDone<F: Future> {
        Running { #[pin] future: F },
        Done { output: F::Output },
        Taken,
    }
}

impl<F: Future> MaybeDone<F> {
    /// Wraps a future that has not run yet.
    pub fn new(future: F) -> MaybeDone<F> {
        MaybeDone::Running { future }
    }

    /// Polls the future if it still runs; `Ready` once its output is stored.
    pub fn poll_done(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if let MaybeDoneProj::Running { future } = self.as_mut().project() {
            let output = std::task::ready!(future.poll(cx));
            self.set(MaybeDone::Done { output });
        }
        Poll::Ready(())
    }

    /// Takes the stored output. Panics if there is none (the expansion only calls it once every
    /// future is done).
    pub fn take_output(self: Pin<&mut Self>) -> F::Output {
        match self.project_replace(MaybeDone::Taken) {
            MaybeDoneTaken::Done { output } => output,
            _ => unreachable!("join!: output taken before the future finished"),
        }
    }
}

impl<F, T, E> MaybeDone<F>
where
    F: Future<Output = Result<T, E>>,
{
    /// Whether the future finished with `Err` (`try_join!` then ends at once).
    pub fn output_is_err(self: Pin<&mut Self>) -> bool {
        matches!(self.project(), MaybeDoneProj::Done { output: Err(_) })
    }

    /// Takes the `Err` the future finished with.
    pub fn take_err(self: Pin<&mut Self>) -> E {
        match self.take_output() {
            Err(err) => err,
            Ok(_) => unreachable!("try_join!: take_err on an Ok output"),
        }
    }

    /// Takes the `Ok` value the future finished with.
    pub fn take_ok(self: Pin<&mut Self>) -> T {
        match self.take_output() {
            Ok(value) => value,
            Err(_) => unreachable!("try_join!: an Err output was not returned at once"),
        }
    }
}

/// Waits on several futures concurrently, in the calling task, and returns all their outputs as
/// a tuple once every one has completed (tokio's `join!`).
///
/// ```
/// # gort::block_on(async {
/// let (a, b) = gort::join!(async { 1 }, async { "two" });
/// assert_eq!((a, b), (1, "two"));
/// # });
/// ```
///
/// The futures are polled in turn on each wake-up, starting one further each time so that none
/// is starved; `join!(biased; a, b)` always polls them in the order written.
#[macro_export]
macro_rules! join {
    ($($tokens:tt)*) => {
        $crate::__private::join_internal!($crate; $($tokens)*)
    };
}

/// [`join!`] over futures that return `Result`: `Ok` with every value once all succeed, or the
/// first `Err` as soon as one fails, dropping the others (tokio's `try_join!`).
///
/// ```
/// # gort::block_on(async {
/// let ok: Result<(u8, u8), &str> = gort::try_join!(async { Ok(1) }, async { Ok(2) });
/// assert_eq!(ok, Ok((1, 2)));
/// let failed: Result<(u8, u8), &str> =
///     gort::try_join!(async { Ok(1) }, async { Err("no") });
/// assert_eq!(failed, Err("no"));
/// # });
/// ```
#[macro_export]
macro_rules! try_join {
    ($($tokens:tt)*) => {
        $crate::__private::try_join_internal!($crate; $($tokens)*)
    };
}

/// Pins values on the stack (tokio's `pin!`): `pin!(fut)` shadows the local `fut` with a
/// `Pin<&mut _>` to it, and `pin! { let fut = make(); }` pins a new local.
///
/// ```
/// # gort::block_on(async {
/// let sleep = gort::time::sleep(std::time::Duration::from_millis(1));
/// gort::pin!(sleep);
/// (&mut sleep).await;
/// assert!(sleep.is_elapsed());
/// # });
/// ```
#[macro_export]
macro_rules! pin {
    ($($name:ident),* $(,)?) => {
        $( let mut $name = ::core::pin::pin!($name); )*
    };
    ($(let $name:ident = $init:expr;)*) => {
        $( let mut $name = ::core::pin::pin!($init); )*
    };
}
