//! `PollDesc`: one registered file descriptor's readiness and parked waiters (Go's `pollDesc`).
//!
//! # Readiness is kept until an operation proves it stale
//!
//! The fd is registered edge-triggered, so the kernel reports each transition to readable or
//! writable once. An edge sets the direction's bit in `state` and wakes every waiter of that
//! direction. The bit is *not* consumed by the wake-up: it stays set until an operation in that
//! direction returns `WouldBlock`, and only then is it cleared ([`PollDesc::clear_readiness`]).
//! Go consumes the notification in the waiter instead (`pdReady` → `pdNil`), which is correct
//! only because Go allows one reader and one writer per fd at a time; here several tasks may wait
//! on one socket through `&self` methods (`readable()`, UDP `recv_from`), and consuming on wake
//! would strand the others with data still queued.
//!
//! Clearing races with new edges: an edge that arrives after the operation started but before
//! the clear must not be lost. Every edge bumps a tick stored beside the bits, and a clear only
//! applies if the tick is the one the operation started from (tokio's `ScheduledIo` does the
//! same). A stale clear is dropped, and the next poll sees the bit and retries the operation.
//!
//! # Short reads and the end of the stream
//!
//! A read that returns fewer bytes than asked emptied the socket buffer, so readiness could be
//! cleared right away and the next read park without a system call that would only say
//! `WouldBlock` (`Registered::poll_transfer`). Unless the peer's FIN came in the same edge as the
//! data: then the next read would return 0 at once, and no further edge will ever come to wake
//! a parked reader. So a short read may clear read readiness only when the descriptor knows no
//! FIN is pending: the kernel reports a FIN as `EPOLLRDHUP`, which sets the sticky `READ_CLOSED`
//! bit; an edge whose kind is unknown (from `polling`'s wait, used off Linux and Android, which
//! has no `EPOLLRDHUP` to pass on) sets `READ_UNSURE`, which only a `WouldBlock` read clears,
//! since that read proves nothing was pending.
//!
//! # Waiters
//!
//! A waiter that finds its bit unset registers its `Waker` under the descriptor's lock, after
//! re-reading `state` under that lock. The reactor sets bits *before* taking the lock to collect
//! wakers, so either the waiter sees the bit or the reactor sees the waker: no lost wake-up. The
//! lock is taken only on the slow path (an operation returned `WouldBlock`, which already cost a
//! system call) and once per edge with waiters.

use std::io;
use std::sync::atomic::{AtomicUsize as ParkedCount, Ordering};
use std::task::{Context, Poll, Waker};

use crate::loom::{AtomicUsize, Mutex, MutexGuard};

/// A direction a task waits in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Readable: data, a pending connection, or end of stream.
    Read,
    /// Writable: buffer space, or a completed connect.
    Write,
}

impl Direction {
    /// This direction's readiness bit in `PollDesc::state`.
    fn bit(self) -> usize {
        match self {
            Direction::Read => READABLE,
            Direction::Write => WRITABLE,
        }
    }
}

/// Readiness bit: the fd has reported readable since the last `WouldBlock` read.
const READABLE: usize = 1 << 0;
/// Readiness bit: the fd has reported writable since the last `WouldBlock` write.
const WRITABLE: usize = 1 << 1;
/// Set once when the descriptor is deregistered: waiters fail instead of parking forever.
const CLOSED: usize = 1 << 2;
/// Sticky: the peer closed its write side (or the connection died); reads end in 0 or an error.
const READ_CLOSED: usize = 1 << 3;
/// A readable edge of unknown kind (it may carry a FIN) since the last `WouldBlock` read.
const READ_UNSURE: usize = 1 << 4;
/// Sticky, with `CLOSED`: closed because the runtime shut down (its waiters get an error that
/// says so, not "the IO object was closed").
const SHUT_DOWN: usize = 1 << 5;
/// The tick lives above the bits.
const TICK_SHIFT: u32 = 8;
/// One tick.
const TICK_ONE: usize = 1 << TICK_SHIFT;

/// Proof that a direction was ready at a given tick, returned by [`PollDesc::poll_ready`] and
/// handed back to [`PollDesc::clear_readiness`] if the operation found nothing to do.
#[derive(Debug, Clone, Copy)]
pub struct ReadyEvent {
    tick: usize,
    direction: Direction,
}

/// Waiters parked on one descriptor, per direction.
#[derive(Default)]
struct Waiters {
    read: Vec<Waker>,
    write: Vec<Waker>,
}

impl Waiters {
    fn of(&mut self, direction: Direction) -> &mut Vec<Waker> {
        match direction {
            Direction::Read => &mut self.read,
            Direction::Write => &mut self.write,
        }
    }
}

/// The state shared between a registered IO object and the reactor.
pub struct PollDesc {
    /// The key the fd is registered with: slab slot in the low half, generation above, so an
    /// event for a closed fd whose slot was reused is recognised and dropped.
    pub(crate) key: usize,
    /// Readiness bits, `CLOSED`, and the edge tick (see the module doc).
    state: AtomicUsize,
    /// Parked wakers.
    waiters: Mutex<Waiters>,
}

