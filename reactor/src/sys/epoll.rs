//! The Linux and Android backend: gort's own epoll instance, its own eventfd notifier, the
//! registrations, the waits, and the waiting thread's timer slack.
//!
//! # Why gort drives epoll itself
//!
//! On other platforms the reactor uses the `polling` crate (`portable.rs`). On Linux it does
//! not, for three reasons:
//!
//! 1. **Cost.** `polling`'s `wait` costs five system calls whatever the timeout: it re-arms its
//!    timerfd (`timerfd_settime`, `epoll_ctl`), waits, then drains and re-arms its one-shot
//!    notifier (`read`, `epoll_ctl`). The Ms poll without blocking every time their queues run
//!    dry, which under `benches/http.py` was ~100k extra system calls in 3 s next to ~500k for
//!    the requests themselves. A zero wait here is one `epoll_wait`, like Go's `netpoll(0)`, and
//!    a timed wait one `epoll_pwait2`, with no timerfd.
//! 2. **`EPOLLRDHUP`.** `polling` can neither register nor report it, and a short read needs
//!    it to know that no FIN is pending (`poll_desc.rs`, "Short reads and the end of the
//!    stream"); without it every short read costs one more `WouldBlock` read.
//! 3. **No private internals.** An earlier arrangement let `polling` own the epoll fd and its
//!    notifier while the reactor waited on that fd directly, recognising `polling`'s notifier by
//!    the key `polling` happens to store in the epoll data word and running a `polling` wait to
//!    re-arm it. A compatible `polling` release could change that and lose notifications
//!    without a sound. Here every fd in the epoll set is gort's, and everything this file relies
//!    on is in the man pages (`epoll(7)`, `epoll_ctl(2)`, `epoll_wait(2)`, `eventfd(2)`,
//!    `prctl(2)`).
//!
//! # The notifier
//!
//! An eventfd, registered **level-triggered** for `EPOLLIN` under [`RESERVED_KEY`], which
//! `Reactor::register` never hands out. `eventfd(2)` says the fd is readable while its counter
//! is non-zero and that a read returns the counter and resets it to zero; level-triggered epoll
//! reports the fd on every wait while it is readable. So a notification cannot be lost whatever
//! happens between the write and the wait, and one that did not fit in a full event buffer is
//! reported by the next wait. The rejected alternatives: edge-triggered would need every write
//! to produce a new edge even while the fd is already readable, which the man pages do not
//! promise, and it would still have to drain the counter before it saturates; one-shot (what
//! `polling` does) costs an `epoll_ctl` to re-arm after every notification.
//!
//! `notify` may be called from any thread, many times per wait (a new earliest timer, `startm`,
//! main's waker); `notified` keeps it to one `write` per wait, as Go's `netpollWakeSig` does:
//!
//! 1. `notify` swaps `notified` to true; only if it was false does it write 1 to the eventfd.
//! 2. A wait that finds the notifier's event removes it from the events (the reactor never sees
//!    it), reads the eventfd (the counter drops to zero), and only then swaps `notified` back
//!    to false, before the wait returns.
//!
//! Invariant: while `notified` is true, the counter is non-zero or a wait is between the read
//! and the swap of step 2 (and so has not returned yet). It holds because `notified` becomes
//! true only in step 1, whose writer then writes, and the counter drops to zero only in step 2,
//! before the swap. So a `notify` that skips its write either leaves a non-zero counter, which
//! ends the next wait at once, or is followed by step 2's swap, which acquires what the
//! notifier wrote before notifying, in a wait that is about to return to a caller that then
//! re-checks its state. Swapping before the read would break the invariant: a `notify` between
//! the swap and the read would write, have its count read away, and leave `notified` true with
//! a zero counter, so every later `notify` would skip its write and be lost.
//!
//! Several notifications before a wait end that one wait; the wait after it blocks again.
//!
//! # Timed waits
//!
//! They bound the idle M's sleep by the earliest timer, so their precision is the timers', and
//! they must not return before their timeout: the executor would wake, find no timer due and
//! wait again (it re-computes its bound after every wait, `executor/src/netpoll.rs`), which is
//! correct but spins. `epoll_pwait2` (Linux 5.11) takes a nanosecond timeout. Where it is
//! missing (`ENOSYS`; a container's seccomp filter may answer `EPERM` instead, which
//! `epoll_pwait2` never returns for valid arguments) it is not tried again, and timed waits use
//! `epoll_wait` with the timeout rounded *up* to whole milliseconds. Android always uses the
//! fallback: its seccomp filter may kill a process for a system call outside its allow-list
//! rather than answer `ENOSYS`, so probing is not safe there.
//!
//! Either sleep, like every sleep of a normal thread, may be extended by the thread's timer
//! slack (50 µs by default), which alone would make `sleep(100µs)` take ~160 µs; the first timed
//! wait on a thread lowers that thread's slack to 1 ns (`PR_SET_TIMERSLACK`). Go's timers are as
//! precise as they can be for the same reason.
//!
//! # Signals
//!
//! A wait interrupted by a signal (`EINTR`) is retried if it has no timeout, and otherwise
//! returns no events before its timeout: the caller re-computes its bound, as after a
//! notification.

