//! The two waits of a sender: `Acquire`, a reservation of permits in progress (under
//! `reserve`, `reserve_many`, `reserve_owned` and `send`), and `WaitClosed`, under
//! `Sender::closed()`.
//!
//! # A reservation's life
//!
//! 1. First poll, under the lock: on a closed channel it fails; with enough `available`
//!    permits it takes them and completes (and a `send` buffers its value in the same critical
//!    section: one lock per message on the fast path). Otherwise it takes what is available,
//!    queues for the rest (`wait_list.rs`) and parks.
//! 2. The receiver (or a permit given back) assigns freed permits to the oldest reservation;
//!    the one that has all it asked for is *granted*, unlinked and woken. A close marks every
//!    queued one *closed* and wakes it.
//! 3. The woken future's next poll removes its entry: granted on an open channel, it completes
//!    with the permits (a `send` buffers its value then); otherwise it gives back whatever it
//!    was assigned and fails, waking the receiver if that left a closed channel idle.
//! 4. Dropped before completing, it removes its entry the same way and gives back what it was
//!    assigned, to the next reservation in line. A cancelled reservation never keeps a permit,
//!    nor frees one it did not hold.

use std::task::{ready, Context, Poll};

use crate::chan::Wakes;

use super::chan::{register, Channel};
use super::wait_list::{Reservation, Status};

/// A reservation of `wanted` permits in progress (module doc).
pub(super) struct Acquire<'a, T> {
    chan: &'a Channel<T>,
    wanted: usize,
    /// Its key in the wait list while it is parked.
    parked: Option<usize>,
}

/// Why a reservation failed: the receiver closed the channel.
pub(super) struct Closed;

impl<'a, T> Acquire<'a, T> {
    /// A reservation of `wanted` permits (at most the bound: the caller checks).
    pub(super) fn new(chan: &'a Channel<T>, wanted: usize) -> Acquire<'a, T> {
        Acquire {
            chan,
            wanted,
            parked: None,
        }
    }

    /// Polls the reservation. With a value in `value`, it is sent with the permit as soon as
    /// the permit is had, under the same lock (`send`), and `value` is left empty; on failure
    /// `value` still holds it.
    pub(super) fn poll_acquire(
        &mut self,
        cx: &mut Context<'_>,
        value: &mut Option<T>,
    ) -> Poll<Result<(), Closed>> {
        let progress = ready!(gort_context::poll_proceed(cx));
        let mut wakes = Wakes::default();
        let mut stale_waker = None;
        let polled = {
            let mut state = self.chan.lock();
            match self.parked {
                None => {
                    if state.rx_closed {
                        Poll::Ready(Err(Closed))
                    } else if state.available >= self.wanted {
                        state.available -= self.wanted;
                        if let Some(value) = value.take() {
                            state.push(value, &mut wakes);
                        }
                        Poll::Ready(Ok(()))
                    } else {
                        // Step 1: take what there is, queue for the rest.
                        let assigned = std::mem::take(&mut state.available);
                        let key = state.reservations.push_back(Reservation {
                            wanted: self.wanted,
                            remaining: self.wanted - assigned,
                            waker: Some(cx.waker().clone()),
                            status: Status::Queued,
                        });
                        self.parked = Some(key);
                        Poll::Pending
                    }
                }
                Some(key) if state.reservations.get(key).status == Status::Queued => {
                    let reservation = state.reservations.get_mut(key);
                    stale_waker = register(&mut reservation.waker, cx.waker());
                    Poll::Pending
                }
                Some(key) => {
                    // Step 3.
                    self.parked = None;
                    let reservation = state.reservations.remove(key);
                    let outcome = if state.rx_closed {
                        self.chan
                            .give_back(&mut state, reservation.assigned(), &mut wakes);
                        self.chan.wake_rx_if_idle(&mut state, &mut wakes);
                        Err(Closed)
                    } else {
                        debug_assert_eq!(reservation.status, Status::Granted);
                        if let Some(value) = value.take() {
                            state.push(value, &mut wakes);
                        }
                        Ok(())
                    };
                    stale_waker = reservation.waker;
                    Poll::Ready(outcome)
                }
            }
        };
        drop(stale_waker);
        wakes.wake_all();
        if polled.is_ready() {
            progress.made();
        }
        polled
    }
}

impl<T> Drop for Acquire<'_, T> {
    /// Step 4.
    fn drop(&mut self) {
        let Some(key) = self.parked.take() else {
            return;
        };
        let mut wakes = Wakes::default();
        let reservation = {
            let mut state = self.chan.lock();
            let reservation = state.reservations.remove(key);
            self.chan
                .give_back(&mut state, reservation.assigned(), &mut wakes);
            self.chan.wake_rx_if_idle(&mut state, &mut wakes);
            reservation
        };
        drop(reservation);
        wakes.wake_all();
    }
}

/// A wait for the receiver to close the channel or go away (`Sender::closed`).
pub(super) struct WaitClosed<'a, T> {
    chan: &'a Channel<T>,
    /// Its key in `State::closed_waiters` while registered.
    key: Option<usize>,
}

impl<'a, T> WaitClosed<'a, T> {
    pub(super) fn new(chan: &'a Channel<T>) -> WaitClosed<'a, T> {
        WaitClosed { chan, key: None }
    }

    /// Ready once the channel is closed for senders.
    pub(super) fn poll_closed(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let stale_waker = {
            let mut state = self.chan.lock();
            if state.rx_closed {
                // The close emptied the slab: the key is no longer ours.
                self.key = None;
                return Poll::Ready(());
            }
            match self.key {
                None => {
                    self.key = Some(state.closed_waiters.insert(Some(cx.waker().clone())));
                    None
                }
                Some(key) => register(&mut state.closed_waiters[key], cx.waker()),
            }
        };
        drop(stale_waker);
        Poll::Pending
    }
}

impl<T> Drop for WaitClosed<'_, T> {
    fn drop(&mut self) {
        let Some(key) = self.key.take() else {
            return;
        };
        let waker = {
            let mut state = self.chan.lock();
            // After a close the slab was emptied and the key may belong to nobody.
            if state.rx_closed {
                None
            } else {
                state.closed_waiters.remove(key)
            }
        };
        drop(waker);
    }
}