impl PollDesc {
    /// A descriptor for a freshly registered fd: both directions start ready, so that the first
    /// operation is simply tried (a new socket usually is writable, and a read that finds nothing
    /// clears the bit and parks), as Go tries the system call before parking.
    pub fn new(key: usize) -> PollDesc {
        PollDesc {
            key,
            state: AtomicUsize::new(READABLE | WRITABLE),
            waiters: Mutex::new(Waiters::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Waiters> {
        // Wakers are only pushed and taken under the lock; a panic cannot leave it half done.
        self.waiters.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Ready if `direction` has reported readiness that no operation has found stale yet;
    /// otherwise parks `cx`'s waker until the next edge. Returns `Err` once the descriptor is
    /// closed. `parked` counts wakers registered (for the reactor's waiter count).
    pub fn poll_ready(
        &self,
        direction: Direction,
        cx: &mut Context<'_>,
        parked: &ParkedCount,
    ) -> Poll<io::Result<ReadyEvent>> {
        if let Some(ready) = Self::check(self.state.load(Ordering::Acquire), direction) {
            return Poll::Ready(ready);
        }
        let mut waiters = self.lock();
        if let Some(ready) = Self::check(self.state.load(Ordering::Acquire), direction) {
            return Poll::Ready(ready);
        }
        let list = waiters.of(direction);
        if !list.iter().any(|waker| waker.will_wake(cx.waker())) {
            list.push(cx.waker().clone());
            parked.fetch_add(1, Ordering::Relaxed);
        }
        Poll::Pending
    }

    /// Whether `direction` may be ready, without parking anybody: closed (an error), ready at
    /// some tick, or not ready (`None`).
    pub fn peek(&self, direction: Direction) -> Option<io::Result<ReadyEvent>> {
        Self::check(self.state.load(Ordering::Acquire), direction)
    }

    /// What `state` says about `direction`: closed, ready at some tick, or not ready (`None`).
    fn check(state: usize, direction: Direction) -> Option<io::Result<ReadyEvent>> {
        if state & CLOSED != 0 {
            return Some(Err(closed_error(state & SHUT_DOWN != 0)));
        }
        (state & direction.bit() != 0).then_some(Ok(ReadyEvent {
            tick: state >> TICK_SHIFT,
            direction,
        }))
    }

    /// Clears `event`'s direction after an operation returned `WouldBlock`, unless an edge
    /// arrived since `event` was observed. A `WouldBlock` read also settles `READ_UNSURE`.
    pub fn clear_readiness(&self, event: ReadyEvent) {
        let clear = match event.direction {
            Direction::Read => READABLE | READ_UNSURE,
            Direction::Write => WRITABLE,
        };
        let _ = self
            .state
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |state| {
                (state >> TICK_SHIFT == event.tick).then_some(state & !clear)
            });
    }

    /// Clears `event`'s direction after a transfer that moved fewer bytes than asked, when that
    /// proves the buffer empty (writes: full): always for writes, and for reads only if no FIN
    /// may be pending (module doc, "Short reads and the end of the stream").
    pub fn clear_after_short_transfer(&self, event: ReadyEvent) {
        let (clear, unless) = match event.direction {
            Direction::Read => (READABLE, READ_CLOSED | READ_UNSURE),
            Direction::Write => (WRITABLE, 0),
        };
        let _ = self
            .state
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |state| {
                (state >> TICK_SHIFT == event.tick && state & unless == 0).then_some(state & !clear)
            });
    }

    /// Records an edge (from the reactor) and moves the wakers of the directions that became
    /// ready into `wake`. `read_closed` says whether the edge reports the end of the peer's
    /// stream, if the poller knows. Returns how many wakers were taken.
    pub fn set_ready(
        &self,
        readable: bool,
        writable: bool,
        read_closed: Option<bool>,
        wake: &mut Vec<Waker>,
    ) -> usize {
        let mut bits =
            (if readable { READABLE } else { 0 }) | (if writable { WRITABLE } else { 0 });
        if bits == 0 {
            return 0;
        }
        if readable {
            bits |= match read_closed {
                Some(true) => READ_CLOSED,
                Some(false) => 0,
                None => READ_UNSURE,
            };
        }
        // Bits before the lock: see the module doc.
        let _ = self
            .state
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |state| {
                Some(state.wrapping_add(TICK_ONE) | bits)
            });
        let mut waiters = self.lock();
        let before = wake.len();
        if readable {
            wake.append(&mut waiters.read);
        }
        if writable {
            wake.append(&mut waiters.write);
        }
        wake.len() - before
    }

    /// Marks the descriptor closed and moves every waiter into `wake`: they are polled again,
    /// find it closed, and fail instead of hanging. Returns how many wakers were taken.
    pub fn close(&self, wake: &mut Vec<Waker>) -> usize {
        self.close_with(CLOSED, wake)
    }

    /// [`PollDesc::close`] because the runtime shut down: waiters, and every operation from now
    /// on, fail with an error that says so.
    pub fn close_for_shutdown(&self, wake: &mut Vec<Waker>) -> usize {
        self.close_with(CLOSED | SHUT_DOWN, wake)
    }

    fn close_with(&self, bits: usize, wake: &mut Vec<Waker>) -> usize {
        self.state.fetch_or(bits, Ordering::AcqRel);
        let mut waiters = self.lock();
        let before = wake.len();
        wake.append(&mut waiters.read);
        wake.append(&mut waiters.write);
        wake.len() - before
    }
}

/// The error a waiter gets once its descriptor was deregistered, or closed by its runtime's
/// shutdown.
fn closed_error(shut_down: bool) -> io::Error {
    if shut_down {
        return io::Error::other(SHUT_DOWN_MESSAGE);
    }
    io::Error::new(
        io::ErrorKind::NotConnected,
        "the IO object was closed while a task waited on it",
    )
}

/// What IO on a reactor whose runtime shut down fails with (tokio's: "A Tokio 1.x context was
/// found, but it is being shutdown").
pub(crate) const SHUT_DOWN_MESSAGE: &str =
    "gort: the runtime this IO object is registered with has shut down";

#[cfg(test)]
mod tests {
    use super::*;
    use futures::task::noop_waker;

