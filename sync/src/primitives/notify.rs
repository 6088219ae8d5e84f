//! [`Notify`]: wakes one task, or all waiting tasks, with tokio's semantics.
//!
//! # Semantics (tokio's, so that ported code keeps working)
//!
//! - `notify_one` wakes the oldest waiter. With no waiter it stores one permit (at most one;
//!   more calls do not add up), and the next `notified().await` takes it and completes at once.
//! - `notify_waiters` wakes every waiter, and every [`Notified`] *created* before the call even
//!   if never polled; it stores no permit and leaves a stored one alone.
//! - `notify_last` is `notify_one` for the newest waiter.
//! - A `Notified` chosen by `notify_one` or `notify_last` but dropped before it saw the
//!   notification passes it on from the same end (to the next oldest or the next newest
//!   waiter), or into the permit. A notification is never lost to cancellation.
//!
//! # Why a mutex and a queue rather than `event-listener`
//!
//! The last rule is what `event-listener` cannot express. It does pass the notification of a
//! dropped listener on, but only to another listener: with none left, the notification is gone,
//! where tokio would keep it as the permit; and it cannot tell a `notify_last` hand-off (which
//! goes on to the next newest waiter) from a `notify_one`. The crate's [`WaitQueue`] keeps,
//! for each parked future, *what* it was chosen for until the future reads it, which states
//! every rule in a line or two under a short critical section, as tokio does over an intrusive
//! list (here without `unsafe`).
//!
//! # Protocol
//!
//! All state is in [`State`], under one `std` mutex held for a few queue operations, never
//! while waking. A `Notified` goes through [`Stage`]s:
//!
//! 1. `Created`: records the `notify_waiters` generation. Nothing is registered, so a future
//!    that is never polled costs nothing.
//! 2. First poll (or `enable`): completes if the generation moved (a `notify_waiters` since
//!    creation) or by taking the permit; otherwise pushes itself on the queue (`Waiting`).
//! 3. `Waiting(ticket)`: `notify_one` chooses the oldest queued future (`Chosen(Oldest)`),
//!    `notify_last` the newest (`Chosen(Newest)`); `notify_waiters` releases every queued one
//!    and bumps the generation. A poll that finds itself chosen or released completes and
//!    gives its ticket back.
//! 4. Drop while waiting: the ticket is given back; one still chosen is a notification nobody
//!    saw, handed on from the same end (`notify_one`'s to the next oldest, `notify_last`'s to
//!    the next newest), or stored as the permit if nobody waits.
//!
//! # Why not in the GC arena
//!
//! `Notify::new` and `const_new` are `const` (a `Notify` is often a `static`), and a `const fn`
//! cannot allocate an arena object; the wakers live in the `Notify`, which the leak pass cannot
//! reach, so a task parked here is never reported leaked.
//!
//! [`WaitQueue`]: crate::wait_queue::WaitQueue

use std::fmt;
use std::future::Future;
use std::marker::PhantomPinned;
use std::mem;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use pin_project_lite::pin_project;

use crate::wait_queue::{End, Status, Ticket, WaitQueue};

/// Wakes waiting tasks: [`notify_one`](Notify::notify_one) for one (or a stored permit),
/// [`notify_waiters`](Notify::notify_waiters) for all current ones.
///
/// Carries no data: the usual pattern is a condition in shared state, a `notify_one` after
/// changing it, and a waiter that checks it around `notified().await`.
pub struct Notify {
    /// How many times `notify_waiters` ran (wrapping). Bumped under `state`'s lock (`Release`);
    /// read without it by [`Notify::notified`] (`Acquire`), so a `Notified` created after a
    /// call sees it, and under the lock by polls (protocol step 2).
    generation: AtomicUsize,
    /// The permit and the waiters (protocol steps 2 to 4).
    state: Mutex<State>,
}

