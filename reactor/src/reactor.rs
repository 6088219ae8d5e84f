//! `Reactor`: one runtime's `polling::Poller`, its table of poll descriptors, and the driver.
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
//! [`Reactor::try_driver`] hands out the right to poll to one thread at a time (`polling` allows
//! only one waiter; a second concurrent `wait` returns at once with nothing). Any M may take it,
//! so a worker stuck in a long task never holds IO hostage for the others (tokio #4730, where
//! the driver stays with whichever worker parked on it last).
//!
//! Events are dispatched on the polling thread by calling the parked tasks' wakers; the executor
//! decides where woken tasks go (it collects them in a batch while it polls, Go's
//! `injectglist`).
//!
//! # The descriptor table
//!
//! Each registered fd owns a slot in a slab; its key is the slot plus a generation (half a `usize` each), so an
//! event still in flight for a closed fd cannot wake whatever fd took the slot next. Slots are
//! reused, so opening and closing connections in a loop does not grow the table.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, TryLockError};
use std::task::Waker;
use std::time::Duration;

#[cfg(not(any(target_os = "linux", target_os = "android")))]
use polling::{Event, PollMode};
use polling::{Events, Poller};
use slab::Slab;

use crate::poll_desc::PollDesc;

/// Events taken from the kernel per `epoll_wait` (tokio: 1024, Go: 128).
const EVENTS_PER_POLL: usize = 1024;

/// A key is a slab slot in the low half of a `usize` and a generation in the high half.
const SLOT_BITS: u32 = usize::BITS / 2;
/// Mask of the slot half of a key.
const SLOT_MASK: usize = (1 << SLOT_BITS) - 1;

/// One runtime's netpoller.
pub struct Reactor {
    /// Created on the first registration (Go's `netpollGenericInit`): a runtime that never does
    /// IO never opens the three fds a poller costs, and a failure to create it (`EMFILE`) is
    /// returned to the socket being created instead of failing the runtime.
    poller: OnceLock<Poller>,
    /// Serialises creating `poller`.
    poller_init: Mutex<()>,
    /// Live descriptors by slot.
    descriptors: Mutex<Slab<Arc<PollDesc>>>,
    /// The driver role: whoever holds this lock may wait on `poller` (see the module doc).
    events: Mutex<Buffers>,
    /// Wakers parked on descriptors, roughly (a waker whose future was dropped is counted until
    /// the next edge or close). Zero means nobody waits on IO, so non-blocking polls can be
    /// skipped (Go's `netpollWaiters`).
    parked: AtomicUsize,
    /// Generation for the next registration.
    next_generation: AtomicU32,
}

/// What the driver fills: `polling`'s event list, and on Linux the buffer of the direct
/// non-blocking `epoll_wait` (see [`Driver::poll`]).
struct Buffers {
    events: Events,
    #[cfg(any(target_os = "linux", target_os = "android"))]
    raw: Vec<libc::epoll_event>,
}

/// The right to poll a [`Reactor`], held by one thread at a time.
pub struct Driver<'a> {
    reactor: &'a Reactor,
    poller: &'a Poller,
    buffers: MutexGuard<'a, Buffers>,
}

