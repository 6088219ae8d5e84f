//! `SendOp`: one send in progress, as a plain operation or as a case of a `select!`
//! (`select.rs`). The value lives in the op until a receiver takes it, so dropping a pending
//! send drops the value and delivers nothing.

use std::cell::UnsafeCell;
use std::sync::Arc;
use std::task::{Context, Poll};

use gort_gc::Gc;

use super::error::SendError;
use super::state::{Chan, SendBlocked};
use super::waiter::{Selection, Waiter, Wakes, CLOSED, WAITING};
use crate::chan::RawLocked;
use crate::select::{self, SelectCase};

/// A send in progress (fields as in `RecvOp`: touched only by the polling task).
pub(crate) struct SendOp<T> {
    /// The value, until it is sent or parked in a waiter.
    value: UnsafeCell<Option<T>>,
    /// The waiter parked in the channel's `sendq`, holding the value, if any.
    waiter: UnsafeCell<Option<Arc<Waiter<T>>>>,
    /// A result found by the `select!` driver under the channel lock.
    ready: UnsafeCell<Option<Result<(), SendError<T>>>>,
}

// SAFETY: as for `RecvOp`.
unsafe impl<T: Send> Send for SendOp<T> {}

impl<T> SendOp<T> {
    pub(crate) fn new(value: T) -> SendOp<T> {
        SendOp {
            value: UnsafeCell::new(Some(value)),
            waiter: UnsafeCell::new(None),
            ready: UnsafeCell::new(None),
        }
    }

    /// The outcome of a parked waiter a peer completed, if it did.
    fn completed(&mut self) -> Option<Result<(), SendError<T>>> {
        let waiter = self.waiter.get_mut().as_ref()?;
        match waiter.state() {
            WAITING => None,
            state => {
                let waiter = self.waiter.get_mut().take()?;
                // SAFETY: the state left WAITING, so the slot is ours (empty if a receiver took
                // the value).
                let value = unsafe { waiter.take() };
                // Our reference goes; the peer that completed it kept it as the channel's
                // spare (`State::waiter`).
                drop(waiter);
                if state == CLOSED {
                    Some(Err(SendError(
                        value.expect("a closed sender keeps its value"),
                    )))
                } else {
                    Some(Ok(()))
                }
            }
        }
    }

    /// Polls the send on `chan`.
    pub(crate) fn poll(
        &mut self,
        handle: &Gc<Chan<T>>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), SendError<T>>>
    where
        T: Send + 'static,
    {
        // One dereference (each checks that the collector has not freed the object).
        let chan: &Chan<T> = handle;
        if let Some(result) = self.ready.get_mut().take() {
            return Poll::Ready(result);
        }
        if let Some(case) = select::current_case() {
            if let Some(result) = self.completed() {
                return Poll::Ready(result);
            }
            // The driver uses these pointers only during this poll of the select (`RecvOp`).
            case.register(
                (self as *const SendOp<T>).cast(),
                (chan as *const Chan<T>).cast(),
                send_case::<T>(),
                Gc::addr(handle),
            );
            return Poll::Pending;
        }
        if self.waiter.get_mut().is_some() {
            // Usually woken because a peer completed it: look before paying for a register.
            if let Some(result) = self.completed() {
                return Poll::Ready(result);
            }
            if let Some(waiter) = self.waiter.get_mut().as_ref() {
                waiter.register(cx.waker());
            }
            // A peer may have completed it before the register: then its wake went to the old
            // waker, so look again.
            if let Some(result) = self.completed() {
                return Poll::Ready(result);
            }
            return Poll::Pending;
        }
        let Some(value) = self.value.get_mut().take() else {
            panic!("a send future polled after it completed");
        };
        let progress = match gort_context::poll_proceed(cx) {
            Poll::Ready(progress) => progress,
            Poll::Pending => {
                *self.value.get_mut() = Some(value);
                return Poll::Pending;
            }
        };
        let mut state = chan.lock();
        match state.try_send(value, chan.capacity) {
            Ok(()) => {
                progress.made();
                Poll::Ready(Ok(()))
            }
            Err(SendBlocked::Closed(value)) => {
                progress.made();
                Poll::Ready(Err(SendError(value)))
            }
            Err(SendBlocked::Full(value)) => {
                let waiter = state.waiter(Some(value), cx.waker());
                state.sendq.push_back(Arc::clone(&waiter));
                *self.waiter.get_mut() = Some(waiter);
                Poll::Pending
            }
        }
    }

