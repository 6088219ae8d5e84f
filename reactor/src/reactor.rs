//! `Reactor`: one runtime's poller, its table of poll descriptors, and the driver.
//!
//! # Who polls (Go's `netpoll`, driven from `findRunnable`)
//!
//! The reactor has no thread of its own. The executor drives it in two ways:
//!
//! - an M whose local work ran out calls [`Driver::poll`] with a zero timeout (Go's
//!   non-blocking `netpoll(0)` in `findRunnable`), only while some task waits on IO;
//! - the one M that would otherwise park blocks in [`Driver::poll`] with a timeout (Go's
//!   blocking `netpoll(delay)` from the last step of `findRunnable`), and [`Reactor::notify`]
//!   breaks that wait when work arrives for it.
//!
//! [`Reactor::try_driver`] hands out the right to poll to one thread at a time: the backends
//! (`sys`) expect one waiter (the epoll backend's notifier is drained by the waiting thread, and
//! `polling` answers a second concurrent `wait` at once with nothing). Any M may take it, so a
//! worker stuck in a long task never holds IO hostage for the others (tokio #4730, where the
//! driver stays with whichever worker parked on it last).
//!
//! Events are dispatched on the polling thread by calling the parked tasks' wakers; the executor
//! decides where woken tasks go (it collects them in a batch while it polls, Go's
//! `injectglist`).
//!
//! # The poller
//!
//! `sys::Poller`: on Linux and Android gort's own epoll instance and eventfd notifier
//! (`sys/epoll.rs` says why gort drives epoll itself), elsewhere `polling`'s. It is created on
//! the first registration or timed wait, not with the reactor.
//!
//! # The descriptor table
//!
//! Each registered fd owns a slot in a slab; its key is the slot plus a generation (half a
//! `usize` each), so an event still in flight for a closed fd cannot wake whatever fd took the
//! slot next. Slots are reused, so opening and closing connections in a loop does not grow the
//! table. The last slot, `SLOT_MASK`, is never handed out: keys in it belong to the backend,
//! whose notifier uses `sys::RESERVED_KEY` (all ones), so no descriptor's key can equal it.
//! `register` refuses that slot and any beyond it (which would spill into the generation). On
//! 64-bit targets that cannot happen (live slots never outnumber open fds, fewer than 2^31);
//! on 32-bit ones it is an error at 65535 live descriptors rather than a corrupt key.

use std::io;
use std::num::NonZeroUsize;
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, TryLockError};
use std::time::Duration;

use slab::Slab;

use crate::poll_desc::{self, PollDesc};
use crate::sys::{self, Event, Events, Poller};

/// Events taken from the kernel per wait, by default (tokio: 1024, Go: 128).
pub const EVENTS_PER_POLL: NonZeroUsize = NonZeroUsize::new(1024).expect("nonzero");

/// A key is a slab slot in the low half of a `usize` and a generation in the high half.
const SLOT_BITS: u32 = usize::BITS / 2;
/// Mask of the slot half of a key.
const SLOT_MASK: usize = (1 << SLOT_BITS) - 1;
/// The slot no descriptor takes (see "The descriptor table"): the backend's key is in it.
const RESERVED_SLOT: usize = sys::RESERVED_KEY & SLOT_MASK;
const _: () = assert!(
    RESERVED_SLOT == SLOT_MASK,
    "the reserved slot is the last, so that every slot below it is usable"
);

/// One runtime's netpoller.
pub struct Reactor {
    /// Created on the first registration (Go's `netpollGenericInit`) or timed wait: a runtime
    /// that never does IO or timed waits never opens the fds a poller costs (two on Linux, the
    /// epoll instance and its eventfd), and a failure to create it (`EMFILE`) is returned to the
    /// socket being created instead of failing the runtime.
    poller: OnceLock<Poller>,
    /// Serialises creating `poller`.
    poller_init: Mutex<()>,
    /// Live descriptors by slot.
    descriptors: Mutex<Slab<Arc<PollDesc>>>,
    /// The driver role: whoever holds this lock may wait on `poller` (see the module doc).
    events: Mutex<EventBuffers>,
    /// Wakers parked on descriptors, roughly (a waker whose future was dropped is counted until
    /// the next edge or close). Zero means nobody waits on IO, so non-blocking polls can be
    /// skipped (Go's `netpollWaiters`).
    parked: AtomicUsize,
    /// Generation for the next registration.
    next_generation: AtomicU32,
    /// Set once by [`Reactor::shut_down`], under the descriptor table's lock (which `register`
    /// reads it under).
    shut_down: AtomicBool,
}