impl Reactor {
    /// A reactor; its poller (an epoll instance, an eventfd and a timerfd on Linux) is created
    /// when the first fd registers.
    pub fn new() -> Arc<Reactor> {
        Arc::new(Reactor {
            poller: OnceLock::new(),
            poller_init: Mutex::new(()),
            descriptors: Mutex::new(Slab::new()),
            events: Mutex::new(Buffers {
                events: Events::with_capacity(
                    std::num::NonZeroUsize::new(EVENTS_PER_POLL).expect("nonzero"),
                ),
                #[cfg(any(target_os = "linux", target_os = "android"))]
                raw: vec![libc::epoll_event { events: 0, u64: 0 }; EVENTS_PER_POLL],
            }),
            parked: AtomicUsize::new(0),
            next_generation: AtomicU32::new(0),
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
        let buffers = match self.events.try_lock() {
            Ok(buffers) => buffers,
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(TryLockError::WouldBlock) => return None,
        };
        Some(Driver {
            reactor: self,
            poller,
            buffers,
        })
    }

    /// [`Reactor::try_driver`], creating the poller first if no fd ever needed it: for a thread
    /// that has to wait for a deadline (a timed poll is the runtime's only timed wait). `None`
    /// also if the poller cannot be created (out of fds).
    pub fn try_driver_with_poller(&self) -> Option<Driver<'_>> {
        self.poller().ok()?;
        self.try_driver()
    }

    /// Breaks the current (or the next) blocking [`Driver::poll`].
    pub fn notify(&self) {
        // An error here means the eventfd is gone, which only happens if the poller itself was
        // closed; nothing is waiting on it then.
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

    /// Registers `source` (edge-triggered, both directions) and returns its descriptor.
    pub(crate) fn register(&self, source: impl AsFd) -> io::Result<Arc<PollDesc>> {
        let mut table = self.lock_descriptors();
        let entry = table.vacant_entry();
        let generation = self.next_generation.fetch_add(1, Ordering::Relaxed) as usize & SLOT_MASK;
        // Never `usize::MAX`, which `polling` reserves: that would need a slot of `SLOT_MASK`.
        let key = entry.key() | generation << SLOT_BITS;
        let desc = Arc::new(PollDesc::new(key));
        Self::add_edge_triggered(self.poller()?, source.as_fd(), key)?;
        entry.insert(Arc::clone(&desc));
        Ok(desc)
    }

    /// Adds `fd` for both directions, edge-triggered, under `key`. On Linux also for
    /// `EPOLLRDHUP` (the peer's FIN), which `polling` cannot ask for and a short read needs
    /// (`poll_desc.rs`); the data word holds the key, as `polling` stores it.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    fn add_edge_triggered(poller: &Poller, fd: BorrowedFd<'_>, key: usize) -> io::Result<()> {
        let mut event = libc::epoll_event {
            events: (libc::EPOLLIN | libc::EPOLLOUT | libc::EPOLLRDHUP | libc::EPOLLET) as u32,
            u64: key as u64,
        };
        // SAFETY: both fds are open (the poller's for as long as `self`, `fd` by its borrow) and
        // `event` is a valid event; `deregister` deletes `fd` before its owner closes it.
        let result = unsafe {
            libc::epoll_ctl(
                poller.as_raw_fd(),
                libc::EPOLL_CTL_ADD,
                fd.as_raw_fd(),
                &mut event,
            )
        };
        if result == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    }

    /// Adds `fd` for both directions, edge-triggered, under `key`.
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    fn add_edge_triggered(poller: &Poller, fd: BorrowedFd<'_>, key: usize) -> io::Result<()> {
        // SAFETY: `deregister` deletes the fd from the poller before the IO object that owns it
        // is dropped (`Registered::drop`), as `add_with_mode` requires.
        unsafe { poller.add_with_mode(fd.as_raw_fd(), Event::all(key), PollMode::Edge) }
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
        wake.into_iter().for_each(Waker::wake);
    }
}

impl Driver<'_> {
    /// Waits up to `timeout` (`None`: until an event or [`Reactor::notify`]; zero: just look)
    /// and wakes the tasks parked on descriptors that became ready. Returns how many wakers were
    /// called.
    ///
    /// # Waiting on Linux
    ///
    /// Waits call the kernel directly on the poller's epoll fd: `epoll_wait` for zero and
    /// unbounded waits, `epoll_pwait2` (nanosecond timeout, Linux 5.11+) for timed ones. Timed
    /// waits go through `polling` (its timerfd) only where `epoll_pwait2` is missing. Reasons:
    ///
    /// - `polling`'s `wait` costs five system calls whatever the timeout: it re-arms its timerfd
    ///   (`timerfd_settime`, `epoll_ctl`), waits, then drains and re-arms its notify eventfd
    ///   (`read`, `epoll_ctl`). The Ms poll without blocking every time their queues run dry,
    ///   which under `benches/http.py` was ~100k extra system calls in 3 s next to ~500k for the
    ///   requests themselves. A direct zero wait is one system call, like Go's `netpoll(0)`.
    /// - `polling` does not pass `EPOLLRDHUP` on, and a short read needs it (`poll_desc.rs`).
    ///   Events from `polling`'s wait are dispatched as "kind unknown", which is correct but costs
    ///   the next read a `WouldBlock` system call.
    ///
    /// The direct wait must not break `polling`'s bookkeeping of its two internal fds (notify
    /// eventfd and timerfd), both registered one-shot under the reserved key `usize::MAX`. If a
    /// direct wait takes an event with that key, it runs one `polling` wait with a zero timeout,
    /// which drains and re-arms them exactly as after a wait of its own. The notification it
    /// consumes was meant for "the current or next wait", and this is that wait. This relies on
    /// `polling` keeping the key in the epoll data word, as its `epoll.rs` does.
    ///
    /// # Timed waits
    ///
    /// They bound the idle M's sleep by the earliest timer, so their precision is the timers'.
    /// `polling`'s timerfd costs two extra system calls per wait; `epoll_pwait2` takes the
    /// timeout itself. Its sleep, like every sleep of a normal thread, may be extended by the
    /// thread's timer slack (50 µs by default), which alone would make `sleep(100µs)` take
    /// ~160 µs; the first timed wait on a thread lowers that thread's slack to 1 ns
    /// (`PR_SET_TIMERSLACK`). Go's timers are as precise as they can be for the same reason.
    pub fn poll(&mut self, timeout: Option<Duration>) -> io::Result<usize> {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        match timeout {
            Some(Duration::ZERO) => return self.poll_direct(Wait::Ready),
            None => return self.poll_direct(Wait::Forever),
            #[cfg(target_os = "linux")]
            Some(timeout) if pwait2::available() => {
                pwait2::precise_timer_slack();
                return self.poll_direct(Wait::For(timeout));
            }
            Some(_) => {}
        }
        self.poll_with_polling(timeout)
    }

