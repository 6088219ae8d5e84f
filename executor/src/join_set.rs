//! `JoinSet`: a set of spawned Gs whose outputs are taken in completion order.
//!
//! Built on `futures::stream::FuturesUnordered`, which already polls only the members that were
//! woken; each member is a `JoinHandle` that also reports its G's id, so the set adds little
//! state of its own. As in tokio, dropping the set aborts every G still in it, and each spawn
//! returns an `AbortHandle` (`abort.rs`) for that one G.
//!
//! # `try_join_next`
//!
//! It must take a finished member without waiting and without losing the waker a pending
//! `poll_join_next` registered. `FuturesUnordered` keeps one waker, the last one it was polled
//! with, and may return `Pending` with members still queued, after waking that waker (it yields
//! once it has polled as many members as it holds, when members woke themselves, or when its
//! queue is caught mid-update). So the set polls it with its own [`TryJoinWaker`], which notes
//! that it was woken and passes every wake on to the waker of the last `poll_join_next`; it is
//! made on the first `try_join_next` only. A poll that ends `Pending` with that waker woken is
//! repeated; one that ends `Pending` without means no member has finished. The poll runs
//! unconstrained by the coop budget, as it could not yield anyway.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use futures::stream::{FuturesUnordered, Stream};

use crate::abort::AbortHandle;
use crate::join::{JoinError, JoinHandle};
use crate::runtime::Handle;
use crate::task_id::Id;

/// A collection of tasks spawned on a runtime, joined in the order they finish. Dropping the
/// set aborts the tasks still in it.
pub struct JoinSet<T> {
    members: FuturesUnordered<Member<T>>,
    /// Made by the first `try_join_next` (module doc).
    try_waker: Option<Arc<TryJoinWaker>>,
}

/// A member: a `JoinHandle` whose output carries the G's id.
struct Member<T> {
    handle: JoinHandle<T>,
}

impl<T> Future for Member<T> {
    type Output = Result<(Id, T), JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let id = self.handle.id();
        Pin::new(&mut self.handle)
            .poll(cx)
            .map(|result| result.map(|output| (id, output)))
    }
}

/// The waker `try_join_next` polls with (module doc).
struct TryJoinWaker {
    /// Set by every wake; cleared before each poll of `try_join_next`. `Relaxed`: it is read
    /// back by the thread that polls, after the poll, and a wake it misses from another thread
    /// was passed on to `last` anyway.
    woken: AtomicBool,
    /// The waker of the last `poll_join_next`, which must still be woken.
    last: gort_context::WakerSlot,
}

impl Wake for TryJoinWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Relaxed);
        if let Some(waker) = self.last.take() {
            waker.wake();
        }
    }
}

impl<T> JoinSet<T> {
    /// An empty set.
    pub fn new() -> JoinSet<T> {
        JoinSet {
            members: FuturesUnordered::new(),
            try_waker: None,
        }
    }

    /// Number of tasks in the set (finished but not yet joined ones included).
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }
}