/// The right to poll a [`Reactor`], held by one thread at a time.
pub struct Driver<'a> {
    reactor: &'a Reactor,
    poller: &'a Poller,
    events: MutexGuard<'a, EventBuffers>,
}

/// Where the kernel's events land: a wait takes up to `wait`'s capacity, a zero-timeout look
/// (a busy M's) up to `busy`'s when one is set, leaving the rest queued in the kernel for the
/// next poll (tokio's `max_io_events_per_busy_tick`: a busy thread's run queue is not flooded
/// with the Gs a large batch wakes).
struct EventBuffers {
    wait: Events,
    busy: Option<Events>,
}

impl Reactor {
    /// A reactor; its poller (an epoll instance and an eventfd on Linux) is created when the
    /// first fd registers or the first timed wait needs it.
    pub fn new() -> Arc<Reactor> {
        Reactor::with_events_per_poll(EVENTS_PER_POLL, None)
    }

    /// A reactor whose polls take at most `per_poll` events from the kernel, and at most
    /// `per_busy_poll` (if given) when they do not wait (tokio's `max_io_events_per_tick` and
    /// `max_io_events_per_busy_tick`).
    pub fn with_events_per_poll(
        per_poll: NonZeroUsize,
        per_busy_poll: Option<NonZeroUsize>,
    ) -> Arc<Reactor> {
        let busy = per_busy_poll
            .filter(|&busy| busy < per_poll)
            .map(Events::with_capacity);
        Arc::new(Reactor {
            poller: OnceLock::new(),
            poller_init: Mutex::new(()),
            descriptors: Mutex::new(Slab::new()),
            events: Mutex::new(EventBuffers {
                wait: Events::with_capacity(per_poll),
                busy,
            }),
            parked: AtomicUsize::new(0),
            next_generation: AtomicU32::new(0),
            shut_down: AtomicBool::new(false),
        })
    }

    /// The poller, created if this is the first use.
    fn poller(&self) -> io::Result<&Poller> {
        if let Some(poller) = self.poller.get() {
            return Ok(poller);
        }
        let _init = self.poller_init.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(poller) = self.poller.get() {
            return Ok(poller);
        }
        let _ = self.poller.set(Poller::new()?);
        Ok(self
            .poller
            .get()
            .unwrap_or_else(|| unreachable!("just set under the init lock")))
    }

