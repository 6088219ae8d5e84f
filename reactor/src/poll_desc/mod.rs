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
//! # Kinds of readiness, and two ways to wait
//!
//! The readiness bits are tokio's [`Ready`] set (readable, writable, read-closed, write-closed,
//! priority, error), the low bits of `state`. The closed kinds are sticky; the others are cleared
//! by an operation that finds them stale. A task waits in one of two ways:
//!
//! - **By [`Direction`]**, the retry loop of every socket operation (`Registered::poll_io`): met
//!   only by the readable (or writable) bit itself. Hang-ups and errors set that bit too (the
//!   poller reports them as readable and writable, as Go's does), so no close is missed; and a
//!   sticky closed bit can never make the loop spin on an fd whose operation still says
//!   `WouldBlock` (a FIFO that got a new writer after a hang-up).
//! - **By [`Interest`]** (`ready(Interest)`, `AsyncFd`): met by any bit of the interest's mask
//!   (`Interest::mask`: readable interest by readable *or* read-closed), as tokio's is, and the
//!   event says which bits were set.
//!
//! Waiters are kept in one list per kind of interest (read, write, priority, error); an edge
//! wakes the lists whose mask its bits meet. A task waiting for several kinds sits in several
//! lists and may be woken twice; it polls again and finds its answer either way.
//!
//! # Short reads and the end of the stream
//!
//! A read that returns fewer bytes than asked emptied the socket buffer, so readiness could be
//! cleared right away and the next read park without a system call that would only say
//! `WouldBlock` (`Registered::poll_transfer`). Unless the peer's FIN came in the same edge as the
//! data: then the next read would return 0 at once, and no further edge will ever come to wake
//! a parked reader. So a short read may clear read readiness only when the descriptor knows no
//! FIN (or error) is pending: the kernel reports a FIN as `EPOLLRDHUP`, which sets the sticky
//! read-closed bit, and an error as `EPOLLERR`, which sets the error bit; an edge whose kind is unknown (from `polling`'s wait, used off Linux and Android, which
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

use crate::interest::Interest;
use crate::loom::{AtomicUsize, Mutex, MutexGuard};
use crate::ready::Ready;

mod waiters;

use waiters::{lists_of, lists_woken_by, slot_of, Waiters};

/// A direction a task waits in: the retry loop of a socket operation (module doc, "Kinds of
/// readiness, and two ways to wait").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Readable: data, a pending connection, or end of stream.
    Read,
    /// Writable: buffer space, or a completed connect.
    Write,
}

impl Direction {
    /// The interest a wait in this direction stands for.
    pub fn interest(self) -> Interest {
        match self {
            Direction::Read => Interest::READABLE,
            Direction::Write => Interest::WRITABLE,
        }
    }

    /// The one readiness bit that meets a wait in this direction.
    fn ready(self) -> Ready {
        match self {
            Direction::Read => Ready::READABLE,
            Direction::Write => Ready::WRITABLE,
        }
    }
}

/// Set once when the descriptor is deregistered: waiters fail instead of parking forever.
const CLOSED: usize = 1 << 8;
/// A readable edge of unknown kind (it may carry a FIN) since the last `WouldBlock` read.
const READ_UNSURE: usize = 1 << 9;
/// Sticky, with `CLOSED`: closed because the runtime shut down (its waiters get an error that
/// says so, not "the IO object was closed").
const SHUT_DOWN: usize = 1 << 10;
/// The tick lives above the bits.
const TICK_SHIFT: u32 = 16;
/// One tick.
const TICK_ONE: usize = 1 << TICK_SHIFT;

const _: () = assert!(
    Ready::ALL.bits() < CLOSED,
    "the readiness bits sit below the descriptor's own"
);

/// Proof that some readiness was set at a given tick, returned by [`PollDesc::poll_ready`] and
/// its kin, and handed back to [`PollDesc::clear_readiness`] if the operation found nothing to
/// do.
#[derive(Debug, Clone, Copy)]
pub struct ReadyEvent {
    tick: usize,
    ready: Ready,
}

impl ReadyEvent {
    /// The readiness that was set (within what the wait asked for).
    pub fn ready(&self) -> Ready {
        self.ready
    }

    /// The same observation, naming `ready` instead: what clearing it would clear.
    pub fn with_ready(self, ready: Ready) -> ReadyEvent {
        ReadyEvent { ready, ..self }
    }
}

/// What a wait is met by: one direction's own bit, or any bit of an interest's mask.
#[derive(Clone, Copy)]
struct Wait {
    /// The bits that end the wait.
    met_by: Ready,
    /// The bits the event reports (the interest's whole mask).
    reports: Ready,
    interest: Interest,
}