    /// A wait through `polling`.
    fn poll_with_polling(&mut self, timeout: Option<Duration>) -> io::Result<usize> {
        let reactor = self.reactor;
        let events = &mut self.buffers.events;
        events.clear();
        self.poller.wait(events, timeout)?;
        if events.is_empty() {
            return Ok(0);
        }
        Ok(reactor.dispatch(events.iter().map(|event| {
            // `is_interrupt` is `EPOLLHUP` here: both directions are gone. A plain readable edge
            // may or may not carry a FIN.
            let read_closed = event.is_interrupt().then_some(true);
            (event.key, event.readable, event.writable, read_closed)
        })))
    }

    /// A direct `epoll_wait` or `epoll_pwait2` (see [`Driver::poll`]).
    #[cfg(any(target_os = "linux", target_os = "android"))]
    fn poll_direct(&mut self, wait: Wait) -> io::Result<usize> {
        /// `polling`'s reserved key for its notifier and timer fds.
        const POLLING_INTERNAL_KEY: u64 = usize::MAX as u64;
        /// `polling`'s mapping of epoll flags to directions (`epoll.rs`).
        const READ_FLAGS: u32 =
            (libc::EPOLLIN | libc::EPOLLHUP | libc::EPOLLERR | libc::EPOLLPRI) as u32;
        const WRITE_FLAGS: u32 = (libc::EPOLLOUT | libc::EPOLLHUP | libc::EPOLLERR) as u32;
        /// The peer's stream has ended (FIN), or the connection is gone.
        const READ_CLOSED_FLAGS: u32 = (libc::EPOLLRDHUP | libc::EPOLLHUP | libc::EPOLLERR) as u32;

        let reactor = self.reactor;
        let poller = self.poller;
        let raw = &mut self.buffers.raw;
        let ready = loop {
            let ready = match wait {
                // SAFETY: `raw` is a live buffer of `raw.len()` events, and the epoll fd is owned
                // by the poller, alive as long as `reactor`.
                Wait::Ready | Wait::Forever => unsafe {
                    libc::epoll_wait(
                        poller.as_raw_fd(),
                        raw.as_mut_ptr(),
                        raw.len() as libc::c_int,
                        if matches!(wait, Wait::Ready) { 0 } else { -1 },
                    )
                },
                #[cfg(target_os = "linux")]
                // SAFETY: as above.
                Wait::For(timeout) => unsafe { pwait2::wait(poller.as_raw_fd(), raw, timeout) },
            };
            match usize::try_from(ready) {
                Ok(ready) => break ready,
                Err(_) => {
                    let err = io::Error::last_os_error();
                    if err.kind() != io::ErrorKind::Interrupted {
                        return Err(err);
                    }
                    // A signal: report nothing, as `polling` would after its own retry. A
                    // timed wait returns early (its bound is re-computed by the caller).
                    if !matches!(wait, Wait::Forever) {
                        return Ok(0);
                    }
                }
            }
        };
        let mut internal = false;
        let events = raw[..ready].iter().filter_map(|event| {
            // Copies out of the (packed, on x86-64) struct before use.
            let (flags, key) = (event.events, event.u64);
            if key == POLLING_INTERNAL_KEY {
                internal = true;
                return None;
            }
            Some((
                key as usize,
                flags & READ_FLAGS != 0,
                flags & WRITE_FLAGS != 0,
                Some(flags & READ_CLOSED_FLAGS != 0),
            ))
        });
        let mut woken = reactor.dispatch(events);
        if internal {
            woken += self.poll_with_polling(Some(Duration::ZERO))?;
        }
        Ok(woken)
    }
}

