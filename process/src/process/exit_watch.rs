//! How a G waits for a child to exit without a thread per child.
//!
//! Where the kernel has them (Linux 5.3 and later), a child's *pidfd* becomes readable when it
//! exits: the G parks on it in the netpoller like on a socket, and one `waitpid(WNOHANG)`
//! (through std's `Child::try_wait`) then collects the status. Elsewhere, and where
//! `pidfd_open` is refused (old kernels, seccomp filters), the G listens for `SIGCHLD` through
//! `gort::signal` and checks its child after every delivery; the listener is made before the
//! child can exit unobserved, since it only reports deliveries after its creation.

use std::io;
use std::process::ExitStatus;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{ready, Context, Poll};

use crate::signal::unix::{signal, Signal, SignalKind};

/// Set by tests to exercise the `SIGCHLD` path on kernels that have pidfds.
static SIGCHLD_ONLY: AtomicBool = AtomicBool::new(false);

/// Makes children spawned from now on be watched through `SIGCHLD` even where pidfds work (for
/// tests of that path).
#[doc(hidden)]
pub fn watch_exits_with_sigchld_only(sigchld_only: bool) {
    SIGCHLD_ONLY.store(sigchld_only, Ordering::Relaxed);
}

/// What a child's `wait` parks on.
#[derive(Debug)]
pub(crate) enum ExitWatch {
    /// The child's pidfd, registered with the runtime's netpoller.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    Pidfd(gort_reactor::Registered<std::os::fd::OwnedFd>),
    /// `SIGCHLD` deliveries (any child's).
    Sigchld(Signal),
}

impl ExitWatch {
    /// A watch for the child `pid`, which must not have been reaped yet.
    pub(crate) fn new(pid: u32) -> io::Result<ExitWatch> {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        if let Some(pidfd) = pidfd_open(pid).filter(|_| !SIGCHLD_ONLY.load(Ordering::Relaxed)) {
            let reactor =
                std::sync::Arc::clone(gort_executor::runtime::Handle::current().reactor());
            return Ok(ExitWatch::Pidfd(gort_reactor::Registered::new(
                pidfd, reactor,
            )?));
        }
        let _ = pid;
        Ok(ExitWatch::Sigchld(signal(SignalKind::child())?))
    }

    /// Ready with `process`'s exit status once it has exited (and is reaped by std's
    /// `try_wait`), parking until then.
    ///
    /// A child may outlive the runtime it was spawned on and be waited for on another (tokio
    /// allows it): when the watch's runtime has shut down, the watch is made again on the
    /// runtime polling now, once per poll, and the wait goes on there.
    pub(crate) fn poll_exit(
        &mut self,
        process: &mut std::process::Child,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<ExitStatus>> {
        let mut rewatched = false;
        loop {
            match ready!(self.poll_exit_here(process, cx)) {
                Err(err) if !rewatched && watch_runtime_gone(&err) => {
                    rewatched = true;
                    *self = ExitWatch::new(process.id())?;
                }
                result => return Poll::Ready(result),
            }
        }
    }

    /// [`ExitWatch::poll_exit`] on the runtime the watch was made on.
    fn poll_exit_here(
        &mut self,
        process: &mut std::process::Child,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<ExitStatus>> {
        match self {
            // The descriptor counts as ready until an attempt says otherwise (the netpoller's
            // rule for every fd), so the attempt is the `try_wait`: `WouldBlock` while the
            // child runs parks the G until the pidfd turns readable.
            #[cfg(any(target_os = "linux", target_os = "android"))]
            ExitWatch::Pidfd(pidfd) => {
                pidfd.poll_io(gort_reactor::poll_desc::Direction::Read, cx, |_| {
                    process
                        .try_wait()?
                        .ok_or_else(|| io::ErrorKind::WouldBlock.into())
                })
            }
            ExitWatch::Sigchld(deliveries) => loop {
                if let Some(status) = process.try_wait()? {
                    return Poll::Ready(Ok(status));
                }
                if ready!(deliveries.poll_recv(cx)).is_none() {
                    // Its listener's runtime shut down: the same error a pidfd's gives.
                    return Poll::Ready(Err(gort_executor::runtime::rt_shutdown_err()));
                }
            },
        }
    }
}

/// Whether `err` says the watch's runtime shut down (its pidfd registration or its `SIGCHLD`
/// listener), rather than something about the child.
fn watch_runtime_gone(err: &io::Error) -> bool {
    gort_reactor::poll_desc::is_shut_down_error(err)
}

/// The child's pidfd (non-blocking, close-on-exec), or `None` if the kernel will not give one.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn pidfd_open(pid: u32) -> Option<std::os::fd::OwnedFd> {
    use std::os::fd::FromRawFd;

    const PIDFD_NONBLOCK: libc::c_long = libc::O_NONBLOCK as libc::c_long;
    // `try_from`: `c_long` is 32 bits on 32-bit targets, where `From<u32>` does not exist (a
    // pid always fits: the kernel's limit is 2^22).
    #[allow(
        clippy::unnecessary_fallible_conversions,
        reason = "infallible only where c_long is 64 bits"
    )]
    let pid = libc::c_long::try_from(pid).ok()?;
    // SAFETY: `pidfd_open(pid, flags)` takes two integers and returns a new descriptor or -1;
    // it touches no memory of ours.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, PIDFD_NONBLOCK) };
    if fd < 0 {
        return None;
    }
    let fd = libc::c_int::try_from(fd).ok()?;
    // SAFETY: the kernel just returned this descriptor to us; nothing else owns it. pidfds are
    // always close-on-exec.
    Some(unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) })
}
