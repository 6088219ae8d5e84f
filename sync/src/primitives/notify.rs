//! [`Notify`]: wakes one task, or all waiting tasks, with tokio's semantics.
//!
//! # Semantics (tokio's, so that ported code keeps working)
//!
//! - `notify_one` wakes the oldest waiter. With no waiter it stores one permit (at most one;
//!   more calls do not add up), and the next `notified().await` takes it and completes at once.
//! - `notify_waiters` wakes every waiter, and every [`Notified`] *created* before the call even
//!   if never polled; it stores no permit and leaves a stored one alone.
//! - A `Notified` chosen by `notify_one` but dropped before it saw the notification passes it on:
//!   to the next waiter, or into the permit. A notification is never lost to cancellation.
//!
//! # Why a mutex and a map rather than `event-listener`
//!
//! The last rule is what `event-listener` cannot express. It does pass the notification of a
//! dropped listener on, but only to another listener: with none left, the notification is gone,
//! where tokio would keep it as the permit. Telling a hand-off from a mere "check again" also
//! needs tags and a poll-on-drop that still leaves a window. A short critical section over a
//! map of waiters states every rule in a line or two, which is what tokio does too (there over
//! an intrusive list; here without `unsafe`).
//!
//! # Protocol
//!
//! All state is in [`State`], under one `std` mutex held for a few map operations, never while
//! waking. A `Notified` goes through [`Stage`]s:
//!
//! 1. `Created`: records the `notify_waiters` generation. Nothing is registered, so a future
//!    that is never polled costs nothing.
//! 2. First poll (or `enable`): completes if the generation moved (a `notify_waiters` since
//!    creation) or by taking the permit; otherwise takes a ticket and enters `waiting`.
//! 3. `Waiting(ticket)`: the ticket is in `waiting` until a notifier removes it. `notify_one`
//!    removes the smallest ticket (the oldest waiter) and records it in `chosen`;
//!    `notify_waiters` empties `waiting` and bumps the generation. A poll that finds its ticket
//!    gone completes (and forgets it from `chosen`).
//! 4. Drop while waiting: a ticket still in `waiting` is removed; a ticket in `chosen` is a
//!    notification nobody saw, handed on as by `notify_one`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::future::Future;
use std::mem;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

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

/// The future of [`Notify::notified`]: completes when notified (see [`Notify`]).
#[must_use = "futures do nothing unless polled"]
#[derive(Debug)]
pub struct Notified<'a> {
    /// The `Notify` this waits on.
    notify: &'a Notify,
    /// Where this future is in the protocol.
    waiter: Waiter,
}

/// The future of [`Notify::notified_owned`]: a [`Notified`] that owns an `Arc<Notify>`, so it
/// can move into a spawned task.
#[must_use = "futures do nothing unless polled"]
#[derive(Debug)]
pub struct OwnedNotified {
    /// The `Notify` this waits on.
    notify: Arc<Notify>,
    /// Where this future is in the protocol.
    waiter: Waiter,
}