    /// Takes the driver role if nobody holds it. `None` too while no fd was ever registered:
    /// there is nothing to wait for yet.
    pub fn try_driver(&self) -> Option<Driver<'_>> {
        let poller = self.poller.get()?;
        let events = match self.events.try_lock() {
            Ok(events) => events,
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(TryLockError::WouldBlock) => return None,
        };
        Some(Driver {
            reactor: self,
            poller,
            events,
        })
    }

    /// [`Reactor::try_driver`], creating the poller first if no fd ever needed it: for a thread
    /// that has to wait for a deadline (a timed poll is the runtime's only timed wait). `None`
    /// also if the poller cannot be created (out of fds).
    pub fn try_driver_with_poller(&self) -> Option<Driver<'_>> {
        self.poller().ok()?;
        self.try_driver()
    }

    /// Whether the poller exists (creating it may fail: out of descriptors). Without it no
    /// thread can wait here for the earliest timer, and the executor parks with a timeout
    /// instead.
    pub fn has_poller(&self) -> bool {
        self.poller.get().is_some()
    }

    /// Breaks the current (or the next) blocking [`Driver::poll`]. Several notifications before
    /// a wait may end just that one wait.
    pub fn notify(&self) {
        // Without a poller nobody waits, and the first wait re-computes its bound anyway. An
        // error means the notifier cannot be written (it is gone only with the poller itself);
        // there is nobody to report it to.
        if let Some(poller) = self.poller.get() {
            let _ = poller.notify();
        }
    }

    /// Whether any task is parked on IO (a non-blocking poll could find work).
    pub fn has_waiters(&self) -> bool {
        self.parked.load(Ordering::Relaxed) != 0
    }

    /// Live descriptors and the table's capacity (for tests and diagnostics).
    pub fn descriptor_table(&self) -> (usize, usize) {
        let table = self.lock_descriptors();
        (table.len(), table.capacity())
    }

    pub(crate) fn parked_counter(&self) -> &AtomicUsize {
        &self.parked
    }

    fn lock_descriptors(&self) -> MutexGuard<'_, Slab<Arc<PollDesc>>> {
        // No user code runs under this lock.
        self.descriptors.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers `source` (edge-triggered, both directions, and on Linux the peer's FIN) and
    /// returns its descriptor. The caller deregisters it before closing it.
    pub(crate) fn register(&self, source: impl AsFd) -> io::Result<Arc<PollDesc>> {
        self.register_with(source, PollDesc::new)
    }

    /// [`Reactor::register`] with a descriptor that starts with no readiness
    /// (`PollDesc::new_unready`): the registration's first edge says what the fd is ready for.
    pub(crate) fn register_unready(&self, source: impl AsFd) -> io::Result<Arc<PollDesc>> {
        self.register_with(source, PollDesc::new_unready)
    }

    /// [`Reactor::register`] with a descriptor that starts writable only
    /// (`PollDesc::new_writable`): a fresh socket pair's ends.
    pub(crate) fn register_writable(&self, source: impl AsFd) -> io::Result<Arc<PollDesc>> {
        self.register_with(source, PollDesc::new_writable)
    }

    fn register_with(
        &self,
        source: impl AsFd,
        new_desc: fn(usize) -> PollDesc,
    ) -> io::Result<Arc<PollDesc>> {
        let poller = self.poller()?;
        let mut table = self.lock_descriptors();
        if self.shut_down.load(Ordering::Relaxed) {
            return Err(io::Error::other(poll_desc::SHUT_DOWN_MESSAGE));
        }
        let entry = table.vacant_entry();
        let generation = self.next_generation.fetch_add(1, Ordering::Relaxed);
        let key = key_for(entry.key(), generation).ok_or_else(|| {
            io::Error::other("gort: the reactor's table of poll descriptors is full")
        })?;
        let desc = Arc::new(new_desc(key));
        poller.add(source.as_fd(), key)?;
        entry.insert(Arc::clone(&desc));
        Ok(desc)
    }

    /// The runtime is shutting down: no thread will poll this reactor again. Every registered
    /// descriptor is closed (its waiters wake and fail, as does every later operation, with an
    /// error that says the runtime shut down), and nothing registers from now on. The fds stay
    /// in the epoll set until their owners drop them (`deregister`).
    pub fn shut_down(&self) {
        let descriptors: Vec<Arc<PollDesc>> = {
            let mut table = self.lock_descriptors();
            self.shut_down.store(true, Ordering::Relaxed);
            table.drain().collect()
        };
        let mut wake = Vec::new();
        let taken: usize = descriptors
            .iter()
            .map(|desc| desc.close_for_shutdown(&mut wake))
            .sum();
        self.parked.fetch_sub(taken, Ordering::Relaxed);
        gort_context::wake_all(wake);
    }

    /// Removes `source` from the poller and frees its slot; its waiters wake and fail.
    pub(crate) fn deregister(&self, source: impl AsFd, desc: &PollDesc) {
        // Failure means the fd was already gone from the epoll set (closed behind our back via
        // `into_raw_fd` misuse); the slot is freed either way.
        if let Some(poller) = self.poller.get() {
            let _ = poller.delete(source.as_fd());
        }
        {
            let mut table = self.lock_descriptors();
            let slot = desc.key & SLOT_MASK;
            if table.get(slot).is_some_and(|d| d.key == desc.key) {
                table.remove(slot);
            }
        }
        let mut wake = Vec::new();
        let taken = desc.close(&mut wake);
        self.parked.fetch_sub(taken, Ordering::Relaxed);
        gort_context::wake_all(wake);
    }

    /// Records events and wakes the tasks parked on them. Returns how many wakers were called.
    fn dispatch(&self, events: impl Iterator<Item = Event>) -> usize {
        let mut wake = Vec::new();
        {
            let table = self.lock_descriptors();
            for event in events {
                // Proof: the backend takes its notifier's event out of the batch before it
                // returns, and no fd is added under the reserved key. Were one to slip through,
                // its key would match no descriptor and be dropped below: nothing is woken wrongly.
                debug_assert_ne!(event.key, sys::RESERVED_KEY, "the backend's own event");
                // A stale key (slot freed, or reused by another fd) is dropped here.
                if let Some(desc) = table
                    .get(event.key & SLOT_MASK)
                    .filter(|d| d.key == event.key)
                {
                    desc.set_ready(event.ready, event.fin_known, &mut wake);
                }
            }
        }
        self.parked.fetch_sub(wake.len(), Ordering::Relaxed);
        let woken = wake.len();
        // Outside every lock: wakers run the executor's schedule function.
        gort_context::wake_all(wake);
        woken
    }
}

