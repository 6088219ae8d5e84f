//! `RecvOp`: one receive in progress, shared by `Receiver::recv`'s future and the `Stream`
//! impl, as a plain operation or as a case of a `select!` (`select.rs`).

use std::cell::UnsafeCell;
use std::sync::Arc;
use std::task::{Context, Poll};

use gort_gc::Gc;

use super::state::{Chan, Received};
use super::waiter::{Selection, Waiter, Wakes, CLOSED, WAITING};
use crate::chan::RawLocked;
use crate::select::{self, SelectCase};

/// A receive in progress. The fields are only touched by the task polling it (through `&mut
/// self`, or through `&self` by the `select!` driver of that same poll), hence `UnsafeCell`.
pub(crate) struct RecvOp<T> {
    /// The waiter parked in the channel's `recvq`, if any.
    waiter: UnsafeCell<Option<Arc<Waiter<T>>>>,
    /// A result found by the `select!` driver under the channel lock, for the next poll.
    ready: UnsafeCell<Option<Option<T>>>,
}

// SAFETY: the cells are accessed only by the task that owns the op (module doc); moving the op
// to another thread moves `T`s, hence `T: Send`.
unsafe impl<T: Send> Send for RecvOp<T> {}

impl<T> RecvOp<T> {
    pub(crate) fn new() -> RecvOp<T> {
        RecvOp {
            waiter: UnsafeCell::new(None),
            ready: UnsafeCell::new(None),
        }
    }

    fn waiter(&mut self) -> &mut Option<Arc<Waiter<T>>> {
        self.waiter.get_mut()
    }

    /// The outcome of a parked waiter a peer completed, if it did.
    fn completed(&mut self) -> Option<Option<T>> {
        let waiter = self.waiter().as_ref()?;
        match waiter.state() {
            WAITING => None,
            state => {
                let waiter = self.waiter().take()?;
                // SAFETY: the state left WAITING, so the slot is ours (`waiter.rs`).
                let value = unsafe { waiter.take() };
                // Our reference goes; the peer that completed it kept it as the channel's
                // spare (`State::waiter`).
                drop(waiter);
                Some(if state == CLOSED { None } else { value })
            }
        }
    }

    /// Polls the receive on `chan`.
    pub(crate) fn poll(&mut self, handle: &Gc<Chan<T>>, cx: &mut Context<'_>) -> Poll<Option<T>>
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
            // A case of a `select!`: the driver decides under the channel locks.
            // The driver uses these pointers only during this poll of the select, while this op
            // stays pinned inside it and `chan` is held by the same future.
            case.register(
                (self as *const RecvOp<T>).cast(),
                (chan as *const Chan<T>).cast(),
                chan_case::<T>(),
                Gc::addr(handle),
            );
            return Poll::Pending;
        }
        if self.waiter().is_some() {
            // Usually woken because a peer completed it: look before paying for a register.
            if let Some(result) = self.completed() {
                return Poll::Ready(result);
            }
            if let Some(waiter) = self.waiter().as_ref() {
                waiter.register(cx.waker());
            }
            // A peer may have completed it before the register: then its wake went to the old
            // waker, so look again.
            if let Some(result) = self.completed() {
                return Poll::Ready(result);
            }
            return Poll::Pending;
        }
        let progress = std::task::ready!(gort_context::poll_proceed(cx));
        let mut state = chan.lock();
        match state.try_recv() {
            Received::Value(value) => {
                progress.made();
                Poll::Ready(Some(value))
            }
            Received::Closed => {
                progress.made();
                Poll::Ready(None)
            }
            Received::Empty => {
                let waiter = state.waiter(None, cx.waker());
                state.recvq.push_back(Arc::clone(&waiter));
                *self.waiter() = Some(waiter);
                Poll::Pending
            }
        }
    }

    /// Gives up the receive: takes the waiter off the queue, or, if a peer already handed it a
    /// value nobody will take now, gives the value back to the channel.
    pub(crate) fn cancel(&mut self, chan: &Chan<T>) {
        if let Some(value) = self.ready.get_mut().take().flatten() {
            chan.lock().give_back(value);
        }
        let Some(waiter) = self.waiter().take() else {
            return;
        };
        let mut state = chan.lock();
        if waiter.state() == WAITING {
            state.remove(&waiter);
        // SAFETY: the state left WAITING, so the slot is ours.
        } else if let Some(value) = unsafe { waiter.take() } {
            state.give_back(value);
        }
    }
}

/// The `select!` driver's view of a receive case, type-erased (`select.rs`).
struct ChanCase<T>(std::marker::PhantomData<T>);

/// The vtable of a receive case (a zero-sized value: leaking it allocates nothing).
fn chan_case<T: Send + 'static>() -> &'static dyn SelectCase {
    Box::leak(Box::new(ChanCase::<T>(std::marker::PhantomData)))
}

impl<T: Send + 'static> SelectCase for ChanCase<T> {
    unsafe fn lock<'a>(&self, op: *const (), chan: *const ()) -> RawLocked<'a> {
        let _ = op;
        // SAFETY: the caller passes this case's channel, alive for the select's poll.
        let chan = unsafe { &*chan.cast::<Chan<T>>() };
        chan.raw_lock()
    }

    unsafe fn withdraw_locked(&self, op: *const (), chan: *const ()) {
        // SAFETY: the caller passes this case's op and channel and holds the channel's lock;
        // the op's cells are the polling task's, and the driver is that task.
        let (op, chan) = unsafe { (&*op.cast::<RecvOp<T>>(), &*chan.cast::<Chan<T>>()) };
        // SAFETY: as above.
        let state = unsafe { chan.state_locked() };
        // SAFETY: as above.
        if let Some(old) = unsafe { &mut *op.waiter.get() }.take() {
            // A waiter from an earlier round that no peer claimed (else the select would have
            // a winner).
            state.remove(&old);
        }
    }

    unsafe fn try_locked(&self, op: *const (), chan: *const (), wakes: &mut Wakes) -> bool {
        // SAFETY: as in `withdraw_locked`.
        let (op, chan) = unsafe { (&*op.cast::<RecvOp<T>>(), &*chan.cast::<Chan<T>>()) };
        // SAFETY: as above.
        let state = unsafe { chan.state_locked() };
        let result = match state.try_recv(wakes) {
            Received::Value(value) => Some(value),
            Received::Closed => None,
            Received::Empty => return false,
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
        let (op, chan) = unsafe { (&*op.cast::<RecvOp<T>>(), &*chan.cast::<Chan<T>>()) };
        // SAFETY: as in `try_locked`.
        let state = unsafe { chan.state_locked() };
        let waiter = Waiter::select(None, selection, case);
        state.recvq.push_back(Arc::clone(&waiter));
        // SAFETY: as in `try_locked`.
        unsafe { *op.waiter.get() = Some(waiter) };
    }
}
