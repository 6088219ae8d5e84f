//! tokio's oneshot channel, written for gort: one value, sent once, from one [`Sender`] to one
//! [`Receiver`], which is itself the future of that value. The usual reply path of a request
//! sent over an mpsc channel.
//!
//! # Semantics (tokio's)
//!
//! - [`Sender::send`] consumes the sender and never waits; if the receiver is gone (or closed
//!   the channel) the value comes back in the `Err`.
//! - Awaiting the receiver gives the value, or [`RecvError`] if the sender
//!   was dropped without sending. A receiver that completed must not be polled again
//!   ([`Receiver::is_terminated`] tells).
//! - [`Receiver::close`] refuses the value from now on (a value already sent can still be
//!   taken with `try_recv`); [`Sender::closed`] completes once the receiver closed or went, so
//!   a task computing the answer can stop when nobody waits for it.
//! - The receive and `poll_closed` spend the coop budget when they complete.
//!
//! # Design
//!
//! The state is a small mutex-guarded record (the value, who is done, the two wakers) in
//! gort's GC arena, as a `Waits` object whose tracer reports the waiting tasks to the leak pass
//! (`chan receive` for the receiver, `chan send` for a sender in `closed()`). A channel is used
//! once, so its cost is the allocation and two short critical sections; tokio's version is a
//! lock-free state word over unsafe cells, which would need a loom model to trust, for a gain
//! of a few nanoseconds per channel. Wakers are woken, and values and replaced wakers dropped,
//! after the unlock.

pub mod error;

use std::fmt;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::TryLockError;
use std::task::{ready, Context, Poll, Waker};

use gort_gc::{Gc, Kind, Trace, Tracer, Visitor};

use crate::loom::{Mutex, MutexGuard};
use error::{RecvError, TryRecvError};

/// Creates a oneshot channel: the sender sends one value, awaiting the receiver gives it.
#[track_caller]
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let shared = Gc::new_traced_by::<WaitingTasks>(Shared {
        state: Mutex::new(State {
            value: None,
            complete: false,
            closed: false,
            rx_waker: None,
            tx_waker: None,
        }),
    });
    (
        Sender {
            shared: Some(Gc::clone(&shared)),
        },
        Receiver {
            shared: Some(shared),
        },
    )
}

/// Sends the channel's one value ([`send`](Sender::send)). Dropping it unsent makes the
/// receiver fail with [`RecvError`].
pub struct Sender<T> {
    /// `None` once `send` consumed it.
    shared: Option<Gc<Shared<T>>>,
}

/// Receives the channel's one value: `.await` it (it is a future), or `try_recv`. Dropping it
/// makes a later `send` fail, and drops a value sent meanwhile.
pub struct Receiver<T> {
    /// `None` once it completed (terminated).
    shared: Option<Gc<Shared<T>>>,
}

/// The state both halves share.
struct Shared<T> {
    state: Mutex<State<T>>,
}

/// What the lock guards.
struct State<T> {
    /// The value, from `send` until the receiver takes it.
    value: Option<T>,
    /// The sender is done: it sent (`value` is set) or was dropped.
    complete: bool,
    /// The receiver is done: it closed the channel or was dropped.
    closed: bool,
    /// The receiver's task, while it waits for the value.
    rx_waker: Option<Waker>,
    /// The sender's task, while it waits in `closed()`.
    tx_waker: Option<Waker>,
}

/// Traces the channel for the leak pass: the wakers of the waiting tasks, no object edges.
struct WaitingTasks;

// SAFETY: reports only the two wakers the state holds, each under its own holder, and no
// object edge, hence `Waits`.
unsafe impl<T> Tracer<Shared<T>> for WaitingTasks {
    const KIND: Kind = Kind::Waits;
    fn trace(shared: &Shared<T>, visitor: &mut dyn Visitor) {
        // With the world stopped the lock is free, unless a thread outside every pin holds it;
        // reporting nothing then only makes the tasks look reachable.
        let state = match shared.state.try_lock() {
            Ok(state) => state,
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(TryLockError::WouldBlock) => return,
        };
        if let Some(waker) = &state.rx_waker {
            visitor.visit_waker(
                std::ptr::from_ref(&state.rx_waker).addr(),
                waker,
                "chan receive",
            );
        }
        if let Some(waker) = &state.tx_waker {
            visitor.visit_waker(
                std::ptr::from_ref(&state.tx_waker).addr(),
                waker,
                "chan send",
            );
        }
    }
}