impl Driver<'_> {
    /// Waits up to `timeout` (`None`: until an event or [`Reactor::notify`]; zero: just look)
    /// and wakes the tasks parked on descriptors that became ready. Returns how many wakers were
    /// called.
    ///
    /// A timed wait lasts at least `timeout` unless an event, a notification or a signal ends
    /// it; the executor re-computes its bound after every wait. On Linux a zero or unbounded
    /// wait is one `epoll_wait`, a timed one one `epoll_pwait2` (nanoseconds; `epoll_wait` with
    /// the timeout rounded up to milliseconds on kernels without it), and the first timed wait
    /// on a thread lowers its timer slack to 1 ns: see `sys/epoll.rs`.
    pub fn poll(&mut self, timeout: Option<Duration>) -> io::Result<usize> {
        let buffers = &mut *self.events;
        let events = match (timeout, buffers.busy.as_mut()) {
            (Some(Duration::ZERO), Some(busy)) => busy,
            _ => &mut buffers.wait,
        };
        self.poller.wait(events, timeout)?;
        Ok(self.reactor.dispatch(events.iter()))
    }
}

/// The key of `slot` at `generation` (its low half), `None` for the reserved slot and beyond
/// (see "The descriptor table").
fn key_for(slot: usize, generation: u32) -> Option<usize> {
    if slot >= RESERVED_SLOT {
        return None;
    }
    Some(slot | ((generation as usize & SLOT_MASK) << SLOT_BITS))
}

impl std::fmt::Debug for Reactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (live, capacity) = self.descriptor_table();
        f.debug_struct("Reactor")
            .field("descriptors", &live)
            .field("capacity", &capacity)
            .field("parked", &self.parked.load(Ordering::Relaxed))
            .finish()
    }
}