impl Wait {
    fn direction(direction: Direction) -> Wait {
        let interest = direction.interest();
        Wait {
            met_by: direction.ready(),
            reports: interest.mask(),
            interest,
        }
    }

    fn interest(interest: Interest) -> Wait {
        Wait {
            met_by: interest.mask(),
            reports: interest.mask(),
            interest,
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
    /// A descriptor for a freshly registered socket: both directions start ready, so that the
    /// first operation is simply tried (a new socket usually is writable, and a read that finds
    /// nothing clears the bit and parks), as Go tries the system call before parking.
    pub fn new(key: usize) -> PollDesc {
        PollDesc::with_readiness(key, Ready::READABLE | Ready::WRITABLE)
    }

    /// A descriptor for a socket known to have nothing to read yet but room to write: one end
    /// of a fresh socket pair (`UnixStream::pair`), which no peer could have written to before
    /// the registration's own edge reports it. tokio's pairs start this way.
    pub fn new_writable(key: usize) -> PollDesc {
        PollDesc::with_readiness(key, Ready::WRITABLE)
    }

    /// A descriptor that knows nothing yet: readiness comes only from the poller's edges (the
    /// registration itself reports the fd's current state as one). For `AsyncFd`, whose users
    /// ask what is ready rather than try an operation first.
    pub fn new_unready(key: usize) -> PollDesc {
        PollDesc::with_readiness(key, Ready::EMPTY)
    }

    fn with_readiness(key: usize, ready: Ready) -> PollDesc {
        PollDesc {
            key,
            state: AtomicUsize::new(ready.bits()),
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
        self.poll_wait(Wait::direction(direction), cx, parked)
    }

    /// Ready once any readiness that meets `interest` is set (module doc, "Kinds of
    /// readiness"); the event says which. Otherwise parks `cx`'s waker as
    /// [`PollDesc::poll_ready`] does.
    pub fn poll_interest(
        &self,
        interest: Interest,
        cx: &mut Context<'_>,
        parked: &ParkedCount,
    ) -> Poll<io::Result<ReadyEvent>> {
        self.poll_wait(Wait::interest(interest), cx, parked)
    }

    /// [`PollDesc::poll_interest`] for `interest` (readable or writable, or both), keeping only
    /// the latest waker per direction (`waiters.rs`): the `poll_*_ready` functions' rule.
    pub fn poll_interest_latest(
        &self,
        interest: Interest,
        cx: &mut Context<'_>,
        parked: &ParkedCount,
    ) -> Poll<io::Result<ReadyEvent>> {
        self.poll_latest(Wait::interest(interest), cx, parked)
    }

    /// [`PollDesc::poll_ready`] keeping only the latest waker of `direction` (`waiters.rs`).
    pub fn poll_ready_latest(
        &self,
        direction: Direction,
        cx: &mut Context<'_>,
        parked: &ParkedCount,
    ) -> Poll<io::Result<ReadyEvent>> {
        self.poll_latest(Wait::direction(direction), cx, parked)
    }

    fn poll_latest(
        &self,
        wait: Wait,
        cx: &mut Context<'_>,
        parked: &ParkedCount,
    ) -> Poll<io::Result<ReadyEvent>> {
        let interest = wait.interest;
        if let Some(ready) = Self::check(self.state.load(Ordering::Acquire), wait) {
            return Poll::Ready(ready);
        }
        let mut replaced = Vec::new();
        {
            let mut waiters = self.lock();
            if let Some(ready) = Self::check(self.state.load(Ordering::Acquire), wait) {
                return Poll::Ready(ready);
            }
            for slot in lists_of(interest).filter_map(slot_of) {
                let slot = &mut waiters.slots[slot];
                match slot {
                    Some(old) if old.will_wake(cx.waker()) => {}
                    Some(old) => replaced.push(std::mem::replace(old, cx.waker().clone())),
                    None => {
                        *slot = Some(cx.waker().clone());
                        parked.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }
        // The wakers replaced are dropped outside the lock (a drop may run user code).
        drop(replaced);
        Poll::Pending
    }

    fn poll_wait(
        &self,
        wait: Wait,
        cx: &mut Context<'_>,
        parked: &ParkedCount,
    ) -> Poll<io::Result<ReadyEvent>> {
        if let Some(ready) = Self::check(self.state.load(Ordering::Acquire), wait) {
            return Poll::Ready(ready);
        }
        let mut waiters = self.lock();
        if let Some(ready) = Self::check(self.state.load(Ordering::Acquire), wait) {
            return Poll::Ready(ready);
        }
        for list in lists_of(wait.interest) {
            let list = &mut waiters.lists[list];
            if !list.iter().any(|waker| waker.will_wake(cx.waker())) {
                list.push(cx.waker().clone());
                parked.fetch_add(1, Ordering::Relaxed);
            }
        }
        Poll::Pending
    }

    /// Whether `direction` may be ready, without parking anybody: closed (an error), ready at
    /// some tick, or not ready (`None`).
    pub fn peek(&self, direction: Direction) -> Option<io::Result<ReadyEvent>> {
        Self::check(
            self.state.load(Ordering::Acquire),
            Wait::direction(direction),
        )
    }

    /// [`PollDesc::peek`] for an interest.
    pub fn peek_interest(&self, interest: Interest) -> Option<io::Result<ReadyEvent>> {
        Self::check(self.state.load(Ordering::Acquire), Wait::interest(interest))
    }

    /// What `state` says about `wait`: closed, ready at some tick, or not ready (`None`).
    fn check(state: usize, wait: Wait) -> Option<io::Result<ReadyEvent>> {
        if state & CLOSED != 0 {
            return Some(Err(closed_error(state & SHUT_DOWN != 0)));
        }
        let ready = Ready::from_state(state);
        (!(ready & wait.met_by).is_empty()).then_some(Ok(ReadyEvent {
            tick: state >> TICK_SHIFT,
            ready: ready & wait.reports,
        }))
    }

    /// Clears `event`'s readiness after an operation returned `WouldBlock` (or a guard's owner
    /// said so), unless an edge arrived since `event` was observed. The closed kinds stay (they
    /// are sticky); clearing readable also settles `READ_UNSURE`.
    pub fn clear_readiness(&self, event: ReadyEvent) {
        let clear = event.ready - Ready::READ_CLOSED - Ready::WRITE_CLOSED;
        let mut clear = clear.bits();
        if event.ready.is_readable() {
            clear |= READ_UNSURE;
        }
        let _ = self
            .state
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |state| {
                (state >> TICK_SHIFT == event.tick).then_some(state & !clear)
            });
    }

    /// Clears `event`'s readable (or writable) bit after a transfer that moved fewer bytes than
    /// asked, when that proves the buffer empty (writes: full): always for writes, and for reads
    /// only if no FIN or error may be pending (module doc, "Short reads and the end of the
    /// stream").
    pub fn clear_after_short_transfer(&self, event: ReadyEvent) {
        let (clear, unless) = if event.ready.is_readable() {
            (
                Ready::READABLE.bits(),
                (Ready::READ_CLOSED | Ready::ERROR).bits() | READ_UNSURE,
            )
        } else {
            ((event.ready & Ready::WRITABLE).bits(), 0)
        };
        let _ = self
            .state
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |state| {
                (state >> TICK_SHIFT == event.tick && state & unless == 0).then_some(state & !clear)
            });
    }

    /// Records an edge (from the reactor) that reports `ready`, and moves the wakers it meets
    /// into `wake`. `fin_known` says whether the poller reports the peer's FIN at all: if not
    /// (`polling`'s wait), a readable edge without read-closed may still carry one
    /// (`READ_UNSURE`). Returns how many wakers were taken.
    pub fn set_ready(&self, ready: Ready, fin_known: bool, wake: &mut Vec<Waker>) -> usize {
        if ready.is_empty() {
            return 0;
        }
        let mut bits = ready.bits();
        if ready.is_readable() && !ready.is_read_closed() && !fin_known {
            bits |= READ_UNSURE;
        }
        // Bits before the lock: see the module doc.
        let _ = self
            .state
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |state| {
                Some(state.wrapping_add(TICK_ONE) | bits)
            });
        let mut waiters = self.lock();
        let before = wake.len();
        for list in lists_woken_by(ready) {
            wake.append(&mut waiters.lists[list]);
            if let Some(slot) = slot_of(list) {
                wake.extend(waiters.slots[slot].take());
            }
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
        for list in &mut waiters.lists {
            wake.append(list);
        }
        for slot in &mut waiters.slots {
            wake.extend(slot.take());
        }
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

/// The error of IO whose runtime has shut down, for IO that is refused before it reaches a
/// reactor (stdio's blocking jobs): [`is_shut_down_error`] holds for it.
pub fn shut_down_error() -> io::Error {
    closed_error(true)
}

/// Whether `err` is the error of IO on a reactor whose runtime has shut down (the executor
/// exposes it as tokio's `runtime::is_rt_shutdown_err`).
pub fn is_shut_down_error(err: &io::Error) -> bool {
    err.kind() == io::ErrorKind::Other
        && err
            .get_ref()
            .is_some_and(|inner| inner.source().is_none() && inner.to_string() == SHUT_DOWN_MESSAGE)
}

#[cfg(test)]
mod tests;