    /// Gives up the send: takes the waiter (and with it the value) off the queue if no
    /// receiver took it yet.
    pub(crate) fn cancel(&mut self, chan: &Chan<T>) {
        let Some(waiter) = self.waiter.get_mut().take() else {
            return;
        };
        let mut state = chan.lock();
        let unsent = if waiter.state() == WAITING {
            state.remove(&waiter);
            // SAFETY: still WAITING under the lock, now marked given up: no peer will touch
            // the slot again, so it is ours. The waiter itself may stay queued a while
            // (`State::remove`); the value must not.
            unsafe { waiter.take() }
        } else {
            None
        };
        drop(state);
        // Outside the lock: dropping a value runs user code.
        drop(unsent);
    }
}

/// The `select!` driver's view of a send case, type-erased (`select.rs`).
struct SendCase<T>(std::marker::PhantomData<T>);

/// The vtable of a send case (a zero-sized value: leaking it allocates nothing).
fn send_case<T: Send + 'static>() -> &'static dyn SelectCase {
    Box::leak(Box::new(SendCase::<T>(std::marker::PhantomData)))
}

impl<T: Send + 'static> SelectCase for SendCase<T> {
    unsafe fn lock<'a>(&self, _op: *const (), chan: *const ()) -> RawLocked<'a> {
        // SAFETY: the caller passes this case's channel, alive for the select's poll.
        let chan = unsafe { &*chan.cast::<Chan<T>>() };
        chan.raw_lock()
    }

    unsafe fn withdraw_locked(&self, op: *const (), chan: *const ()) {
        // SAFETY: the caller passes this case's op and channel and holds the channel's lock;
        // the op's cells are the polling task's, and the driver is that task.
        let (op, chan) = unsafe { (&*op.cast::<SendOp<T>>(), &*chan.cast::<Chan<T>>()) };
        // SAFETY: as above.
        let state = unsafe { chan.state_locked() };
        // SAFETY: as above.
        let (value, waiter) = unsafe { (&mut *op.value.get(), &mut *op.waiter.get()) };
        if let Some(old) = waiter.take() {
            // An unclaimed waiter of an earlier round: withdraw it and take the value back.
            state.remove(&old);
            // SAFETY: still WAITING (the select has no winner) and off the queue: ours.
            *value = unsafe { old.take() };
        }
    }

    unsafe fn try_locked(&self, op: *const (), chan: *const (), wakes: &mut Wakes) -> bool {
        // SAFETY: as in `withdraw_locked`.
        let (op, chan) = unsafe { (&*op.cast::<SendOp<T>>(), &*chan.cast::<Chan<T>>()) };
        // SAFETY: as above.
        let state = unsafe { chan.state_locked() };
        // SAFETY: as above.
        let value = unsafe { &mut *op.value.get() };
        let Some(to_send) = value.take() else {
            return false;
        };
        let result = match state.try_send(to_send, chan.capacity, wakes) {
            Ok(()) => Ok(()),
            Err(SendBlocked::Closed(back)) => Err(SendError(back)),
            Err(SendBlocked::Full(back)) => {
                *value = Some(back);
                return false;
            }
        };
        // SAFETY: as above.
        unsafe { *op.ready.get() = Some(result) };
        true
    }

    unsafe fn park_locked(
        &self,
        op: *const (),
        chan: *const (),
        selection: &Arc<Selection>,
        case: usize,
    ) {
        // SAFETY: as in `try_locked`.
        let (op, chan) = unsafe { (&*op.cast::<SendOp<T>>(), &*chan.cast::<Chan<T>>()) };
        // SAFETY: as in `try_locked`.
        let state = unsafe { chan.state_locked() };
        // SAFETY: as in `try_locked`.
        let value = unsafe { (*op.value.get()).take() };
        let waiter = Waiter::select(value, selection, case);
        state.sendq.push_back(Arc::clone(&waiter));
        // SAFETY: as in `try_locked`.
        unsafe { *op.waiter.get() = Some(waiter) };
    }
}
