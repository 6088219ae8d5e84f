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

/// The kinds of interest waiters are listed by (see "Kinds of readiness").
const KINDS: usize = 4;
const READ_LIST: usize = 0;
const WRITE_LIST: usize = 1;
const PRIORITY_LIST: usize = 2;
const ERROR_LIST: usize = 3;

/// Waiters parked on one descriptor, one list per kind of interest.
#[derive(Default)]
struct Waiters {
    lists: [Vec<Waker>; KINDS],
}

/// The lists a wait for `interest` joins.
fn lists_of(interest: Interest) -> impl Iterator<Item = usize> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    let priority = interest.is_priority();
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let priority = false;
    [
        (interest.is_readable(), READ_LIST),
        (interest.is_writable(), WRITE_LIST),
        (priority, PRIORITY_LIST),
        (interest.is_error(), ERROR_LIST),
    ]
    .into_iter()
    .filter_map(|(joins, list)| joins.then_some(list))
}

/// The lists an edge that sets `ready` wakes: those whose interest's mask `ready` meets.
fn lists_woken_by(ready: Ready) -> impl Iterator<Item = usize> {
    let kinds = [
        (Interest::READABLE, READ_LIST),
        (Interest::WRITABLE, WRITE_LIST),
        #[cfg(any(target_os = "linux", target_os = "android"))]
        (Interest::PRIORITY, PRIORITY_LIST),
        (Interest::ERROR, ERROR_LIST),
    ];
    kinds
        .into_iter()
        .filter_map(move |(interest, list)| (!(interest.mask() & ready).is_empty()).then_some(list))
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

/// Whether `err` is the error of IO on a reactor whose runtime has shut down (the executor
/// exposes it as tokio's `runtime::is_rt_shutdown_err`).
pub fn is_shut_down_error(err: &io::Error) -> bool {
    err.kind() == io::ErrorKind::Other
        && err
            .get_ref()
            .is_some_and(|inner| inner.source().is_none() && inner.to_string() == SHUT_DOWN_MESSAGE)
}

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
        desc.set_ready(Ready::READABLE, true, &mut Vec::new());
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
        assert_eq!(desc.set_ready(Ready::WRITABLE, false, &mut wake), 1);
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
            let ready = match read_closed {
                Some(true) => Ready::READABLE | Ready::READ_CLOSED,
                _ => Ready::READABLE,
            };
            desc.set_ready(ready, read_closed.is_some(), &mut Vec::new());
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
        desc.set_ready(Ready::READABLE, false, &mut Vec::new());
        desc.clear_readiness(ready_read(&desc));
        desc.set_ready(Ready::READABLE, true, &mut Vec::new());
        desc.clear_after_short_transfer(ready_read(&desc));
        assert!(
            poll(&desc, Direction::Read).is_pending(),
            "unsure was settled"
        );

        let desc = PollDesc::new(0);
        desc.set_ready(Ready::READABLE | Ready::READ_CLOSED, true, &mut Vec::new());
        desc.clear_readiness(ready_read(&desc));
        desc.set_ready(Ready::READABLE, true, &mut Vec::new());
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

    fn poll_interest(desc: &PollDesc, interest: Interest) -> Poll<io::Result<ReadyEvent>> {
        let waker = noop_waker();
        let parked = ParkedCount::new(0);
        desc.poll_interest(interest, &mut Context::from_waker(&waker), &parked)
    }

    fn ready_of(poll: Poll<io::Result<ReadyEvent>>) -> Option<Ready> {
        match poll {
            Poll::Ready(Ok(event)) => Some(event.ready()),
            Poll::Ready(Err(err)) => panic!("closed: {err}"),
            Poll::Pending => None,
        }
    }

    #[test]
    fn an_unready_descriptor_waits_for_the_first_edge() {
        let desc = PollDesc::new_unready(0);
        assert_eq!(ready_of(poll_interest(&desc, Interest::READABLE)), None);
        assert_eq!(ready_of(poll_interest(&desc, Interest::WRITABLE)), None);
        let mut wake = Vec::new();
        desc.set_ready(Ready::WRITABLE, true, &mut wake);
        assert_eq!(wake.len(), 1, "the writable waiter, not the reader");
        assert_eq!(
            ready_of(poll_interest(
                &desc,
                Interest::READABLE | Interest::WRITABLE
            )),
            Some(Ready::WRITABLE)
        );
        assert_eq!(ready_of(poll_interest(&desc, Interest::READABLE)), None);
    }

    #[test]
    fn closed_readiness_meets_an_interest_but_not_a_direction_and_is_sticky() {
        let desc = PollDesc::new_unready(0);
        desc.set_ready(Ready::READABLE | Ready::READ_CLOSED, true, &mut Vec::new());
        let event = match poll(&desc, Direction::Read) {
            Poll::Ready(Ok(event)) => event,
            other => panic!("readable: {other:?}"),
        };
        assert_eq!(event.ready(), Ready::READABLE | Ready::READ_CLOSED);
        desc.clear_readiness(event);
        assert!(
            poll(&desc, Direction::Read).is_pending(),
            "a retry loop parks"
        );
        assert_eq!(
            ready_of(poll_interest(&desc, Interest::READABLE)),
            Some(Ready::READ_CLOSED),
            "read-closed stays and meets readable interest, as in tokio"
        );
    }

    #[test]
    fn clearing_part_of_an_event_keeps_the_rest() {
        let desc = PollDesc::new(0);
        let Some(both) = ready_of(poll_interest(
            &desc,
            Interest::READABLE | Interest::WRITABLE,
        )) else {
            panic!("a new socket descriptor starts ready");
        };
        assert_eq!(both, Ready::READABLE | Ready::WRITABLE);
        let Poll::Ready(Ok(event)) = poll_interest(&desc, Interest::READABLE | Interest::WRITABLE)
        else {
            unreachable!()
        };
        desc.clear_readiness(event.with_ready(Ready::READABLE));
        assert_eq!(
            ready_of(poll_interest(
                &desc,
                Interest::READABLE | Interest::WRITABLE
            )),
            Some(Ready::WRITABLE)
        );
    }

    #[test]
    fn each_list_is_woken_by_its_own_kinds() {
        // (waiting for, edge, woken)
        let cases = [
            (Interest::READABLE, Ready::WRITABLE, false),
            (Interest::READABLE, Ready::READ_CLOSED, true),
            (Interest::WRITABLE, Ready::WRITE_CLOSED, true),
            (Interest::ERROR, Ready::READABLE, false),
            (Interest::ERROR, Ready::ERROR, true),
            #[cfg(any(target_os = "linux", target_os = "android"))]
            (Interest::PRIORITY, Ready::READABLE, false),
            #[cfg(any(target_os = "linux", target_os = "android"))]
            (Interest::PRIORITY, Ready::PRIORITY, true),
            #[cfg(any(target_os = "linux", target_os = "android"))]
            (Interest::PRIORITY, Ready::READ_CLOSED, true),
        ];
        for (interest, edge, woken) in cases {
            let desc = PollDesc::new_unready(0);
            assert!(poll_interest(&desc, interest).is_pending());
            let mut wake = Vec::new();
            desc.set_ready(edge, true, &mut wake);
            assert_eq!(wake.len() == 1, woken, "{interest:?} after {edge:?}");
            assert_eq!(
                poll_interest(&desc, interest).is_ready(),
                woken,
                "{interest:?} after {edge:?}"
            );
        }
    }
}