impl<T: 'static> JoinSet<T> {
    /// Spawns `task` on the current runtime (as `gort::spawn` does) into the set, and returns
    /// an [`AbortHandle`] for it.
    #[track_caller]
    pub fn spawn<F>(&mut self, task: F) -> AbortHandle
    where
        F: Future<Output = T> + Send + 'static,
        T: Send,
    {
        self.insert(crate::spawn(task))
    }

    /// Spawns `task` on the runtime of `handle` into the set.
    #[track_caller]
    pub fn spawn_on<F>(&mut self, task: F, handle: &Handle) -> AbortHandle
    where
        F: Future<Output = T> + Send + 'static,
        T: Send,
    {
        self.insert(handle.spawn(task))
    }

    /// Spawns a `!Send` `task` on the current `LocalSet` into the set (tokio's
    /// `JoinSet::spawn_local`). Panics outside a `LocalSet`, as `task::spawn_local` does.
    #[track_caller]
    pub fn spawn_local<F>(&mut self, task: F) -> AbortHandle
    where
        F: Future<Output = T> + 'static,
    {
        self.insert(crate::local_set::spawn_local(task))
    }

    /// Spawns a `!Send` `task` on `local_set` into the set; it runs when the set is driven.
    #[track_caller]
    pub fn spawn_local_on<F>(
        &mut self,
        task: F,
        local_set: &crate::local_set::LocalSet,
    ) -> AbortHandle
    where
        F: Future<Output = T> + 'static,
    {
        self.insert(local_set.spawn_local(task))
    }

    /// Runs `f` on the current runtime's blocking pool (as `task::spawn_blocking` does) as a
    /// member of the set. Aborting it only keeps it from starting.
    #[track_caller]
    pub fn spawn_blocking<F>(&mut self, f: F) -> AbortHandle
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send,
    {
        self.insert(crate::task::spawn_blocking(f))
    }

    /// Runs `f` on the blocking pool of `handle`'s runtime as a member of the set.
    #[track_caller]
    pub fn spawn_blocking_on<F>(&mut self, f: F, handle: &Handle) -> AbortHandle
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send,
    {
        self.insert(handle.spawn_blocking(f))
    }

    /// Adds an already spawned task to the set (gort's addition: tokio's set only holds tasks
    /// it spawned itself).
    pub fn push(&mut self, handle: JoinHandle<T>) {
        self.members.push(Member { handle });
    }

    fn insert(&mut self, handle: JoinHandle<T>) -> AbortHandle {
        let abort = handle.abort_handle();
        self.push(handle);
        abort
    }

    /// Waits for the next task to finish and returns its result, or `None` if the set is
    /// empty. Cancel safe: dropped before it completes, it has taken no task out of the set.
    pub async fn join_next(&mut self) -> Option<Result<T, JoinError>> {
        std::future::poll_fn(|cx| self.poll_join_next(cx)).await
    }

    /// [`JoinSet::join_next`], with the id of the task that finished (a `JoinError` carries it
    /// too: [`JoinError::id`]).
    pub async fn join_next_with_id(&mut self) -> Option<Result<(Id, T), JoinError>> {
        std::future::poll_fn(|cx| self.poll_join_next_with_id(cx)).await
    }

    /// Takes the result of a task that has finished, without waiting: `None` if none has (or
    /// the set is empty).
    pub fn try_join_next(&mut self) -> Option<Result<T, JoinError>> {
        self.try_join_next_with_id()
            .map(|result| result.map(|(_, output)| output))
    }

    /// [`JoinSet::try_join_next`], with the id of the task that finished.
    pub fn try_join_next_with_id(&mut self) -> Option<Result<(Id, T), JoinError>> {
        let try_waker = self
            .try_waker
            .get_or_insert_with(|| {
                Arc::new(TryJoinWaker {
                    woken: AtomicBool::new(false),
                    last: gort_context::WakerSlot::new(),
                })
            })
            .clone();
        let waker = Waker::from(Arc::clone(&try_waker));
        let mut cx = Context::from_waker(&waker);
        loop {
            try_waker.woken.store(false, Ordering::Relaxed);
            let polled =
                gort_context::with_unconstrained(|| Pin::new(&mut self.members).poll_next(&mut cx));
            match polled {
                Poll::Ready(result) => return result,
                // Members were left unpolled (module doc): go on with them.
                Poll::Pending if try_waker.woken.load(Ordering::Relaxed) => continue,
                Poll::Pending => return None,
            }
        }
    }

    /// Aborts every task and waits until all of them have finished; the set is empty after.
    /// Their results, panics included, are discarded.
    pub async fn shutdown(&mut self) {
        self.abort_all();
        while self.join_next().await.is_some() {}
    }

    /// Waits for every task and returns their outputs in completion order. If one of them
    /// panicked, re-raises its panic; if one was cancelled, panics; the tasks still in the set
    /// are then aborted (the set is dropped).
    pub async fn join_all(mut self) -> Vec<T> {
        let mut outputs = Vec::with_capacity(self.len());
        while let Some(result) = self.join_next().await {
            match result {
                Ok(output) => outputs.push(output),
                Err(err) if err.is_panic() => std::panic::resume_unwind(err.into_panic()),
                Err(err) => panic!("{err}"),
            }
        }
        outputs
    }

    /// Aborts every task in the set. They stay in the set until joined (yielding a cancelled
    /// `JoinError` unless they had already finished).
    pub fn abort_all(&mut self) {
        for member in self.members.iter() {
            member.handle.abort();
        }
    }

    /// Removes every task from the set without aborting it: they keep running, detached.
    pub fn detach_all(&mut self) {
        self.members.clear();
    }

    /// Polls for the next task to finish: `Ready(Some(result))` takes it out of the set,
    /// `Ready(None)` means the set is empty, and `Pending` means that no task has finished, or
    /// that the coop budget is spent; `cx`'s waker is woken when that changes. Only the waker
    /// of the latest call is woken.
    pub fn poll_join_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<T, JoinError>>> {
        self.poll_join_next_with_id(cx)
            .map(|next| next.map(|result| result.map(|(_, output)| output)))
    }

    /// [`JoinSet::poll_join_next`], with the id of the task that finished.
    pub fn poll_join_next_with_id(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<(Id, T), JoinError>>> {
        if let Some(try_waker) = &self.try_waker {
            // A later `try_join_next` replaces `cx`'s waker in the members: it passes wakes on.
            try_waker.last.register(cx.waker());
        }
        Pin::new(&mut self.members).poll_next(cx)
    }
}

impl<T> Default for JoinSet<T> {
    fn default() -> JoinSet<T> {
        JoinSet::new()
    }
}

impl<T> Drop for JoinSet<T> {
    fn drop(&mut self) {
        for member in self.members.iter() {
            member.handle.abort();
        }
    }
}

impl<T> fmt::Debug for JoinSet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinSet").field("len", &self.len()).finish()
    }
}

/// Spawns every future of the iterator into a new set (as [`JoinSet::spawn`]).
impl<T, F> FromIterator<F> for JoinSet<T>
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    #[track_caller]
    fn from_iter<I: IntoIterator<Item = F>>(iter: I) -> JoinSet<T> {
        let mut set = JoinSet::new();
        set.extend(iter);
        set
    }
}

/// Spawns every future of the iterator into the set (as [`JoinSet::spawn`]).
impl<T, F> Extend<F> for JoinSet<T>
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    #[track_caller]
    fn extend<I: IntoIterator<Item = F>>(&mut self, iter: I) {
        for future in iter {
            self.spawn(future);
        }
    }
}