use std::cell::Cell;
use std::io;
use std::num::NonZeroUsize;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::{Event, RESERVED_KEY};
use crate::ready::Ready;

/// What added fds are registered for: both directions, the peer's FIN, priority data (for
/// `Interest::PRIORITY`; an fd that never has any never reports it), edge-triggered. Errors and
/// hang-ups are always reported.
const INTEREST: u32 =
    (libc::EPOLLIN | libc::EPOLLOUT | libc::EPOLLRDHUP | libc::EPOLLPRI | libc::EPOLLET) as u32;
/// What the notifier is registered for: readable, level-triggered (see "The notifier").
const NOTIFIER_INTEREST: u32 = libc::EPOLLIN as u32;
/// Flags that a read will act on: data, a pending connection, the end of the stream, an error.
const READ_FLAGS: u32 = (libc::EPOLLIN | libc::EPOLLHUP | libc::EPOLLERR | libc::EPOLLPRI) as u32;
/// Flags that a write will act on: buffer space, a completed connect, an error.
const WRITE_FLAGS: u32 = (libc::EPOLLOUT | libc::EPOLLHUP | libc::EPOLLERR) as u32;
/// The peer's stream has ended (FIN), or the connection is gone. An error alone is not a close
/// (a UDP socket's ICMP error leaves it usable); it is reported as `Ready::ERROR`.
const READ_CLOSED_FLAGS: u32 = (libc::EPOLLRDHUP | libc::EPOLLHUP) as u32;
/// The write side is gone: a hang-up, or an error (a pipe whose readers all left reports only
/// `EPOLLERR` to its writer). The same rule as mio's, so `Ready` reads as tokio's; gort's own
/// retry loops wait by direction and are not held ready by this sticky bit
/// (`poll_desc.rs`, "Kinds of readiness").
const WRITE_CLOSED_FLAGS: u32 = (libc::EPOLLHUP | libc::EPOLLERR) as u32;

/// Whether timed waits may use `epoll_pwait2`: cleared for good when the kernel refuses it (see
/// "Timed waits"). `Relaxed`: it guards nothing but the choice of system call, and a thread that
/// still sees `true` only makes one more refused call.
#[cfg(target_os = "linux")]
static PWAIT2: AtomicBool = AtomicBool::new(true);

thread_local! {
    /// Whether this thread's timer slack was lowered already (see "Timed waits").
    static SLACK_LOWERED: Cell<bool> = const { Cell::new(false) };
}

/// An epoll instance with its notifier. Both fds are closed when it is dropped.
pub(crate) struct Poller {
    /// The epoll instance (`epoll_create1(EPOLL_CLOEXEC)`).
    epoll: OwnedFd,
    /// The eventfd `notify` writes (`EFD_CLOEXEC | EFD_NONBLOCK`), in `epoll` under
    /// [`RESERVED_KEY`], level-triggered.
    notifier: OwnedFd,
    /// Whether a notification was written and not yet drained (see "The notifier"). Swapped to
    /// true by `notify` (any thread) and to false by the waiting thread after it drained the
    /// eventfd, both `AcqRel`: the notifier's swap releases what it did before notifying to the
    /// drain's swap, which acquires it; the drain's swap releases its read of the eventfd to the
    /// notifier that then finds false, which acquires it and so writes after that read.
    notified: AtomicBool,
}

