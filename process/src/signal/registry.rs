//! The process-wide side of signals: one handler per signal number, a delivery count per
//! signal, and a self-pipe that turns a delivery into netpoller readiness.
//!
//! A signal handler may do almost nothing: no locks, no allocation, no waking of tasks (a
//! waker may take a lock). So the handler that `signal-hook-registry` runs for us does two
//! async-signal-safe things: it bumps the signal's delivery count (an atomic add) and writes
//! one byte to a non-blocking pipe (`write(2)`; a full pipe is fine, there is data in it
//! already). Everything else happens in tasks: each listener (`Signal`) owns a duplicate of
//! the pipe's read end, registered with its runtime's netpoller, so the byte makes every
//! parked listener's G runnable, whichever runtime it is on. A woken listener compares the
//! count with the one it last saw, and whoever drains the pipe wakes every listener whose
//! signal has new deliveries, so a listener whose own registration missed the edge (the pipe
//! was drained by another) is not left parked.
//!
//! Deliveries coalesce as in tokio and in Unix itself: a listener that sees the count move
//! from 3 to 7 gets one event. Handlers stay installed for the life of the process (tokio
//! does the same): removing one would race with deliveries in flight.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::task::Waker;

/// Signal numbers are below this (Linux's `SIGRTMAX` is 64; the BSDs' are smaller).
const SIGNAL_LIMIT: usize = 65;

/// What the process knows about one signal number.
pub(crate) struct Slot {
    /// Deliveries so far, bumped by the handler.
    deliveries: AtomicU64,
    /// Whether the handler is installed (installation is once per process).
    installed: Mutex<bool>,
    /// Wakers of the listeners parked on this signal, by key.
    listeners: Mutex<Listeners>,
}

/// The parked listeners of one signal.
#[derive(Default)]
struct Listeners {
    wakers: Vec<Option<Waker>>,
    free: Vec<usize>,
    /// The delivery count the last wake-up of these listeners was for.
    woken_for: u64,
}

/// The pipe and the slots.
pub(crate) struct Registry {
    /// Written by the handler; non-blocking.
    sender: OwnedFd,
    /// Read by listeners (each through its own duplicate); non-blocking.
    receiver: OwnedFd,
    slots: Vec<Slot>,
}

static REGISTRY: OnceLock<Registry> = OnceLock::new();
static CREATING: Mutex<()> = Mutex::new(());

/// The process's registry, created on first use.
pub(crate) fn registry() -> io::Result<&'static Registry> {
    if let Some(registry) = REGISTRY.get() {
        return Ok(registry);
    }
    let _creating = CREATING.lock().unwrap_or_else(|poison| poison.into_inner());
    if let Some(registry) = REGISTRY.get() {
        return Ok(registry);
    }
    let (receiver, sender) = nonblocking_pipe()?;
    let slots = (0..SIGNAL_LIMIT)
        .map(|_| Slot {
            deliveries: AtomicU64::new(0),
            installed: Mutex::new(false),
            listeners: Mutex::new(Listeners::default()),
        })
        .collect();
    let _ = REGISTRY.set(Registry {
        sender,
        receiver,
        slots,
    });
    Ok(REGISTRY.get().expect("just set under the creation lock"))
}

impl Registry {
    /// The slot of `signal` with its handler installed, or why it cannot be listened for.
    pub(crate) fn slot(&'static self, signal: libc::c_int) -> io::Result<&'static Slot> {
        if signal_hook_registry::FORBIDDEN.contains(&signal) {
            return Err(io::Error::other(format!(
                "refusing to register a handler for signal {signal}: its default action cannot \
                 be replaced"
            )));
        }
        let slot = usize::try_from(signal)
            .ok()
            .filter(|&index| index > 0)
            .and_then(|index| self.slots.get(index))
            .ok_or_else(|| io::Error::other(format!("{signal} is not a valid signal number")))?;
        let mut installed = slot.installed.lock().unwrap_or_else(|p| p.into_inner());
        if !*installed {
            let sender = self.sender.as_raw_fd();
            let deliveries: &'static AtomicU64 = &slot.deliveries;
            let action = move || {
                deliveries.fetch_add(1, Ordering::SeqCst);
                let byte = 1u8;
                // SAFETY: `write(2)` is async-signal-safe; the buffer is one valid byte and
                // the fd lives as long as the process (the registry is never dropped). A full
                // pipe (EAGAIN) already holds a wake-up, so the result is ignored.
                unsafe { libc::write(sender, (&byte as *const u8).cast(), 1) };
            };
            // SAFETY: the action only does async-signal-safe things: an atomic add and a
            // `write(2)` (see above); it allocates nothing and takes no lock.
            unsafe { signal_hook_registry::register(signal, action) }?;
            *installed = true;
        }
        Ok(slot)
    }

    /// A new duplicate of the pipe's read end, for one listener to register with its runtime's
    /// netpoller (`O_CLOEXEC`, non-blocking like the original).
    pub(crate) fn receiver(&self) -> io::Result<OwnedFd> {
        self.receiver.try_clone()
    }

    /// Called by a listener that drained the pipe: wakes the listeners of every signal with
    /// deliveries they have not been woken for.
    pub(crate) fn wake_delivered(&self) {
        for slot in &self.slots {
            let deliveries = slot.deliveries();
            let mut listeners = slot.listeners.lock().unwrap_or_else(|p| p.into_inner());
            if listeners.woken_for != deliveries {
                listeners.woken_for = deliveries;
                for waker in listeners.wakers.iter().flatten() {
                    waker.wake_by_ref();
                }
            }
        }
    }
}

impl Slot {
    /// Deliveries of this signal so far.
    pub(crate) fn deliveries(&self) -> u64 {
        self.deliveries.load(Ordering::SeqCst)
    }

    /// Parks a listener's waker under `key` (a new key if `None`), returning the key.
    pub(crate) fn park(&self, key: Option<usize>, waker: &Waker) -> usize {
        let mut listeners = self.listeners.lock().unwrap_or_else(|p| p.into_inner());
        match key {
            Some(key) => {
                let slot = &mut listeners.wakers[key];
                match slot {
                    Some(parked) if parked.will_wake(waker) => {}
                    _ => *slot = Some(waker.clone()),
                }
                key
            }
            None => match listeners.free.pop() {
                Some(key) => {
                    listeners.wakers[key] = Some(waker.clone());
                    key
                }
                None => {
                    listeners.wakers.push(Some(waker.clone()));
                    listeners.wakers.len() - 1
                }
            },
        }
    }

    /// Forgets the waker parked under `key` (the listener is gone).
    pub(crate) fn unpark(&self, key: usize) {
        let mut listeners = self.listeners.lock().unwrap_or_else(|p| p.into_inner());
        listeners.wakers[key] = None;
        listeners.free.push(key);
    }
}

/// A pipe whose both ends are non-blocking and close-on-exec: `(read end, write end)`.
fn nonblocking_pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: `fds` has room for the two descriptors `pipe(2)` writes.
    if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `pipe` succeeded, so both are open descriptors that nothing else owns.
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    for fd in [&read, &write] {
        crate::fd::set_nonblocking(fd.as_raw_fd(), true)?;
        crate::fd::set_cloexec(fd.as_raw_fd())?;
    }
    Ok((read, write))
}
