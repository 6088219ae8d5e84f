//! `join!`, `try_join!` and `pin!`: tokio's macros for running several futures inside one task.
//!
//! `join!` and `try_join!` expand (in `gort-macros`, `join.rs`) to one `poll_fn` over the
//! futures, each wrapped in a [`MaybeDone`] pinned on the caller's stack: no allocation and no
//! spawned task. Everything runs in the calling G, so the futures share its thread and its coop
//! budget; use `spawn` or a `JoinSet` for parallelism.

use std::future::{Future, IntoFuture};
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
    /// Wraps a future (or anything `IntoFuture`, as tokio's `join!` accepts) that has not run
    /// yet.
    pub fn new<I: IntoFuture<IntoFuture = F>>(future: I) -> MaybeDone<F> {
        MaybeDone::Running {
            future: future.into_future(),
        }
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

pin_project_lite::pin_project! {
    /// A future of `try_join!`, or the `Ok` value it finished with. An `Err` is never stored:
    /// it ends the join at once. Keeping only the `Ok` side lets the enum share the future's
    /// niche, so a `try_join!` is no larger than a `join!` over the same futures.
    #[doc(hidden)]
    #[project = TryMaybeDoneProj]
    #[project_replace = TryMaybeDoneTaken]
    pub enum TryMaybeDone<F, T> {
        Running { #[pin] future: F },
        Done { value: T },
        Taken,
    }
}

impl<F, T, E> TryMaybeDone<F, T>
where
    F: Future<Output = Result<T, E>>,
{
    /// Wraps a future (or anything `IntoFuture`) that has not run yet.
    pub fn new<I: IntoFuture<IntoFuture = F>>(future: I) -> TryMaybeDone<F, T> {
        TryMaybeDone::Running {
            future: future.into_future(),
        }
    }

    /// Polls the future if it still runs: `Ready(Ok(()))` once its `Ok` value is stored,
    /// `Ready(Err(e))` if it failed (the slot is then empty).
    pub fn poll_ok(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), E>> {
        if let TryMaybeDoneProj::Running { future } = self.as_mut().project() {
            match std::task::ready!(future.poll(cx)) {
                Ok(value) => self.set(TryMaybeDone::Done { value }),
                Err(err) => {
                    self.set(TryMaybeDone::Taken);
                    return Poll::Ready(Err(err));
                }
            }
        }
        Poll::Ready(Ok(()))
    }

    /// Takes the stored `Ok` value. Panics if there is none (the expansion only calls it once
    /// every future succeeded).
    pub fn take_ok(self: Pin<&mut Self>) -> T {
        match self.project_replace(TryMaybeDone::Taken) {
            TryMaybeDoneTaken::Done { value } => value,
            _ => unreachable!("try_join!: value taken before the future succeeded"),
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
/// Each argument may be anything `IntoFuture`.
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