/// The buffer the kernel fills with events.
pub(crate) struct Events {
    /// Room for the most events one wait takes.
    buffer: Vec<libc::epoll_event>,
    /// How many entries of `buffer` the last wait filled, without the notifier's.
    ready: usize,
}

impl Poller {
    /// A new epoll instance with its notifier: two fds.
    pub(crate) fn new() -> io::Result<Poller> {
        // SAFETY: `epoll_create1` takes a flag and touches no memory.
        let epoll = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        // SAFETY: `epoll` was just returned by `epoll_create1`.
        let epoll = unsafe { owned(epoll) }?;
        // SAFETY: `eventfd` takes integers and touches no memory.
        let notifier = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
        // SAFETY: `notifier` was just returned by `eventfd`.
        let notifier = unsafe { owned(notifier) }?;
        let poller = Poller {
            epoll,
            notifier,
            notified: AtomicBool::new(false),
        };
        poller.ctl(
            libc::EPOLL_CTL_ADD,
            poller.notifier.as_fd(),
            NOTIFIER_INTEREST,
            RESERVED_KEY,
        )?;
        Ok(poller)
    }

    /// Adds `fd` for both directions and `EPOLLRDHUP`, edge-triggered, under `key` (never
    /// [`RESERVED_KEY`]). The caller deletes it before its owner closes it.
    pub(crate) fn add(&self, fd: BorrowedFd<'_>, key: usize) -> io::Result<()> {
        // Proof: the only caller, `Reactor::register`, makes keys with `key_for`, which refuses
        // the reserved key's slot.
        debug_assert_ne!(key, RESERVED_KEY, "the notifier's key");
        self.ctl(libc::EPOLL_CTL_ADD, fd, INTEREST, key)
    }

    /// Removes `fd` (`EPOLL_CTL_DEL`); its owner closes it afterwards.
    pub(crate) fn delete(&self, fd: BorrowedFd<'_>) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_DEL, fd, 0, 0)
    }

    /// Breaks the current or the next [`Poller::wait`] (step 1 of "The notifier"). Any thread.
    pub(crate) fn notify(&self) -> io::Result<()> {
        if self.notified.swap(true, Ordering::AcqRel) {
            // Pending already: the invariant says the next wait ends, or the current one is
            // about to return and acquire this.
            return Ok(());
        }
        let one: u64 = 1;
        // SAFETY: `notifier` is open for as long as `self`, and the buffer is the 8-byte
        // integer an eventfd write takes, alive for the call.
        let written = unsafe {
            libc::write(
                self.notifier.as_raw_fd(),
                std::ptr::from_ref(&one).cast(),
                size_of::<u64>(),
            )
        };
        if written >= 0 {
            return Ok(());
        }
        let err = io::Error::last_os_error();
        if err.kind() == io::ErrorKind::WouldBlock {
            // The counter is at its maximum: the fd is readable, the notification pending.
            return Ok(());
        }
        // Not written: let the next `notify` try again rather than skip its write forever.
        self.notified.store(false, Ordering::Release);
        Err(err)
    }

    /// Waits up to `timeout` (`None`: until an event or a notification; zero: just look) and
    /// fills `events`, without the notifier's event (see "The notifier"). A timed wait does not
    /// return before its timeout unless an event, a notification or a signal ends it. Called by
    /// one thread at a time (the reactor's driver role).
    pub(crate) fn wait(&self, events: &mut Events, timeout: Option<Duration>) -> io::Result<()> {
        events.ready = 0;
        let ready = match timeout {
            Some(Duration::ZERO) => self.epoll_wait(events, 0),
            None => loop {
                match self.epoll_wait(events, -1) {
                    Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                    result => break result,
                }
            },
            Some(timeout) => {
                lower_timer_slack();
                self.wait_for(events, timeout)
            }
        };
        events.ready = match ready {
            Ok(ready) => ready,
            // A signal ended a timed wait (see "Signals").
            Err(err) if err.kind() == io::ErrorKind::Interrupted => 0,
            Err(err) => return Err(err),
        };
        if events.take_notification() {
            self.drain();
        }
        Ok(())
    }

