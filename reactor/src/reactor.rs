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
use std::os::fd::{AsFd, AsRawFd};
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};
use std::task::Waker;
use std::time::Duration;

use polling::{Event, Events, PollMode, Poller};
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
    poller: Poller,
    /// Live descriptors by slot.
    descriptors: Mutex<Slab<Arc<PollDesc>>>,
    /// The driver role: whoever holds this lock may wait on `poller` (see the module doc).
    events: Mutex<Events>,
    /// Wakers parked on descriptors, roughly (a waker whose future was dropped is counted until
    /// the next edge or close). Zero means nobody waits on IO, so non-blocking polls can be
    /// skipped (Go's `netpollWaiters`).
    parked: AtomicUsize,
    /// Generation for the next registration.
    next_generation: AtomicU32,
}

/// The right to poll a [`Reactor`], held by one thread at a time.
pub struct Driver<'a> {
    reactor: &'a Reactor,
    events: MutexGuard<'a, Events>,
}

impl Reactor {
    /// A reactor with a new poller (an epoll instance and an eventfd on Linux).
    pub fn new() -> io::Result<Arc<Reactor>> {
        Ok(Arc::new(Reactor {
            poller: Poller::new()?,
            descriptors: Mutex::new(Slab::new()),
            events: Mutex::new(Events::with_capacity(
                std::num::NonZeroUsize::new(EVENTS_PER_POLL).expect("nonzero"),
            )),
            parked: AtomicUsize::new(0),
            next_generation: AtomicU32::new(0),
        }))
    }

    /// Takes the driver role if nobody holds it.
    pub fn try_driver(&self) -> Option<Driver<'_>> {
        match self.events.try_lock() {
            Ok(events) => Some(Driver {
                reactor: self,
                events,
            }),
            Err(TryLockError::Poisoned(poisoned)) => Some(Driver {
                reactor: self,
                events: poisoned.into_inner(),
            }),
            Err(TryLockError::WouldBlock) => None,
        }
    }

    /// Breaks the current (or the next) blocking [`Driver::poll`].
    pub fn notify(&self) {
        // An error here means the eventfd is gone, which only happens if the poller itself was
        // closed; nothing is waiting on it then.
        let _ = self.poller.notify();
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
        // SAFETY: `deregister` deletes the fd from the poller before the IO object that owns it
        // is dropped (`Registered::drop`), as `add_with_mode` requires.
        unsafe {
            self.poller.add_with_mode(
                source.as_fd().as_raw_fd(),
                Event::all(key),
                PollMode::Edge,
            )?;
        }
        entry.insert(Arc::clone(&desc));
        Ok(desc)
    }

    /// Removes `source` from the poller and frees its slot; its waiters wake and fail.
    pub(crate) fn deregister(&self, source: impl AsFd, desc: &PollDesc) {
        // Failure means the fd was already gone from the epoll set (closed behind our back via
        // `into_raw_fd` misuse); the slot is freed either way.
        let _ = self.poller.delete(source.as_fd());
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
    pub fn poll(&mut self, timeout: Option<Duration>) -> io::Result<usize> {
        let reactor = self.reactor;
        self.events.clear();
        reactor.poller.wait(&mut self.events, timeout)?;
        if self.events.is_empty() {
            return Ok(0);
        }
        let mut wake = Vec::new();
        {
            let table = reactor.lock_descriptors();
            for event in self.events.iter() {
                let slot = event.key & SLOT_MASK;
                // A stale key (slot freed, or reused by another fd) is dropped here.
                if let Some(desc) = table.get(slot).filter(|d| d.key == event.key) {
                    desc.set_ready(event.readable, event.writable, &mut wake);
                }
            }
        }
        reactor.parked.fetch_sub(wake.len(), Ordering::Relaxed);
        let woken = wake.len();
        // Outside every lock: wakers run the executor's schedule function.
        wake.into_iter().for_each(Waker::wake);
        Ok(woken)
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