    fn poll(desc: &PollDesc, direction: Direction) -> Poll<io::Result<ReadyEvent>> {
        let waker = noop_waker();
        let parked = ParkedCount::new(0);
        desc.poll_ready(direction, &mut Context::from_waker(&waker), &parked)
    }

    #[test]
    fn a_stale_clear_keeps_the_new_edge() {
        let desc = PollDesc::new(0);
        let Poll::Ready(Ok(before)) = poll(&desc, Direction::Read) else {
            panic!("a new descriptor starts readable");
        };
        // An edge arrives while the operation that will return WouldBlock is in flight.
        desc.set_ready(true, false, Some(false), &mut Vec::new());
        desc.clear_readiness(before);
        assert!(
            poll(&desc, Direction::Read).is_ready(),
            "the new edge was lost"
        );
    }

    #[test]
    fn a_current_clear_parks_the_next_poll_until_an_edge() {
        let desc = PollDesc::new(0);
        let Poll::Ready(Ok(event)) = poll(&desc, Direction::Write) else {
            panic!("a new descriptor starts writable");
        };
        desc.clear_readiness(event);
        assert!(poll(&desc, Direction::Write).is_pending());
        assert!(
            poll(&desc, Direction::Read).is_ready(),
            "directions are independent"
        );
        let mut wake = Vec::new();
        assert_eq!(desc.set_ready(false, true, None, &mut wake), 1);
        assert!(poll(&desc, Direction::Write).is_ready());
    }

    /// Ready at the current tick, as a reader would see it.
    fn ready_read(desc: &PollDesc) -> ReadyEvent {
        match poll(desc, Direction::Read) {
            Poll::Ready(Ok(event)) => event,
            other => panic!("expected readable, got {other:?}"),
        }
    }

    #[test]
    fn a_short_read_clears_only_when_no_fin_can_be_pending() {
        // (how the last edge was reported, whether a short read may clear readiness)
        let cases = [
            (Some(false), true), // the kernel said: data, no FIN
            (Some(true), false), // data and FIN: the next read returns 0 at once
            (None, false),       // unknown kind (`polling`'s wait): maybe a FIN
        ];
        for (read_closed, clears) in cases {
            let desc = PollDesc::new(0);
            desc.clear_readiness(ready_read(&desc));
            desc.set_ready(true, false, read_closed, &mut Vec::new());
            desc.clear_after_short_transfer(ready_read(&desc));
            assert_eq!(
                poll(&desc, Direction::Read).is_pending(),
                clears,
                "edge {read_closed:?}"
            );
        }
    }

    #[test]
    fn a_would_block_read_settles_an_unsure_edge_but_not_a_fin() {
        let desc = PollDesc::new(0);
        desc.set_ready(true, false, None, &mut Vec::new());
        desc.clear_readiness(ready_read(&desc));
        desc.set_ready(true, false, Some(false), &mut Vec::new());
        desc.clear_after_short_transfer(ready_read(&desc));
        assert!(
            poll(&desc, Direction::Read).is_pending(),
            "unsure was settled"
        );

        let desc = PollDesc::new(0);
        desc.set_ready(true, false, Some(true), &mut Vec::new());
        desc.clear_readiness(ready_read(&desc));
        desc.set_ready(true, false, Some(false), &mut Vec::new());
        desc.clear_after_short_transfer(ready_read(&desc));
        assert!(poll(&desc, Direction::Read).is_ready(), "a FIN is forever");
    }

    #[test]
    fn close_fails_waiters() {
        let desc = PollDesc::new(0);
        let Poll::Ready(Ok(event)) = poll(&desc, Direction::Read) else {
            panic!("a new descriptor starts readable");
        };
        desc.clear_readiness(event);
        assert!(poll(&desc, Direction::Read).is_pending());
        let mut wake = Vec::new();
        assert_eq!(desc.close(&mut wake), 1);
        match poll(&desc, Direction::Read) {
            Poll::Ready(Err(err)) => assert_eq!(err.kind(), io::ErrorKind::NotConnected),
            other => panic!("expected the closed error, got {other:?}"),
        }
    }
}