    /// A wait of at most `timeout`, not shorter (see "Timed waits").
    fn wait_for(&self, events: &mut Events, timeout: Duration) -> io::Result<usize> {
        #[cfg(target_os = "linux")]
        if PWAIT2.load(Ordering::Relaxed) {
            match self.epoll_pwait2(events, timeout) {
                Err(err) if matches!(err.raw_os_error(), Some(libc::ENOSYS | libc::EPERM)) => {
                    PWAIT2.store(false, Ordering::Relaxed);
                }
                result => return result,
            }
        }
        self.wait_for_in_millis(events, timeout)
    }

    /// The fallback timed wait: `epoll_wait` for `timeout` rounded up to whole milliseconds.
    fn wait_for_in_millis(&self, events: &mut Events, timeout: Duration) -> io::Result<usize> {
        self.epoll_wait(events, millis_rounded_up(timeout))
    }

    /// `epoll_wait(epoll, events, len, timeout_ms)`: the number of events, or the error.
    fn epoll_wait(&self, events: &mut Events, timeout_ms: libc::c_int) -> io::Result<usize> {
        let buffer = &mut events.buffer;
        // SAFETY: `buffer` is a live, writable array of at least `max_events(buffer)` events for
        // the call, and `epoll` is open for as long as `self`.
        let ready = unsafe {
            libc::epoll_wait(
                self.epoll.as_raw_fd(),
                buffer.as_mut_ptr(),
                max_events(buffer),
                timeout_ms,
            )
        };
        usize::try_from(ready).map_err(|_| io::Error::last_os_error())
    }

    /// `epoll_pwait2(epoll, events, len, &timeout, NULL)`, through `syscall` (the libc crate
    /// binds the number on every Linux target, the wrapper only on some libcs): the number of
    /// events, or the error (`ENOSYS` on kernels before 5.11).
    #[cfg(target_os = "linux")]
    fn epoll_pwait2(&self, events: &mut Events, timeout: Duration) -> io::Result<usize> {
        /// The kernel's `struct __kernel_timespec`, which the system call reads whatever the
        /// width of the C library's `time_t` (32 bits on some 32-bit targets).
        #[repr(C)]
        struct KernelTimespec {
            tv_sec: i64,
            tv_nsec: i64,
        }
        let timeout = KernelTimespec {
            tv_sec: i64::try_from(timeout.as_secs()).unwrap_or(i64::MAX),
            tv_nsec: i64::from(timeout.subsec_nanos()),
        };
        let buffer = &mut events.buffer;
        // SAFETY: `buffer` is a live, writable array of at least `max_events(buffer)` events and
        // `timeout` a live `__kernel_timespec` for the call; `epoll` is open for as long as
        // `self`. A null signal mask means "keep the thread's", and then its size is unused.
        let ready = unsafe {
            libc::syscall(
                libc::SYS_epoll_pwait2,
                libc::c_long::from(self.epoll.as_raw_fd()),
                buffer.as_mut_ptr(),
                libc::c_long::from(max_events(buffer)),
                std::ptr::from_ref(&timeout),
                std::ptr::null::<libc::sigset_t>(),
                0 as libc::c_long,
            )
        };
        usize::try_from(ready).map_err(|_| io::Error::last_os_error())
    }

    /// Step 2 of "The notifier": empties the eventfd's counter, then clears `notified`.
    fn drain(&self) {
        let mut count: u64 = 0;
        // SAFETY: `notifier` is open for as long as `self`, and the buffer is the 8-byte
        // integer an eventfd read fills, alive for the call.
        let _ = unsafe {
            libc::read(
                self.notifier.as_raw_fd(),
                std::ptr::from_mut(&mut count).cast(),
                size_of::<u64>(),
            )
        };
        // A failed read (`EAGAIN`: the counter was zero already) leaves nothing to lose: a
        // non-zero counter would simply end the next wait at once.
        self.notified.swap(false, Ordering::AcqRel);
    }

    /// `epoll_ctl(epoll, op, fd, {interest, key})`.
    fn ctl(
        &self,
        op: libc::c_int,
        fd: BorrowedFd<'_>,
        interest: u32,
        key: usize,
    ) -> io::Result<()> {
        let mut event = libc::epoll_event {
            events: interest,
            u64: key as u64,
        };
        // SAFETY: `epoll` is open for as long as `self` and `fd` for its borrow; `event` is a
        // live event for the call (read for `EPOLL_CTL_ADD`, ignored for `EPOLL_CTL_DEL`).
        let result =
            unsafe { libc::epoll_ctl(self.epoll.as_raw_fd(), op, fd.as_raw_fd(), &mut event) };
        if result == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    }
}

