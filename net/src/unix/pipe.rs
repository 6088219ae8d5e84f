//! Unix pipes and FIFOs on the netpoller (tokio's `net::unix::pipe`): [`pipe`] for an anonymous
//! pair, [`OpenOptions`] for a named FIFO, and a [`Sender`]/[`Receiver`] per end.
//!
//! Each end is a `File` in non-blocking mode registered like a socket, except that it starts
//! with no readiness (`Registered::new_unready`): a FIFO opened before any writer reads as end
//! of file, so readers wait for the poller's first edge, and so do writers. Reads go into a
//! `ReadBuf`'s or `BufMut`'s uninitialised space with `read(2)` (`uninit.rs`). A pipe has no
//! FIN: the writer closing shows as a hang-up (`EPOLLHUP`), which the poll descriptor records
//! as read-closed, so a reader's short read never hides the end of the stream.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;
use std::pin::Pin;
use std::task::{Context, Poll};

use gort_reactor::poll_desc::Direction;
use gort_reactor::Registered;

use crate::uninit;
use crate::{Interest, Ready};

/// A new anonymous pipe: what is written to the [`Sender`] is read from the [`Receiver`].
/// Both ends are non-blocking and close-on-exec.
pub fn pipe() -> io::Result<(Sender, Receiver)> {
    let (read, write) = new_pipe()?;
    Ok((
        Sender::from_nonblocking(File::from(write))?,
        Receiver::from_nonblocking(File::from(read))?,
    ))
}

/// Options for opening a FIFO (named pipe) as one end (tokio's `pipe::OpenOptions`).
#[derive(Clone, Debug)]
pub struct OpenOptions {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    read_write: bool,
    unchecked: bool,
}

impl OpenOptions {
    /// Default options: open for the end's one direction, and check that the file is a FIFO.
    pub fn new() -> OpenOptions {
        OpenOptions {
            #[cfg(any(target_os = "linux", target_os = "android"))]
            read_write: false,
            unchecked: false,
        }
    }

    /// Opens the FIFO for reading and writing (Linux): a receiver then never sees end of file
    /// when the last writer leaves, and a sender's open does not fail for want of a reader.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    pub fn read_write(&mut self, value: bool) -> &mut Self {
        self.read_write = value;
        self
    }

    /// Skips the check that the file is a FIFO (for a character device that polls like one).
    pub fn unchecked(&mut self, value: bool) -> &mut Self {
        self.unchecked = value;
        self
    }

    /// Opens the FIFO at `path` as a [`Receiver`].
    pub fn open_receiver<P: AsRef<Path>>(&self, path: P) -> io::Result<Receiver> {
        Receiver::from_nonblocking(self.open(path.as_ref(), End::Receiver)?)
    }

    /// Opens the FIFO at `path` as a [`Sender`]. Without `read_write`, fails with `ENXIO` while
    /// nobody has it open for reading (a non-blocking open does not wait for one).
    pub fn open_sender<P: AsRef<Path>>(&self, path: P) -> io::Result<Sender> {
        Sender::from_nonblocking(self.open(path.as_ref(), End::Sender)?)
    }

    fn open(&self, path: &Path, end: End) -> io::Result<File> {
        let mut options = std::fs::OpenOptions::new();
        options
            .read(end == End::Receiver)
            .write(end == End::Sender)
            .custom_flags(libc::O_NONBLOCK);
        #[cfg(any(target_os = "linux", target_os = "android"))]
        if self.read_write {
            options.read(true).write(true);
        }
        let file = options.open(path)?;
        if !self.unchecked && !is_fifo(&file)? {
            return Err(not_a_pipe());
        }
        Ok(file)
    }
}

impl Default for OpenOptions {
    fn default() -> OpenOptions {
        OpenOptions::new()
    }
}

/// Which end of a pipe.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum End {
    Sender,
    Receiver,
}

/// The writing end of a pipe (tokio's `pipe::Sender`).
#[derive(Debug)]
pub struct Sender {
    io: Registered<File>,
}

/// The reading end of a pipe (tokio's `pipe::Receiver`).
#[derive(Debug)]
pub struct Receiver {
    io: Registered<File>,
}