/// Most of these need a real poller, which Miri cannot create; `poll_desc.rs`'s tests cover the
/// descriptor logic under Miri.
#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::os::unix::net::UnixStream;
    use std::sync::atomic::AtomicUsize;
    use std::sync::mpsc::RecvTimeoutError;
    use std::sync::Barrier;
    use std::task::{Context, Poll, Wake, Waker};
    use std::time::Instant;

    use super::*;
    use crate::poll_desc::Direction;

    /// A waker that counts its wakes.
    struct CountingWaker(AtomicUsize);

    impl Wake for CountingWaker {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// Parks a counting waker for `direction` on `desc` (after clearing its initial readiness)
    /// and returns the counter.
    fn park(reactor: &Reactor, desc: &PollDesc, direction: Direction) -> Arc<CountingWaker> {
        let counter = Arc::new(CountingWaker(AtomicUsize::new(0)));
        let waker = Waker::from(Arc::clone(&counter));
        let mut cx = Context::from_waker(&waker);
        let Poll::Ready(Ok(event)) = desc.poll_ready(direction, &mut cx, &reactor.parked) else {
            panic!("a new descriptor starts ready");
        };
        desc.clear_readiness(event);
        assert!(desc
            .poll_ready(direction, &mut cx, &reactor.parked)
            .is_pending());
        counter
    }

    /// An event for `key`, end of stream unknown.
    fn event(key: usize, readable: bool, writable: bool) -> Event {
        let mut ready = crate::Ready::EMPTY;
        if readable {
            ready |= crate::Ready::READABLE;
        }
        if writable {
            ready |= crate::Ready::WRITABLE;
        }
        Event {
            key,
            ready,
            fin_known: false,
        }
    }

    /// Aborts the test process if `f` neither returns nor panics within 20 s (a lost
    /// notification hangs). A panic drops `done` and fails just the test.
    fn within_20s<R>(what: &'static str, f: impl FnOnce() -> R) -> R {
        let (done, finished) = std::sync::mpsc::channel::<()>();
        std::thread::spawn(move || {
            let timeout = Duration::from_secs(20);
            if let Err(RecvTimeoutError::Timeout) = finished.recv_timeout(timeout) {
                eprintln!("{what}: hung");
                std::process::abort();
            }
        });
        let result = f();
        let _ = done.send(());
        result
    }

    /// A wait that a notification must end: timed waits get an hour, so that a lost
    /// notification shows as a hang (caught by `within_20s`) rather than a slow pass.
    const WAITS: [Option<Duration>; 2] = [None, Some(Duration::from_secs(3600))];

    /// How long a wait that nothing ends must last at least.
    const BLOCKS: Duration = Duration::from_millis(30);

    #[test]
    fn keys_never_use_the_reserved_slot() {
        assert_eq!(key_for(0, 0), Some(0));
        assert_eq!(key_for(5, 3), Some(5 | 3 << SLOT_BITS));
        let last = key_for(RESERVED_SLOT - 1, u32::MAX).expect("the slot below is usable");
        assert_ne!(last, sys::RESERVED_KEY);
        assert_eq!(
            last & SLOT_MASK,
            RESERVED_SLOT - 1,
            "the generation stays in its half"
        );
        assert_eq!(key_for(RESERVED_SLOT, 0), None);
        assert_eq!(
            key_for(RESERVED_SLOT, u32::MAX),
            None,
            "would be the backend's key"
        );
        assert_eq!(
            key_for(RESERVED_SLOT + 1, 0),
            None,
            "would spill into the generation"
        );
    }

    #[test]
    #[cfg_attr(miri, ignore = "Miri cannot create an epoll poller")]
    fn a_non_blocking_poll_wakes_readers_of_a_ready_fd() {
        let reactor = Reactor::new();
        let (mut writer, reader) = UnixStream::pair().unwrap();
        reader.set_nonblocking(true).unwrap();
        let desc = reactor.register(&reader).unwrap();
        let counter = park(&reactor, &desc, Direction::Read);
        assert!(reactor.has_waiters());
        writer.write_all(b"x").unwrap();
        let woken = reactor
            .try_driver()
            .unwrap()
            .poll(Some(Duration::ZERO))
            .unwrap();
        assert_eq!(woken, 1);
        assert_eq!(counter.0.load(Ordering::SeqCst), 1);
        assert!(!reactor.has_waiters());
        reactor.deregister(&reader, &desc);
    }

    /// The timed wait the idle M uses to sleep until the earliest timer: it lasts at least its
    /// timeout, and a notification (a new earlier timer) ends it early, also when it was sent
    /// before the wait began.
    #[test]
    #[cfg_attr(miri, ignore = "Miri cannot create an epoll poller")]
    fn a_timed_wait_lasts_its_timeout_unless_notified() {
        let reactor = Reactor::new();
        let mut driver = reactor
            .try_driver_with_poller()
            .expect("a poller without any fd");
        within_20s("timed waits", || {
            let start = Instant::now();
            assert_eq!(driver.poll(Some(BLOCKS)).unwrap(), 0);
            assert!(start.elapsed() >= BLOCKS);

            reactor.notify();
            let start = Instant::now();
            driver.poll(Some(Duration::from_secs(3600))).unwrap();
            assert!(start.elapsed() < Duration::from_secs(10), "notify was lost");

            let notifier = {
                let reactor = Arc::clone(&reactor);
                std::thread::spawn(move || {
                    std::thread::sleep(Duration::from_millis(20));
                    reactor.notify();
                })
            };
            driver.poll(Some(Duration::from_secs(3600))).unwrap();
            notifier.join().unwrap();
        });
    }

    /// Timers depend on it: however short the timeout, even below the kernel's millisecond, the
    /// wait does not return before it.
    #[test]
    #[cfg_attr(miri, ignore = "Miri cannot create an epoll poller")]
    fn a_timed_wait_never_returns_before_its_timeout() {
        let reactor = Reactor::new();
        let mut driver = reactor.try_driver_with_poller().unwrap();
        for nanos in [
            1, 50_000, 100_000, 999_999, 1_000_000, 1_500_000, 10_000_000,
        ] {
            let timeout = Duration::from_nanos(nanos);
            let start = Instant::now();
            assert_eq!(driver.poll(Some(timeout)).unwrap(), 0);
            let waited = start.elapsed();
            assert!(waited >= timeout, "{timeout:?} took {waited:?}");
            assert!(
                waited < Duration::from_secs(5),
                "{timeout:?} took {waited:?}"
            );
        }
    }

    /// A notification sent while nobody waits ends the next blocking wait, timed or not.
    #[test]
    #[cfg_attr(miri, ignore = "Miri cannot create an epoll poller")]
    fn a_notify_before_a_blocking_wait_breaks_it() {
        let reactor = Reactor::new();
        let mut driver = reactor.try_driver_with_poller().unwrap();
        within_20s("notify before the wait", || {
            for _ in 0..3 {
                for wait in WAITS {
                    reactor.notify();
                    assert_eq!(driver.poll(wait).unwrap(), 0, "{wait:?}");
                }
            }
        });
    }

    /// A notification from another thread ends a wait already blocked in the kernel.
    #[test]
    #[cfg_attr(miri, ignore = "Miri cannot create an epoll poller")]
    fn a_notify_during_a_blocking_wait_on_another_thread_breaks_it() {
        let reactor = Reactor::new();
        let mut driver = reactor.try_driver_with_poller().unwrap();
        let rounds = 2 * WAITS.len();
        let about_to_wait = Arc::new(Barrier::new(2));
        let notifier = {
            let (reactor, about_to_wait) = (Arc::clone(&reactor), Arc::clone(&about_to_wait));
            std::thread::spawn(move || {
                for _ in 0..rounds {
                    about_to_wait.wait();
                    // Long enough for the wait to be in the kernel, almost always.
                    std::thread::sleep(Duration::from_millis(10));
                    reactor.notify();
                }
            })
        };
        within_20s("notify during the wait", || {
            for wait in WAITS.iter().chain(&WAITS) {
                about_to_wait.wait();
                assert_eq!(driver.poll(*wait).unwrap(), 0, "{wait:?}");
            }
        });
        notifier.join().unwrap();
    }

    /// Many notifications before a wait end that one wait; the notifier is drained then, so the
    /// next wait blocks for its whole timeout, and a later notification still ends a wait.
    #[test]
    #[cfg_attr(miri, ignore = "Miri cannot create an epoll poller")]
    fn notifies_coalesce_and_the_wait_after_the_drained_one_blocks_again() {
        let reactor = Reactor::new();
        let mut driver = reactor.try_driver_with_poller().unwrap();
        within_20s("coalesced notifies", || {
            // Through a blocking wait and through a non-blocking one (a busy M's poll).
            for drained_by in [Some(Duration::from_secs(3600)), Some(Duration::ZERO)] {
                for _ in 0..100 {
                    reactor.notify();
                }
                assert_eq!(driver.poll(drained_by).unwrap(), 0);
                let start = Instant::now();
                assert_eq!(driver.poll(Some(BLOCKS)).unwrap(), 0);
                let waited = start.elapsed();
                assert!(waited >= BLOCKS, "not drained: returned after {waited:?}");
                reactor.notify();
                driver.poll(None).unwrap();
            }
        });
    }

    /// The notifier's event is the backend's: it is taken out before dispatch (whose
    /// `debug_assert` would fail), and the fd that was ready in the same wait is woken.
    #[test]
    #[cfg_attr(miri, ignore = "Miri cannot create an epoll poller")]
    fn the_notifiers_key_never_reaches_dispatch() {
        let reactor = Reactor::new();
        let (mut writer, reader) = UnixStream::pair().unwrap();
        reader.set_nonblocking(true).unwrap();
        let desc = reactor.register(&reader).unwrap();
        let counter = park(&reactor, &desc, Direction::Read);
        let mut driver = reactor.try_driver().unwrap();
        reactor.notify();
        writer.write_all(b"x").unwrap();
        assert_eq!(driver.poll(Some(Duration::ZERO)).unwrap(), 1);
        assert_eq!(counter.0.load(Ordering::SeqCst), 1);
        reactor.notify();
        assert_eq!(driver.poll(Some(Duration::ZERO)).unwrap(), 0);
        drop(driver);
        reactor.deregister(&reader, &desc);
    }

    #[test]
    #[cfg_attr(miri, ignore = "Miri cannot create an epoll poller")]
    fn notifications_survive_a_non_blocking_poll_that_took_one() {
        let reactor = Reactor::new();
        assert!(
            reactor.try_driver().is_none(),
            "no poller before the first fd"
        );
        let (_peer, socket) = UnixStream::pair().unwrap();
        let desc = reactor.register(&socket).unwrap();
        let mut driver = reactor.try_driver().unwrap();
        within_20s("notify after a non-blocking poll", || {
            for _ in 0..3 {
                // The non-blocking poll takes the notification...
                reactor.notify();
                driver.poll(Some(Duration::ZERO)).unwrap();
                // ...and a later notify still breaks a blocking wait.
                let notifier = {
                    let reactor = Arc::clone(&reactor);
                    std::thread::spawn(move || {
                        std::thread::sleep(Duration::from_millis(20));
                        reactor.notify();
                    })
                };
                driver.poll(None).unwrap();
                notifier.join().unwrap();
            }
        });
        drop(driver);
        reactor.deregister(&socket, &desc);
    }

    #[test]
    #[cfg_attr(miri, ignore = "Miri cannot create an epoll poller")]
    fn events_for_a_reused_slot_reach_only_the_new_descriptor() {
        let reactor = Reactor::new();
        let (_a_peer, a) = UnixStream::pair().unwrap();
        let old = reactor.register(&a).unwrap();
        let old_key = old.key;
        reactor.deregister(&a, &old);
        let (_b_peer, b) = UnixStream::pair().unwrap();
        let new = reactor.register(&b).unwrap();
        assert_eq!(
            new.key & SLOT_MASK,
            old_key & SLOT_MASK,
            "the slot is reused"
        );
        assert_ne!(new.key, old_key, "with a new generation");
        let counter = park(&reactor, &new, Direction::Read);
        // A late event for the closed fd.
        assert_eq!(
            reactor.dispatch([event(old_key, true, true)].into_iter()),
            0
        );
        assert_eq!(counter.0.load(Ordering::SeqCst), 0);
        assert_eq!(
            reactor.dispatch([event(new.key, true, false)].into_iter()),
            1
        );
        assert_eq!(counter.0.load(Ordering::SeqCst), 1);
        reactor.deregister(&b, &new);
        assert_eq!(reactor.descriptor_table().0, 0);
    }

    #[test]
    #[cfg_attr(miri, ignore = "Miri cannot create an epoll poller")]
    fn deregistering_wakes_parked_waiters() {
        let reactor = Reactor::new();
        let (_peer, socket) = UnixStream::pair().unwrap();
        let desc = reactor.register(&socket).unwrap();
        let reader = park(&reactor, &desc, Direction::Read);
        let writer = park(&reactor, &desc, Direction::Write);
        reactor.deregister(&socket, &desc);
        assert_eq!(reader.0.load(Ordering::SeqCst), 1);
        assert_eq!(writer.0.load(Ordering::SeqCst), 1);
        assert!(!reactor.has_waiters());
    }
}