impl Events {
    /// Room for `capacity` events per wait.
    pub(crate) fn with_capacity(capacity: NonZeroUsize) -> Events {
        Events {
            buffer: vec![libc::epoll_event { events: 0, u64: 0 }; capacity.get()],
            ready: 0,
        }
    }

    /// The events of the last wait.
    pub(crate) fn iter(&self) -> impl Iterator<Item = Event> + '_ {
        self.buffer[..self.ready].iter().map(|event| {
            // Copied out of the (packed, on x86-64) struct before use.
            let (flags, key) = (event.events, event.u64);
            let kinds = [
                (READ_FLAGS, Ready::READABLE),
                (WRITE_FLAGS, Ready::WRITABLE),
                (READ_CLOSED_FLAGS, Ready::READ_CLOSED),
                (WRITE_CLOSED_FLAGS, Ready::WRITE_CLOSED),
                (libc::EPOLLPRI as u32, Ready::PRIORITY),
                (libc::EPOLLERR as u32, Ready::ERROR),
            ];
            let ready = kinds
                .into_iter()
                .filter(|(mask, _)| flags & mask != 0)
                .fold(Ready::EMPTY, |ready, (_, kind)| ready | kind);
            Event {
                key: key as usize,
                ready,
                fin_known: true,
            }
        })
    }

    /// Removes the notifier's event from the last wait's, if it is there.
    fn take_notification(&mut self) -> bool {
        let filled = &mut self.buffer[..self.ready];
        let Some(at) = filled.iter().position(|event| {
            let key = event.u64;
            key == RESERVED_KEY as u64
        }) else {
            return false;
        };
        filled.swap(at, self.ready - 1);
        self.ready -= 1;
        true
    }
}