/// The constructors, `ready` and the conversions back to a descriptor, which both ends of a
/// pipe have (`$direction` is what the end is open for, for the docs).
macro_rules! pipe_end {
    ($end:ident, $kind:expr, $direction:literal) => {
        impl $end {
            fn from_nonblocking(file: File) -> io::Result<$end> {
                // Nothing is assumed (unlike a socket): a FIFO that no writer opened yet reads as
                // end of file, so a reader must wait for the poller's first edge rather than try,
                // and a sender learns it is writable the same way (tokio's pipes start so).
                Ok($end {
                    io: crate::register_unready(file)?,
                })
            }

            #[doc = concat!("An end over `file`, which must be a pipe open for ", $direction, "; it is put in non-blocking mode.")]
            pub fn from_file(file: File) -> io::Result<$end> {
                $end::from_owned_fd(file.into())
            }

            /// `from_file` for an `OwnedFd`.
            pub fn from_owned_fd(owned_fd: OwnedFd) -> io::Result<$end> {
                let file = File::from(owned_fd);
                checked(&file, $kind)?;
                $end::from_nonblocking(file)
            }

            /// An end over `file` without the checks: it must already be non-blocking, and
            /// pollable.
            pub fn from_file_unchecked(file: File) -> io::Result<$end> {
                $end::from_nonblocking(file)
            }

            /// `from_file_unchecked` for an `OwnedFd`.
            pub fn from_owned_fd_unchecked(owned_fd: OwnedFd) -> io::Result<$end> {
                $end::from_nonblocking(File::from(owned_fd))
            }

            /// Waits until any readiness in `interest` is set and returns what is (the other
            /// side gone shows as closed).
            pub async fn ready(&self, interest: Interest) -> io::Result<Ready> {
                Ok(self.io.ready_interest(interest).await?.ready())
            }

            /// Deregisters the end and returns its fd in blocking mode.
            pub fn into_blocking_fd(self) -> io::Result<OwnedFd> {
                let fd = self.into_nonblocking_fd()?;
                set_nonblocking(fd.as_fd(), false)?;
                Ok(fd)
            }

            /// Deregisters the end and returns its fd, still non-blocking.
            pub fn into_nonblocking_fd(self) -> io::Result<OwnedFd> {
                Ok(self.io.into_inner().into())
            }
        }
    };
}

pipe_end!(Sender, End::Sender, "writing");

impl Sender {
    /// Waits until the pipe may accept bytes.
    pub async fn writable(&self) -> io::Result<()> {
        self.io.ready(Direction::Write).await
    }

    /// Ready once the pipe may accept bytes (the poll form of `writable`).
    pub fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.poll_ready_latest(Direction::Write, cx)
    }

    /// Writes what fits now, or fails with `WouldBlock`. With no reader left: `BrokenPipe`.
    pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.try_io(Direction::Write, |mut file| file.write(buf))
    }

    /// [`Sender::try_write`] from several buffers, in order.
    pub fn try_write_vectored(&self, buf: &[io::IoSlice<'_>]) -> io::Result<usize> {
        self.io
            .try_io(Direction::Write, |mut file| file.write_vectored(buf))
    }

    /// Runs `f`, a write of the caller's on this fd, if the pipe may be writable
    /// (`WouldBlock` if not; a `WouldBlock` from `f` clears the readiness).
    pub fn try_io<R>(&self, f: impl FnOnce() -> io::Result<R>) -> io::Result<R> {
        self.io.try_io_interest(Interest::WRITABLE, |_| f())
    }
}

pipe_end!(Receiver, End::Receiver, "reading");

impl Receiver {
    /// Waits until the pipe may be readable (data, or the writers gone).
    pub async fn readable(&self) -> io::Result<()> {
        self.io.ready(Direction::Read).await
    }

    /// Ready once the pipe may be readable (the poll form of `readable`).
    pub fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.poll_ready_latest(Direction::Read, cx)
    }

    /// Reads what is available now, or fails with `WouldBlock`; `Ok(0)` once every writer is
    /// gone and the pipe is drained.
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.try_io(Direction::Read, |mut file| file.read(buf))
    }

    /// [`Receiver::try_read`] into several buffers, in order.
    pub fn try_read_vectored(&self, bufs: &mut [io::IoSliceMut<'_>]) -> io::Result<usize> {
        self.io
            .try_io(Direction::Read, |mut file| file.read_vectored(bufs))
    }

    /// [`Receiver::try_read`] into the spare capacity of `buf`, which advances past what
    /// arrived; nothing is zeroed first.
    pub fn try_read_buf<B: bytes::BufMut>(&self, buf: &mut B) -> io::Result<usize> {
        self.io.try_io(Direction::Read, |file| {
            uninit::read_buf_mut(file.as_fd(), buf)
        })
    }

    /// Runs `f`, a read of the caller's on this fd, if the pipe may be readable
    /// (`WouldBlock` if not; a `WouldBlock` from `f` clears the readiness).
    pub fn try_io<R>(&self, f: impl FnOnce() -> io::Result<R>) -> io::Result<R> {
        self.io.try_io_interest(Interest::READABLE, |_| f())
    }
}