impl<T> Shared<T> {
    /// Takes the lock. Poisoning is ignored: only a waker's `clone` runs user code under it,
    /// before anything is changed.
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl<T> Sender<T> {
    /// Sends `t` without waiting. If the receiver is gone or closed the channel, `t` comes
    /// back in the error.
    pub fn send(mut self, t: T) -> Result<(), T> {
        let shared = self.shared.take().expect("a sender sends once");
        let (rx_waker, tx_waker) = {
            let mut state = shared.lock();
            if state.closed {
                return Err(t);
            }
            state.value = Some(t);
            state.complete = true;
            (state.rx_waker.take(), state.tx_waker.take())
        };
        drop(tx_waker);
        if let Some(waker) = rx_waker {
            waker.wake();
        }
        Ok(())
    }

    /// Completes once the receiver closed the channel or is gone: nobody wants the value any
    /// more. For a task that can stop computing an answer nobody waits for.
    pub async fn closed(&mut self) {
        poll_fn(|cx| self.poll_closed(cx)).await;
    }

    /// Whether the receiver closed the channel or is gone.
    pub fn is_closed(&self) -> bool {
        self.shared
            .as_ref()
            .is_some_and(|shared| shared.lock().closed)
    }

    /// Polls [`closed`](Sender::closed), registering `cx`'s task to be woken when the receiver
    /// closes or goes.
    pub fn poll_closed(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let progress = ready!(gort_context::poll_proceed(cx));
        let shared = self.shared.as_ref().expect("a sender sends once");
        let stale = {
            let mut state = shared.lock();
            if state.closed {
                drop(state);
                progress.made();
                return Poll::Ready(());
            }
            register(&mut state.tx_waker, cx.waker())
        };
        drop(stale);
        Poll::Pending
    }
}

impl<T> Drop for Sender<T> {
    /// Unsent: the receiver fails with `RecvError`.
    fn drop(&mut self) {
        let Some(shared) = self.shared.take() else {
            return;
        };
        // `None` only while the collector frees a cycle this sender was in.
        let Some(shared) = Gc::try_get(&shared) else {
            return;
        };
        let (rx_waker, tx_waker) = {
            let mut state = shared.lock();
            state.complete = true;
            (state.rx_waker.take(), state.tx_waker.take())
        };
        drop(tx_waker);
        if let Some(waker) = rx_waker {
            waker.wake();
        }
    }
}

impl<T> Receiver<T> {
    /// Refuses the value from now on: a later `send` fails and gives it back, and
    /// [`Sender::closed`] completes. A value already sent can still be taken with
    /// [`try_recv`](Receiver::try_recv).
    pub fn close(&mut self) {
        let Some(shared) = &self.shared else {
            return;
        };
        let (tx_waker, rx_waker) = {
            let mut state = shared.lock();
            state.closed = true;
            if state.complete {
                (None, None)
            } else {
                (state.tx_waker.take(), state.rx_waker.take())
            }
        };
        drop(rx_waker);
        if let Some(waker) = tx_waker {
            waker.wake();
        }
    }

    /// Whether the receiver completed (gave a value or an error): it must not be polled again.
    pub fn is_terminated(&self) -> bool {
        self.shared.is_none()
    }

    /// Whether no value is there to take now (also once terminated).
    pub fn is_empty(&self) -> bool {
        self.shared.as_ref().is_none_or(|shared| {
            let state = shared.lock();
            !state.complete || state.value.is_none()
        })
    }