/// Takes ownership of `fd`, the result of a system call that creates an fd (negative: it
/// failed, and `errno` says why).
///
/// # Safety
///
/// A non-negative `fd` was just created by that call and is owned by nothing else.
unsafe fn owned(fd: libc::c_int) -> io::Result<OwnedFd> {
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the caller's guarantee: an open fd nobody else owns or closes.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// How many events a wait may put in `buffer` (never more than it holds).
fn max_events(buffer: &[libc::epoll_event]) -> libc::c_int {
    libc::c_int::try_from(buffer.len()).unwrap_or(libc::c_int::MAX)
}

/// `timeout` in whole milliseconds, rounded up so that a wait never ends before it; waits
/// longer than `c_int::MAX` ms (~24.8 days) are cut to that, and end early (the caller
/// re-computes its bound).
fn millis_rounded_up(timeout: Duration) -> libc::c_int {
    let millis = timeout.as_nanos().div_ceil(1_000_000);
    libc::c_int::try_from(millis).unwrap_or(libc::c_int::MAX)
}

/// Lowers this thread's timer slack to 1 ns, once (see "Timed waits"). A failure leaves the
/// default slack: waits are then up to 50 µs late, nothing worse.
fn lower_timer_slack() {
    if !SLACK_LOWERED.replace(true) {
        // SAFETY: `PR_SET_TIMERSLACK` takes one integer argument and touches no memory.
        unsafe { libc::prctl(libc::PR_SET_TIMERSLACK, 1 as libc::c_ulong) };
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::os::unix::net::UnixStream;
    use std::time::Instant;

    use super::*;

    /// An event buffer of the reactor's size.
    fn events() -> Events {
        Events::with_capacity(NonZeroUsize::new(1024).expect("nonzero"))
    }

    #[test]
    fn timeouts_in_milliseconds_round_up() {
        let ms = Duration::from_millis;
        assert_eq!(millis_rounded_up(Duration::ZERO), 0);
        assert_eq!(millis_rounded_up(Duration::from_nanos(1)), 1);
        assert_eq!(millis_rounded_up(Duration::from_micros(999)), 1);
        assert_eq!(millis_rounded_up(ms(1)), 1);
        assert_eq!(millis_rounded_up(ms(1) + Duration::from_nanos(1)), 2);
        assert_eq!(millis_rounded_up(ms(1500)), 1500);
        assert_eq!(millis_rounded_up(Duration::MAX), libc::c_int::MAX);
    }

    /// The fallback for kernels without `epoll_pwait2` (forced here): whole milliseconds,
    /// rounded up, so that even a sub-millisecond wait lasts at least its timeout.
    #[test]
    #[cfg_attr(miri, ignore = "Miri cannot create an epoll poller")]
    fn a_millisecond_wait_never_returns_before_its_timeout() {
        let poller = Poller::new().unwrap();
        let mut events = events();
        for timeout in [1, 100_000, 999_999, 1_000_001, 2_500_000].map(Duration::from_nanos) {
            let start = Instant::now();
            assert_eq!(poller.wait_for_in_millis(&mut events, timeout).unwrap(), 0);
            let waited = start.elapsed();
            assert!(waited >= timeout, "{timeout:?} took {waited:?}");
            assert!(
                waited < Duration::from_secs(5),
                "{timeout:?} took {waited:?}"
            );
        }
    }

    /// The reactor only ever sees the events of the fds it added: the notifier's is taken out
    /// of the batch it came in.
    #[test]
    #[cfg_attr(miri, ignore = "Miri cannot create an epoll poller")]
    fn the_notifiers_event_never_reaches_the_events() {
        let poller = Poller::new().unwrap();
        let mut events = events();
        let (mut writer, reader) = UnixStream::pair().unwrap();
        poller.add(reader.as_fd(), 7).unwrap();
        writer.write_all(b"x").unwrap();
        poller.notify().unwrap();
        poller.wait(&mut events, Some(Duration::ZERO)).unwrap();
        let keys: Vec<usize> = events.iter().map(|event| event.key).collect();
        assert_eq!(keys, [7], "the fd's event only");
        // Just the notification: no event at all.
        poller.notify().unwrap();
        poller.wait(&mut events, Some(Duration::ZERO)).unwrap();
        assert_eq!(events.iter().count(), 0);
        poller.delete(reader.as_fd()).unwrap();
    }

    /// `EPOLLRDHUP` comes through: the peer's FIN is known, not guessed.
    #[test]
    #[cfg_attr(miri, ignore = "Miri cannot create an epoll poller")]
    fn a_fin_is_reported_as_read_closed() {
        let poller = Poller::new().unwrap();
        let mut events = events();
        let (writer, reader) = UnixStream::pair().unwrap();
        poller.add(reader.as_fd(), 3).unwrap();
        poller.wait(&mut events, Some(Duration::ZERO)).unwrap();
        let first: Vec<Event> = events.iter().collect();
        assert_eq!(first.len(), 1);
        assert!(first[0].fin_known);
        assert!(!first[0].ready.is_read_closed(), "open at first");
        writer.shutdown(std::net::Shutdown::Write).unwrap();
        poller.wait(&mut events, Some(Duration::ZERO)).unwrap();
        let after: Vec<Event> = events.iter().collect();
        assert_eq!(after.len(), 1);
        assert!(after[0].ready.is_readable());
        assert!(after[0].ready.is_read_closed(), "the FIN");
        assert!(!after[0].ready.is_write_closed(), "only one side is gone");
        poller.delete(reader.as_fd()).unwrap();
    }

    /// A hang-up (the peer end closed) closes both sides; it is not an error.
    #[test]
    #[cfg_attr(miri, ignore = "Miri cannot create an epoll poller")]
    fn a_hang_up_closes_both_sides() {
        let poller = Poller::new().unwrap();
        let mut events = events();
        let (writer, reader) = UnixStream::pair().unwrap();
        poller.add(reader.as_fd(), 4).unwrap();
        poller.wait(&mut events, Some(Duration::ZERO)).unwrap();
        drop(writer);
        poller.wait(&mut events, Some(Duration::ZERO)).unwrap();
        let after: Vec<Event> = events.iter().collect();
        assert_eq!(after.len(), 1);
        let ready = after[0].ready;
        assert!(ready.is_readable() && ready.is_writable(), "{ready:?}");
        assert!(
            ready.is_read_closed() && ready.is_write_closed(),
            "{ready:?}"
        );
        assert!(!ready.is_error(), "{ready:?}");
        poller.delete(reader.as_fd()).unwrap();
    }
}