impl gort_io::AsyncWrite for Sender {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.io
            .poll_transfer(Direction::Write, cx, buf.len(), |mut file| file.write(buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let requested = bufs.iter().map(|buf| buf.len()).sum();
        self.io
            .poll_transfer(Direction::Write, cx, requested, |mut file| {
                file.write_vectored(bufs)
            })
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    /// A pipe has no user-space buffer to flush.
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    /// Nothing to do: a pipe end has no half to shut down; dropping the sender closes it.
    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl gort_io::AsyncRead for Receiver {
    /// Reads into `buf`'s unfilled part without zeroing it (`uninit.rs`).
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut gort_io::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let requested = buf.remaining();
        self.io
            .poll_transfer(Direction::Read, cx, requested, |file| {
                uninit::read_read_buf(file.as_fd(), buf)
            })
            .map_ok(drop)
    }
}

impl AsRawFd for Sender {
    fn as_raw_fd(&self) -> RawFd {
        self.io.get_ref().as_raw_fd()
    }
}

impl AsFd for Sender {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}

impl AsRawFd for Receiver {
    fn as_raw_fd(&self) -> RawFd {
        self.io.get_ref().as_raw_fd()
    }
}

impl AsFd for Receiver {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}

fn not_a_pipe() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, "not a pipe")
}

/// Whether `file` is a pipe or FIFO.
fn is_fifo(file: &File) -> io::Result<bool> {
    Ok(file.metadata()?.file_type().is_fifo())
}

/// The checks of `from_file`/`from_owned_fd`: a pipe, open in `end`'s direction; then puts it
/// in non-blocking mode.
fn checked(file: &File, end: End) -> io::Result<()> {
    if !is_fifo(file)? {
        return Err(not_a_pipe());
    }
    let mode = status_flags(file.as_fd())? & libc::O_ACCMODE;
    let allowed = match end {
        End::Sender => mode == libc::O_WRONLY || mode == libc::O_RDWR,
        End::Receiver => mode == libc::O_RDONLY || mode == libc::O_RDWR,
    };
    if !allowed {
        let message = match end {
            End::Sender => "the pipe is not open for writing",
            End::Receiver => "the pipe is not open for reading",
        };
        return Err(io::Error::new(io::ErrorKind::InvalidInput, message));
    }
    set_nonblocking(file.as_fd(), true)
}

/// `fcntl(F_GETFL)`: the open file's status flags and access mode.
fn status_flags(fd: BorrowedFd<'_>) -> io::Result<libc::c_int> {
    // SAFETY: `fd` is open for the borrow; F_GETFL reads its flags and touches no memory.
    let flags = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFL) };
    if flags < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(flags)
}

/// Sets or clears `O_NONBLOCK` on `fd`.
fn set_nonblocking(fd: BorrowedFd<'_>, nonblocking: bool) -> io::Result<()> {
    let flags = status_flags(fd)?;
    let wanted = if nonblocking {
        flags | libc::O_NONBLOCK
    } else {
        flags & !libc::O_NONBLOCK
    };
    if wanted == flags {
        return Ok(());
    }
    // SAFETY: `fd` is open for the borrow; F_SETFL changes its flags and touches no memory.
    if unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETFL, wanted) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// A new pipe, both ends non-blocking and close-on-exec: (read end, write end).
fn new_pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds: [libc::c_int; 2] = [-1; 2];
    #[cfg(any(
        target_os = "linux",
        target_os = "android",
        target_os = "freebsd",
        target_os = "netbsd",
        target_os = "openbsd",
        target_os = "dragonfly",
        target_os = "illumos"
    ))]
    {
        // SAFETY: `fds` is a live array of two ints, which `pipe2` fills on success.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_NONBLOCK | libc::O_CLOEXEC) } != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    #[cfg(not(any(
        target_os = "linux",
        target_os = "android",
        target_os = "freebsd",
        target_os = "netbsd",
        target_os = "openbsd",
        target_os = "dragonfly",
        target_os = "illumos"
    )))]
    {
        // SAFETY: `fds` is a live array of two ints, which `pipe` fills on success.
        if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    // SAFETY: the call succeeded: both fds are open, and nothing else owns them.
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    #[cfg(not(any(
        target_os = "linux",
        target_os = "android",
        target_os = "freebsd",
        target_os = "netbsd",
        target_os = "openbsd",
        target_os = "dragonfly",
        target_os = "illumos"
    )))]
    for fd in [&read, &write] {
        set_nonblocking(fd.as_fd(), true)?;
        // SAFETY: `fd` is open; F_SETFD sets its close-on-exec flag and touches no memory.
        if unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC) } < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok((read, write))
}