/// How long a direct wait may block.
#[cfg(any(target_os = "linux", target_os = "android"))]
#[derive(Clone, Copy)]
enum Wait {
    /// Not at all.
    Ready,
    /// Until an event.
    Forever,
    /// At most this long (`epoll_pwait2`).
    #[cfg(target_os = "linux")]
    For(Duration),
}

/// `epoll_pwait2`, called through `syscall` (the libc crate binds the number, not every libc
/// the wrapper), and the thread's timer slack.
#[cfg(target_os = "linux")]
mod pwait2 {
    use std::cell::Cell;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;

    /// Cleared once a call fails with `ENOSYS` (a kernel older than 5.11).
    static AVAILABLE: AtomicBool = AtomicBool::new(true);

    thread_local! {
        /// Whether this thread's timer slack was lowered already.
        static SLACK_LOWERED: Cell<bool> = const { Cell::new(false) };
    }

    /// Whether timed waits can use `epoll_pwait2`.
    pub(super) fn available() -> bool {
        AVAILABLE.load(Ordering::Relaxed)
    }

    /// Lowers this thread's timer slack to 1 ns, once (see `Driver::poll`). A failure leaves the
    /// default slack: waits are then up to 50 µs late, nothing worse.
    pub(super) fn precise_timer_slack() {
        if !SLACK_LOWERED.replace(true) {
            // SAFETY: `PR_SET_TIMERSLACK` takes one integer argument and touches no memory.
            unsafe { libc::prctl(libc::PR_SET_TIMERSLACK, 1 as libc::c_ulong) };
        }
    }

    /// `epoll_pwait2(epfd, events, len, timeout, NULL)`. Returns what the system call returns;
    /// on `ENOSYS` it marks the call unavailable and returns 0 events (the caller's bound is
    /// then re-computed and the next timed wait goes through `polling`).
    ///
    /// # Safety
    ///
    /// `epfd` is an open epoll fd and `events` a live buffer.
    pub(super) unsafe fn wait(
        epfd: libc::c_int,
        events: &mut [libc::epoll_event],
        timeout: Duration,
    ) -> libc::c_int {
        let timeout = libc::timespec {
            tv_sec: libc::time_t::try_from(timeout.as_secs()).unwrap_or(libc::time_t::MAX),
            tv_nsec: libc::c_long::from(timeout.subsec_nanos() as i32),
        };
        // SAFETY: the caller's guarantees, and `timeout` outlives the call; a null signal mask
        // means "keep the thread's".
        let ready = unsafe {
            libc::syscall(
                libc::SYS_epoll_pwait2,
                epfd,
                events.as_mut_ptr(),
                events.len() as libc::c_int,
                &timeout as *const libc::timespec,
                std::ptr::null::<libc::sigset_t>(),
                0 as libc::size_t,
            )
        };
        if ready < 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::ENOSYS) {
            AVAILABLE.store(false, Ordering::Relaxed);
            return 0;
        }
        ready as libc::c_int
    }
}