/// Everything behind [`Notify`]'s lock.
#[derive(Debug)]
struct State {
    /// A `notify_one` that found no waiter; taken by the next first poll (protocol step 2).
    permit: bool,
    /// Registered waiters by ticket, with the waker of their last poll (`None` when enabled
    /// but not polled yet). Tickets grow, so the smallest is the oldest waiter.
    waiting: BTreeMap<u64, Option<Waker>>,
    /// Tickets removed from `waiting` by `notify_one`/`notify_last` whose future has not seen
    /// the notification yet (protocol steps 3 and 4).
    chosen: BTreeSet<u64>,
    /// The next ticket to hand out.
    next_ticket: u64,
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
#[derive(Debug, Clone, Copy)]
enum Stage {
    /// Created, never polled or enabled: not registered anywhere.
    Created,
    /// Registered under this ticket.
    Waiting(u64),
    /// Notified; polls return `Ready`.
    Done,
}

/// Which waiter a single notification goes to.
#[derive(Clone, Copy)]
enum End {
    /// The oldest: `notify_one`, and a notification handed on by a dropped waiter.
    Oldest,
    /// The newest: `notify_last`.
    Newest,
}

impl Notify {
    /// A `Notify` with no waiter and no permit. `const`, so it can be a `static`.
    pub const fn new() -> Notify {
        Notify {
            generation: AtomicUsize::new(0),
            state: Mutex::new(State {
                permit: false,
                waiting: BTreeMap::new(),
                chosen: BTreeSet::new(),
                next_ticket: 0,
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
        }
    }

    /// [`Notify::notified`] owning an `Arc`, for a future that moves into a spawned task.
    pub fn notified_owned(self: Arc<Self>) -> OwnedNotified {
        let waiter = Waiter::new(&self);
        OwnedNotified {
            notify: self,
            waiter,
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
        let waiting = {
            let mut state = self.lock();
            self.generation.fetch_add(1, Ordering::Release);
            mem::take(&mut state.waiting)
        };
        // One waker that panics must not keep the others asleep.
        gort_context::wake_all(waiting.into_values().flatten());
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
    /// Removes the waiter at `end` from `waiting` and records it in `chosen`, returning its
    /// waker to wake once the lock is dropped; with no waiter, stores the permit.
    fn choose(&mut self, end: End) -> Option<Waker> {
        let next = match end {
            End::Oldest => self.waiting.pop_first(),
            End::Newest => self.waiting.pop_last(),
        };
        match next {
            Some((ticket, waker)) => {
                self.chosen.insert(ticket);
                waker
            }
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
        let ticket = match self.stage {
            Stage::Done => return true,
            Stage::Created => None,
            Stage::Waiting(ticket) => Some(ticket),
        };
        let mut state = notify.lock();
        let notified = match ticket {
            None => {
                // The generation only changes under the lock held here.
                let waited_out = notify.generation.load(Ordering::Relaxed) != self.generation;
                if waited_out || mem::take(&mut state.permit) {
                    true
                } else {
                    let ticket = state.next_ticket;
                    state.next_ticket += 1;
                    state.waiting.insert(ticket, waker.cloned());
                    self.stage = Stage::Waiting(ticket);
                    false
                }
            }
            Some(ticket) => match state.waiting.get_mut(&ticket) {
                Some(slot) => {
                    if let Some(waker) = waker {
                        if !slot.as_ref().is_some_and(|old| old.will_wake(waker)) {
                            *slot = Some(waker.clone());
                        }
                    }
                    false
                }
                None => {
                    state.chosen.remove(&ticket);
                    true
                }
            },
        };
        if notified {
            self.stage = Stage::Done;
        }
        notified
    }

    /// Unregisters a waiter whose future is dropped, handing on a notification it was chosen
    /// for but never saw (protocol step 4).
    fn cancel(&mut self, notify: &Notify) {
        let Stage::Waiting(ticket) = self.stage else {
            return;
        };
        self.stage = Stage::Done;
        let waker = {
            let mut state = notify.lock();
            if state.waiting.remove(&ticket).is_none() && state.chosen.remove(&ticket) {
                state.choose(End::Oldest)
            } else {
                None
            }
        };
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
        let this = self.get_mut();
        this.waiter.poll(this.notify, None)
    }
}

impl OwnedNotified {
    /// [`Notified::enable`].
    pub fn enable(self: Pin<&mut Self>) -> bool {
        let this = self.get_mut();
        this.waiter.poll(&this.notify, None)
    }
}

impl Future for Notified<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
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
        let this = self.get_mut();
        if this.waiter.poll(&this.notify, Some(cx.waker())) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

impl Drop for Notified<'_> {
    fn drop(&mut self) {
        self.waiter.cancel(self.notify);
    }
}

impl Drop for OwnedNotified {
    fn drop(&mut self) {
        self.waiter.cancel(&self.notify);
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
            .field("waiters", &state.waiting.len())
            .finish()
    }
}