pin_project! {
    /// The future of [`Notify::notified`]: completes when notified (see [`Notify`]).
    #[must_use = "futures do nothing unless polled"]
    #[derive(Debug)]
    pub struct Notified<'a> {
        // The `Notify` this waits on.
        notify: &'a Notify,
        // Where this future is in the protocol.
        waiter: Waiter,
        // `!Unpin`, as tokio's, so that code written for tokio's pins it the same way.
        #[pin]
        _pinned: PhantomPinned,
    }

    impl<'a> PinnedDrop for Notified<'a> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            this.waiter.cancel(this.notify);
        }
    }
}

pin_project! {
    /// The future of [`Notify::notified_owned`]: a [`Notified`] that owns an `Arc<Notify>`, so
    /// it can move into a spawned task.
    #[must_use = "futures do nothing unless polled"]
    #[derive(Debug)]
    pub struct OwnedNotified {
        // The `Notify` this waits on.
        notify: Arc<Notify>,
        // Where this future is in the protocol.
        waiter: Waiter,
        // `!Unpin`, as tokio's.
        #[pin]
        _pinned: PhantomPinned,
    }

    impl PinnedDrop for OwnedNotified {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            this.waiter.cancel(this.notify);
        }
    }
}

/// Everything behind [`Notify`]'s lock.
#[derive(Debug)]
struct State {
    /// A `notify_one` that found no waiter; taken by the next first poll (protocol step 2).
    permit: bool,
    /// Registered futures, oldest first, with the waker of their last poll (none when enabled
    /// but not polled yet), and those chosen or released that have not seen it yet.
    queue: WaitQueue,
}

/// One `Notified` future's progress; the protocol lives in its methods, shared by
/// [`Notified`] and [`OwnedNotified`].
#[derive(Debug)]
struct Waiter {
    /// [`Notify::generation`] when the future was created.
    generation: usize,
    /// Where the future is.
    stage: Stage,
}

/// The stages of protocol steps 1 to 3.
#[derive(Debug)]
enum Stage {
    /// Created, never polled or enabled: not registered anywhere.
    Created,
    /// Registered with this ticket.
    Waiting(Ticket),
    /// Notified; polls return `Ready`.
    Done,
}

impl Notify {
    /// A `Notify` with no waiter and no permit. `const`, so it can be a `static`.
    pub const fn new() -> Notify {
        Notify {
            generation: AtomicUsize::new(0),
            state: Mutex::new(State {
                permit: false,
                queue: WaitQueue::new(),
            }),
        }
    }

    /// The same as [`Notify::new`]; tokio's name for the `const` constructor.
    pub const fn const_new() -> Notify {
        Notify::new()
    }

