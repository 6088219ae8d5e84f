//! `JoinSet`: a set of spawned Gs whose outputs are taken in completion order.
//!
//! Built on `futures::stream::FuturesUnordered`, which already polls only the members that were
//! woken; each member is a `JoinHandle` that also reports its G's id, so the set adds little
//! state of its own. As in tokio, dropping the set aborts every G still in it, and each spawn
//! returns an `AbortHandle` (`abort.rs`) for that one G.
//!
//! # The set's own waker
//!
//! The members are always polled with one waker of the set's, a [`ParentWaker`], which notes
//! that it was woken and passes wakes on to the waker of the last `poll_join_next`. Two things
//! need it:
//!
//! - The parent's waker is a user's, and dropping one runs user code, which may come back into
//!   the set or drive the runtime (a waker owning a runtime `block_on`s in its `Drop`). If
//!   `FuturesUnordered` held it, a new waker would replace it inside its poll, and the old one
//!   would be dropped there, in the middle of the set's poll. The set replaces it itself and
//!   drops the old one once its poll has returned, as tokio does.
//! - `try_join_next` must take a finished member without waiting and without losing the waker
//!   a pending `poll_join_next` registered. `FuturesUnordered` may return `Pending` with members
//!   still queued, after waking its waker (it yields once it has polled as many members as it
//!   holds, when members woke themselves, or when its queue is caught mid-update). A poll that
//!   ends `Pending` with the set's waker woken is repeated; one that ends `Pending` without
//!   means no member has finished. That poll runs unconstrained by the coop budget, as it could
//!   not yield anyway.
//!
//! While the set polls its members, a wake is only noted, not passed on: the parent is polling
//! right now, and taking its waker out of the slot to wake it would drop it (the user code
//! above) when the wake was `FuturesUnordered`'s own yield. The poll passes a noted wake on
//! when it ends (`poll_join_next` wakes its caller's waker by reference; `try_join_next` polls
//! again). The flag and the note are `SeqCst` on both sides, so a wake from another thread
//! either sees the poll over and passes itself on, or is seen by the poll's end.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
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
    /// The waker the members are polled with (module doc), made by the first poll.
    waker: Option<(Arc<ParentWaker>, Waker)>,
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

/// The waker the set polls its members with (module doc).
struct ParentWaker {
    /// Set by every wake; cleared when a poll of the members begins.
    woken: AtomicBool,
    /// Whether the set is polling its members now: a wake is then only noted (module doc).
    polling: AtomicBool,
    /// The waker of the last `poll_join_next`, until a wake takes it. A mutex rather than an
    /// atomic slot, so that replacing it hands the old one back to be dropped later.
    parent: Mutex<Option<Waker>>,
}

impl ParentWaker {
    /// Makes `waker` the one to wake; returns the one it replaces, for the caller to drop once
    /// its poll is over (module doc).
    fn replace(&self, waker: &Waker) -> Option<Waker> {
        let mut parent = self.parent.lock().unwrap_or_else(|e| e.into_inner());
        match &*parent {
            Some(current) if current.will_wake(waker) => None,
            _ => parent.replace(waker.clone()),
        }
    }

    /// Runs `poll` (of the members) with wakes only noted; returns its result and whether a
    /// wake came meanwhile.
    fn polling<R>(&self, poll: impl FnOnce() -> R) -> (R, bool) {
        /// Ends the poll, also when a member's poll unwinds.
        struct End<'a>(&'a AtomicBool);
        impl Drop for End<'_> {
            fn drop(&mut self) {
                self.0.store(false, Ordering::SeqCst);
            }
        }
        self.woken.store(false, Ordering::SeqCst);
        self.polling.store(true, Ordering::SeqCst);
        let result = {
            let _end = End(&self.polling);
            poll()
        };
        (result, self.woken.load(Ordering::SeqCst))
    }

    /// Wakes the parent's waker, taking it out of the slot (it registers again when it polls).
    fn forward(&self) {
        let parent = self.parent.lock().unwrap_or_else(|e| e.into_inner()).take();
        // Outside the lock: waking runs user code.
        if let Some(parent) = parent {
            parent.wake();
        }
    }
}

impl Wake for ParentWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::SeqCst);
        if !self.polling.load(Ordering::SeqCst) {
            self.forward();
        }
    }
}

impl<T> JoinSet<T> {
    /// An empty set.
    pub fn new() -> JoinSet<T> {
        JoinSet {
            members: FuturesUnordered::new(),
            waker: None,
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
        let (parent, waker) = parent_waker(&mut self.waker);
        let mut cx = Context::from_waker(waker);
        loop {
            let (polled, woken) = parent.polling(|| {
                gort_context::with_unconstrained(|| Pin::new(&mut self.members).poll_next(&mut cx))
            });
            match polled {
                Poll::Ready(result) => {
                    if woken {
                        // A wake held back during the poll may be another member's.
                        parent.forward();
                    }
                    return result;
                }
                // Members were left unpolled (module doc): go on with them.
                Poll::Pending if woken => continue,
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
        let (parent, waker) = parent_waker(&mut self.waker);
        let replaced = parent.replace(cx.waker());
        let (polled, woken) = parent
            .polling(|| Pin::new(&mut self.members).poll_next(&mut Context::from_waker(waker)));
        if woken {
            // Passed on now, keeping the caller's waker registered (module doc).
            cx.waker().wake_by_ref();
        }
        // After the poll: dropping a user's waker runs user code (module doc).
        drop(replaced);
        polled
    }
}

/// The set's own waker (module doc), made on first use.
fn parent_waker(slot: &mut Option<(Arc<ParentWaker>, Waker)>) -> &(Arc<ParentWaker>, Waker) {
    slot.get_or_insert_with(|| {
        let parent = Arc::new(ParentWaker {
            woken: AtomicBool::new(false),
            polling: AtomicBool::new(false),
            parent: Mutex::new(None),
        });
        let waker = Waker::from(Arc::clone(&parent));
        (parent, waker)
    })
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