    /// Takes the value if it was sent, without waiting. `Empty` leaves the receiver usable;
    /// the value or `Closed` terminates it.
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let Some(shared) = &self.shared else {
            return Err(TryRecvError::Closed);
        };
        let received = {
            let mut state = shared.lock();
            if state.complete {
                state.value.take().ok_or(TryRecvError::Closed)
            } else if state.closed {
                Err(TryRecvError::Closed)
            } else {
                return Err(TryRecvError::Empty);
            }
        };
        self.shared = None;
        received
    }

    /// Awaits the value on a plain thread or `spawn_blocking`: blocks the thread.
    ///
    /// Panics inside a task or a `block_on` future, whose thread must keep running tasks.
    #[track_caller]
    pub fn blocking_recv(self) -> Result<T, RecvError> {
        crate::blocking::block_on("oneshot::Receiver::blocking_recv", self)
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let Some(shared) = &this.shared else {
            panic!("called after complete");
        };
        let progress = ready!(gort_context::poll_proceed(cx));
        let (received, stale) = {
            let mut state = shared.lock();
            if state.complete {
                (Some(state.value.take().ok_or(RecvError(()))), None)
            } else if state.closed {
                (Some(Err(RecvError(()))), None)
            } else {
                (None, register(&mut state.rx_waker, cx.waker()))
            }
        };
        drop(stale);
        let Some(received) = received else {
            return Poll::Pending;
        };
        this.shared = None;
        progress.made();
        Poll::Ready(received)
    }
}

impl<T> Drop for Receiver<T> {
    /// Closes the channel, and drops a value sent but not taken.
    fn drop(&mut self) {
        let Some(shared) = self.shared.take() else {
            return;
        };
        let Some(shared) = Gc::try_get(&shared) else {
            return;
        };
        let (value, tx_waker, rx_waker) = {
            let mut state = shared.lock();
            state.closed = true;
            let tx_waker = if state.complete {
                None
            } else {
                state.tx_waker.take()
            };
            (state.value.take(), tx_waker, state.rx_waker.take())
        };
        drop(rx_waker);
        if let Some(waker) = tx_waker {
            waker.wake();
        }
        drop(value);
    }
}

/// Stores `waker` in `slot` unless it already wakes the same task; returns the waker it
/// replaced, to be dropped after the unlock.
fn register(slot: &mut Option<Waker>, waker: &Waker) -> Option<Waker> {
    match slot {
        Some(old) if old.will_wake(waker) => None,
        _ => slot.replace(waker.clone()),
    }
}

// SAFETY: each half owns at most one handle to the shared state.
unsafe impl<T> Trace for Sender<T> {
    fn trace(&self, visitor: &mut dyn Visitor) {
        if let Some(shared) = &self.shared {
            shared.trace(visitor);
        }
    }
}

// SAFETY: as above.
unsafe impl<T> Trace for Receiver<T> {
    fn trace(&self, visitor: &mut dyn Visitor) {
        if let Some(shared) = &self.shared {
            shared.trace(visitor);
        }
    }
}

// Both halves are `Unpin` whatever `T` is, as tokio's are (nothing points into them).
impl<T> Unpin for Sender<T> {}
impl<T> Unpin for Receiver<T> {}

/// tokio's view of the state, in both halves' `Debug`.
struct DebugInner<'a, T>(&'a Shared<T>);

impl<T> fmt::Debug for DebugInner<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.0.lock();
        let flags = DebugState {
            is_complete: state.complete,
            is_closed: state.closed,
            is_rx_task_set: state.rx_waker.is_some(),
            is_tx_task_set: state.tx_waker.is_some(),
        };
        drop(state);
        f.debug_struct("Inner").field("state", &flags).finish()
    }
}

/// The flags tokio's `Debug` shows.
#[derive(Debug)]
#[allow(dead_code)] // Read by the derived `Debug` only.
struct DebugState {
    is_complete: bool,
    is_closed: bool,
    is_rx_task_set: bool,
    is_tx_task_set: bool,
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = self.shared.as_deref().map(DebugInner);
        f.debug_struct("Sender").field("inner", &inner).finish()
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = self.shared.as_deref().map(DebugInner);
        f.debug_struct("Receiver").field("inner", &inner).finish()
    }
}