    /// A future that completes when this is notified.
    ///
    /// It counts as waiting for `notify_waiters` from now on, polled or not; for `notify_one`
    /// only once polled or [enabled](Notified::enable). Cancel safe: a notification it was
    /// chosen for is passed on if it is dropped.
    pub fn notified(&self) -> Notified<'_> {
        Notified {
            notify: self,
            waiter: Waiter::new(self),
            _pinned: PhantomPinned,
        }
    }

    /// [`Notify::notified`] owning an `Arc`, for a future that moves into a spawned task.
    pub fn notified_owned(self: Arc<Self>) -> OwnedNotified {
        let waiter = Waiter::new(&self);
        OwnedNotified {
            notify: self,
            waiter,
            _pinned: PhantomPinned,
        }
    }

    /// Wakes the waiter that has waited longest, or, with no waiter, stores a permit that the
    /// next `notified().await` takes at once.
    pub fn notify_one(&self) {
        self.notify_single(End::Oldest);
    }

    /// [`Notify::notify_one`], but wakes the waiter that registered last.
    pub fn notify_last(&self) {
        self.notify_single(End::Newest);
    }

    /// Wakes every waiting task, and completes every [`Notified`] created before this call.
    /// Stores no permit.
    pub fn notify_waiters(&self) {
        let released = {
            let mut state = self.lock();
            self.generation.fetch_add(1, Ordering::Release);
            state.queue.release_all()
        };
        // One waker that panics does not keep the others asleep.
        released.wake();
    }

    /// Delivers one notification to the waiter at `end`, or stores the permit.
    fn notify_single(&self, end: End) {
        let waker = self.lock().choose(end);
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Locks the state. A panic under the lock (only a waker's `clone` could panic there)
    /// leaves the state consistent, so poisoning is ignored.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl State {
    /// Chooses the queued future at `end` for one notification, returning its waker to wake
    /// once the lock is dropped; with nobody queued, stores the permit.
    fn choose(&mut self, end: End) -> Option<Waker> {
        match self.queue.choose(end) {
            Some(waker) => waker,
            None => {
                self.permit = true;
                None
            }
        }
    }
}

impl Waiter {
    /// A waiter in stage `Created` (protocol step 1).
    fn new(notify: &Notify) -> Waiter {
        Waiter {
            generation: notify.generation.load(Ordering::Acquire),
            stage: Stage::Created,
        }
    }

    /// Advances the protocol: returns whether the future is notified, registering it (with
    /// `waker`, if any, to wake) otherwise. Steps 2 and 3.
    fn poll(&mut self, notify: &Notify, waker: Option<&Waker>) -> bool {
        if let Stage::Done = self.stage {
            return true;
        }
        let mut state = notify.lock();
        match mem::replace(&mut self.stage, Stage::Done) {
            Stage::Done => true,
            Stage::Created => {
                // The generation only changes under the lock held here.
                let waited_out = notify.generation.load(Ordering::Relaxed) != self.generation;
                if waited_out || mem::take(&mut state.permit) {
                    return true;
                }
                self.stage = Stage::Waiting(state.queue.push(waker.cloned()));
                false
            }
            Stage::Waiting(ticket) => {
                // Wakers replaced or given back are dropped after the unlock (user code).
                let dropped = if state.queue.status(&ticket) == Status::Queued {
                    let replaced = waker.and_then(|waker| state.queue.update_waker(&ticket, waker));
                    self.stage = Stage::Waiting(ticket);
                    replaced
                } else {
                    // Chosen or released: notified.
                    state.queue.remove(ticket).1
                };
                let notified = matches!(self.stage, Stage::Done);
                drop(state);
                drop(dropped);
                notified
            }
        }
    }

    /// Unregisters a waiter whose future is dropped, handing on a notification it was chosen
    /// for but never saw, from the same end (protocol step 4).
    fn cancel(&mut self, notify: &Notify) {
        let Stage::Waiting(ticket) = mem::replace(&mut self.stage, Stage::Done) else {
            return;
        };
        let (waker, dropped) = {
            let mut state = notify.lock();
            let (status, dropped) = state.queue.remove(ticket);
            let waker = match status {
                Status::Chosen(end) => state.choose(end),
                Status::Queued | Status::Released => None,
            };
            (waker, dropped)
        };
        drop(dropped);
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl Notified<'_> {
    /// Registers as a waiter without polling, so that a `notify_one` from now on can choose
    /// this future. Returns whether it is already notified (then the next poll is `Ready`).
    ///
    /// For a loop that must not miss a `notify_one` sent between checking its condition and
    /// its first poll.
    pub fn enable(self: Pin<&mut Self>) -> bool {
        let this = self.project();
        this.waiter.poll(this.notify, None)
    }
}

impl OwnedNotified {
    /// [`Notified::enable`].
    pub fn enable(self: Pin<&mut Self>) -> bool {
        let this = self.project();
        this.waiter.poll(this.notify, None)
    }
}

impl Future for Notified<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.project();
        if this.waiter.poll(this.notify, Some(cx.waker())) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

impl Future for OwnedNotified {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.project();
        if this.waiter.poll(this.notify, Some(cx.waker())) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

impl Default for Notify {
    fn default() -> Notify {
        Notify::new()
    }
}

impl fmt::Debug for Notify {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        f.debug_struct("Notify")
            .field("permit", &state.permit)
            .field("waiting", &state.queue.has_queued())
            .finish()
    }
}
