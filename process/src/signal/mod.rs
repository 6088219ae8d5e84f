//! `gort::signal`: tokio's `ctrl_c()` and `unix::{signal, SignalKind, Signal}`, on the
//! netpoller.
//!
//! A listener is a G parked on the readability of a self-pipe that the signal handler writes
//! to (`registry.rs` has the mechanism and why the handler does so little). No thread waits
//! for signals: the byte the handler writes makes the listeners' Gs runnable through the
//! same netpoller as sockets.

mod registry;

use std::fs::File;
use std::io::{self, Read};
use std::task::{Context, Poll};

use gort_executor::runtime::Handle;
use gort_reactor::poll_desc::Direction;
use gort_reactor::Registered;

use registry::Slot;

/// Completes when the process receives `SIGINT` (Ctrl-C in a terminal), after this call.
///
/// The first call installs a handler that stays for the life of the process: from then on
/// `SIGINT` no longer terminates the program by default, so a program that wants to stop on
/// Ctrl-C must act on this future's completion.
pub async fn ctrl_c() -> io::Result<()> {
    let mut interrupts = unix::signal(unix::SignalKind::interrupt())?;
    interrupts.recv().await;
    Ok(())
}

/// Unix signals as streams of events.
pub mod unix {
    use super::*;

    /// A kind of Unix signal: a signal number with tokio's named constructors.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct SignalKind(libc::c_int);

    impl SignalKind {
        /// Any signal by number (`libc::SIGUSR1`, a real-time signal, ...).
        pub const fn from_raw(signum: std::os::raw::c_int) -> SignalKind {
            SignalKind(signum)
        }

        /// The signal number.
        pub const fn as_raw_value(&self) -> std::os::raw::c_int {
            self.0
        }

        /// `SIGALRM`: a real-time timer expired.
        pub const fn alarm() -> SignalKind {
            SignalKind(libc::SIGALRM)
        }

        /// `SIGCHLD`: a child process changed state.
        pub const fn child() -> SignalKind {
            SignalKind(libc::SIGCHLD)
        }

        /// `SIGHUP`: the terminal hung up (often "reload the configuration").
        pub const fn hangup() -> SignalKind {
            SignalKind(libc::SIGHUP)
        }

        /// `SIGINT`: interrupt from the keyboard (Ctrl-C).
        pub const fn interrupt() -> SignalKind {
            SignalKind(libc::SIGINT)
        }

        /// `SIGIO`: IO is possible on a descriptor set up for it.
        pub const fn io() -> SignalKind {
            SignalKind(libc::SIGIO)
        }

        /// `SIGPIPE`: a write to a pipe with no reader.
        pub const fn pipe() -> SignalKind {
            SignalKind(libc::SIGPIPE)
        }

        /// `SIGQUIT`: quit from the keyboard (Ctrl-\).
        pub const fn quit() -> SignalKind {
            SignalKind(libc::SIGQUIT)
        }

        /// `SIGTERM`: a polite request to terminate.
        pub const fn terminate() -> SignalKind {
            SignalKind(libc::SIGTERM)
        }

        /// `SIGUSR1`: for the program's own use.
        pub const fn user_defined1() -> SignalKind {
            SignalKind(libc::SIGUSR1)
        }

        /// `SIGUSR2`: for the program's own use.
        pub const fn user_defined2() -> SignalKind {
            SignalKind(libc::SIGUSR2)
        }

        /// `SIGWINCH`: the terminal window changed size.
        pub const fn window_change() -> SignalKind {
            SignalKind(libc::SIGWINCH)
        }
    }

    impl From<std::os::raw::c_int> for SignalKind {
        fn from(signum: std::os::raw::c_int) -> SignalKind {
            SignalKind(signum)
        }
    }

    impl From<SignalKind> for std::os::raw::c_int {
        fn from(kind: SignalKind) -> std::os::raw::c_int {
            kind.0
        }
    }

    /// Listens for one kind of signal: each [`recv`](Signal::recv) completes once per batch
    /// of deliveries since the previous one (signals that arrive together coalesce into one
    /// event, as Unix coalesces pending signals).
    ///
    /// Only deliveries after the `Signal` was created count. Several listeners of the same
    /// signal (in any runtime) each see every delivery.
    pub struct Signal {
        slot: &'static Slot,
        /// The delivery count this listener has reported up to.
        seen: u64,
        /// This listener's duplicate of the self-pipe's read end.
        wakeup: Registered<File>,
        /// Where this listener's waker is parked in its slot.
        parked: Option<usize>,
    }

    /// Starts listening for `kind`, installing its handler on first use in the process.
    ///
    /// Fails for the signals whose action cannot be replaced (`SIGKILL`, `SIGSTOP`, `SIGILL`,
    /// `SIGFPE`, `SIGSEGV`) and for numbers that are not signals.
    pub fn signal(kind: SignalKind) -> io::Result<Signal> {
        let registry = super::registry::registry()?;
        let slot = registry.slot(kind.0)?;
        let seen = slot.deliveries();
        let wakeup = Registered::new(
            File::from(registry.receiver()?),
            std::sync::Arc::clone(Handle::current().reactor()),
        )?;
        Ok(Signal {
            slot,
            seen,
            wakeup,
            parked: None,
        })
    }

    impl Signal {
        /// Waits for the next delivery. Never returns `None` in practice (tokio's signature:
        /// `None` would mean no more events can arrive).
        ///
        /// Cancel-safe: dropping the future loses no delivery.
        pub async fn recv(&mut self) -> Option<()> {
            std::future::poll_fn(|cx| self.poll_recv(cx)).await
        }

        /// [`recv`](Signal::recv) as a poll function.
        pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<()>> {
            loop {
                if self.take_delivery() {
                    return Poll::Ready(Some(()));
                }
                self.parked = Some(self.slot.park(self.parked, cx.waker()));
                // A delivery between the check and the park would otherwise be missed by a
                // drainer that ran in between.
                if self.take_delivery() {
                    return Poll::Ready(Some(()));
                }
                match self.wakeup.poll_io(Direction::Read, cx, drain) {
                    Poll::Ready(Ok(())) => {
                        super::registry::registry()
                            .map(|registry| registry.wake_delivered())
                            .unwrap_or(());
                    }
                    // The reactor failed us (its runtime shut down): no event can arrive.
                    Poll::Ready(Err(_)) => return Poll::Ready(None),
                    Poll::Pending => return Poll::Pending,
                }
            }
        }

        /// Whether there are deliveries this listener has not reported; marks them reported.
        fn take_delivery(&mut self) -> bool {
            let deliveries = self.slot.deliveries();
            if deliveries != self.seen {
                self.seen = deliveries;
                true
            } else {
                false
            }
        }
    }

    impl std::fmt::Debug for Signal {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("Signal")
                .field("seen", &self.seen)
                .finish_non_exhaustive()
        }
    }

    impl Drop for Signal {
        fn drop(&mut self) {
            if let Some(key) = self.parked.take() {
                self.slot.unpark(key);
            }
        }
    }

    /// Empties the self-pipe: `WouldBlock` if it was empty (so the caller parks), `Ok` once it
    /// read at least one byte.
    fn drain(mut pipe: &File) -> io::Result<()> {
        let mut buffer = [0u8; 64];
        let mut drained = false;
        loop {
            match pipe.read(&mut buffer) {
                Ok(0) => return Ok(()),
                Ok(_) => drained = true,
                Err(err) if err.kind() == io::ErrorKind::WouldBlock && drained => return Ok(()),
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => return Err(err),
            }
        }
    }
}