impl Reactor {
    /// Records `(key, readable, writable, read_closed)` events and wakes the tasks parked on
    /// them (`read_closed`: whether the peer's stream ended, if known). Returns how many wakers
    /// were called.
    fn dispatch(&self, events: impl Iterator<Item = (usize, bool, bool, Option<bool>)>) -> usize {
        let mut wake = Vec::new();
        {
            let table = self.lock_descriptors();
            for (key, readable, writable, read_closed) in events {
                // A stale key (slot freed, or reused by another fd) is dropped here.
                if let Some(desc) = table.get(key & SLOT_MASK).filter(|d| d.key == key) {
                    desc.set_ready(readable, writable, read_closed, &mut wake);
                }
            }
        }
        self.parked.fetch_sub(wake.len(), Ordering::Relaxed);
        let woken = wake.len();
        // Outside every lock: wakers run the executor's schedule function.
        wake.into_iter().for_each(Waker::wake);
        woken
    }
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

/// These need a real poller, which Miri cannot create; `poll_desc.rs`'s tests cover the
/// descriptor logic under Miri.
#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::os::unix::net::UnixStream;
    use std::sync::atomic::AtomicUsize;
    use std::task::{Context, Poll, Wake};

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

    /// Aborts the test process if `f` does not return within 20 s (a lost notification hangs).
    fn within_20s<R>(what: &'static str, f: impl FnOnce() -> R) -> R {
        let (done, finished) = std::sync::mpsc::channel::<()>();
        std::thread::spawn(move || {
            if finished.recv_timeout(Duration::from_secs(20)).is_err() {
                eprintln!("{what}: hung");
                std::process::abort();
            }
        });
        let result = f();
        let _ = done.send(());
        result
    }

    #[test]
    #[cfg_attr(miri, ignore = "Miri cannot create an epoll poller (timerfd)")]
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
    #[cfg_attr(miri, ignore = "Miri cannot create an epoll poller (timerfd)")]
    fn a_timed_wait_lasts_its_timeout_unless_notified() {
        let reactor = Reactor::new();
        let mut driver = reactor
            .try_driver_with_poller()
            .expect("a poller without any fd");
        within_20s("timed waits", || {
            let start = std::time::Instant::now();
            assert_eq!(driver.poll(Some(Duration::from_millis(30))).unwrap(), 0);
            assert!(start.elapsed() >= Duration::from_millis(30));

            reactor.notify();
            let start = std::time::Instant::now();
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

    #[test]
    #[cfg_attr(miri, ignore = "Miri cannot create an epoll poller (timerfd)")]
    fn notifications_survive_a_non_blocking_poll_that_took_one() {
        let reactor = Reactor::new();
        assert!(
            reactor.try_driver().is_none(),
            "no poller before the first fd"
        );
        let (_peer, socket) = UnixStream::pair().unwrap();
        let desc = reactor.register(&socket).unwrap();
        let mut driver = reactor.try_driver().unwrap();
        within_20s("notify after a direct poll", || {
            for _ in 0..3 {
                // The direct poll sees the notifier's event and lets `polling` re-arm it...
                reactor.notify();
                driver.poll(Some(Duration::ZERO)).unwrap();
                // ...so that a later notify still breaks a blocking wait.
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
    #[cfg_attr(miri, ignore = "Miri cannot create an epoll poller (timerfd)")]
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
            reactor.dispatch([(old_key, true, true, None)].into_iter()),
            0
        );
        assert_eq!(counter.0.load(Ordering::SeqCst), 0);
        assert_eq!(
            reactor.dispatch([(new.key, true, false, None)].into_iter()),
            1
        );
        assert_eq!(counter.0.load(Ordering::SeqCst), 1);
        reactor.deregister(&b, &new);
        assert_eq!(reactor.descriptor_table().0, 0);
    }

    #[test]
    #[cfg_attr(miri, ignore = "Miri cannot create an epoll poller (timerfd)")]
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
