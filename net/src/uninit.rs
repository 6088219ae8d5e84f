//! Receiving into memory that may be uninitialised: a [`ReadBuf`]'s unfilled part, or a
//! [`BufMut`]'s spare capacity (`read_buf` into a `BytesMut`), without zeroing it first.
//!
//! # Why this is sound
//!
//! The only code that touches the uninitialised bytes is socket2's `recv` family, which takes
//! `&mut [MaybeUninit<u8>]` and hands it to the kernel as a plain buffer (and, for pipes,
//! `read(2)` called the same way): the kernel writes the first `n` bytes it returns and reads
//! none. So (1) nothing here ever de-initialises a byte
//! (what [`ReadBuf::unfilled_mut`] and [`UninitSlice::as_uninit_slice_mut`] forbid), and (2)
//! after a successful call the first `n` bytes are initialised (what [`ReadBuf::assume_init`]
//! and [`BufMut::advance_mut`] require). Every `unsafe` block below is one of those two steps.
//!
//! The alternative, `ReadBuf::initialize_unfilled` (safe), zeroes the unfilled part before the
//! first read into it: a memset of the whole spare capacity of every fresh `BytesMut` chunk, for
//! bytes the kernel is about to overwrite.
//!
//! [`UninitSlice::as_uninit_slice_mut`]: bytes::buf::UninitSlice::as_uninit_slice_mut

use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{AsRawFd, BorrowedFd};

use bytes::BufMut;
use gort_io::ReadBuf;
use socket2::{SockAddr, SockRef};

/// What a receive does with the data: take it, or leave it queued (`MSG_PEEK`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Take {
    /// `recv`: the data leaves the socket's queue.
    Remove,
    /// `recv(MSG_PEEK)`: the next receive sees the same data.
    Peek,
}

/// One `recv`/`recvfrom` into `dst`, which the kernel only writes to.
fn recv(socket: SockRef<'_>, dst: &mut [MaybeUninit<u8>], take: Take) -> io::Result<usize> {
    match take {
        Take::Remove => socket.recv(dst),
        Take::Peek => socket.peek(dst),
    }
}

fn recv_from(
    socket: SockRef<'_>,
    dst: &mut [MaybeUninit<u8>],
    take: Take,
) -> io::Result<(usize, SockAddr)> {
    match take {
        Take::Remove => socket.recv_from(dst),
        Take::Peek => socket.peek_from(dst),
    }
}

/// Receives into `buf`'s unfilled part and marks what arrived filled. Returns the byte count.
pub(crate) fn recv_read_buf(
    socket: SockRef<'_>,
    buf: &mut ReadBuf<'_>,
    take: Take,
) -> io::Result<usize> {
    // SAFETY: only `recv` writes through this slice, and it never de-initialises (module doc).
    let n = recv(socket, unsafe { buf.unfilled_mut() }, take)?;
    // SAFETY: the kernel wrote the first `n` bytes of the unfilled part (module doc).
    unsafe { buf.assume_init(n) };
    buf.advance(n);
    Ok(n)
}

/// [`recv_read_buf`] with the sender's address (datagram sockets).
pub(crate) fn recv_from_read_buf(
    socket: SockRef<'_>,
    buf: &mut ReadBuf<'_>,
    take: Take,
) -> io::Result<(usize, SockAddr)> {
    // SAFETY: only `recv_from` writes through this slice, and it never de-initialises.
    let (n, from) = recv_from(socket, unsafe { buf.unfilled_mut() }, take)?;
    // SAFETY: the kernel wrote the first `n` bytes of the unfilled part.
    unsafe { buf.assume_init(n) };
    buf.advance(n);
    Ok((n, from))
}

/// Receives into `buf`'s spare capacity (one chunk of it) and advances it past what arrived.
pub(crate) fn recv_buf_mut<B: BufMut + ?Sized>(
    socket: SockRef<'_>,
    buf: &mut B,
) -> io::Result<usize> {
    // SAFETY: only `recv` writes through this slice, and it never de-initialises.
    let n = recv(
        socket,
        unsafe { buf.chunk_mut().as_uninit_slice_mut() },
        Take::Remove,
    )?;
    // SAFETY: the kernel initialised the first `n` bytes of the chunk.
    unsafe { buf.advance_mut(n) };
    Ok(n)
}

/// [`recv_buf_mut`] with the sender's address.
pub(crate) fn recv_from_buf_mut<B: BufMut + ?Sized>(
    socket: SockRef<'_>,
    buf: &mut B,
) -> io::Result<(usize, SockAddr)> {
    // SAFETY: only `recv_from` writes through this slice, and it never de-initialises.
    let (n, from) = recv_from(
        socket,
        unsafe { buf.chunk_mut().as_uninit_slice_mut() },
        Take::Remove,
    )?;
    // SAFETY: the kernel initialised the first `n` bytes of the chunk.
    unsafe { buf.advance_mut(n) };
    Ok((n, from))
}

/// One `read(2)` of `fd` into `dst`, which the kernel only writes to (a pipe: not a socket, so
/// socket2's `recv` does not apply).
fn read_fd(fd: BorrowedFd<'_>, dst: &mut [MaybeUninit<u8>]) -> io::Result<usize> {
    // SAFETY: `fd` is open for the borrow; `dst` is a live buffer of `dst.len()` bytes that
    // `read` writes at most that many bytes into and never reads (module doc).
    let n = unsafe { libc::read(fd.as_raw_fd(), dst.as_mut_ptr().cast(), dst.len()) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(n as usize)
}

/// [`recv_read_buf`] for a pipe: one `read` into `buf`'s unfilled part.
pub(crate) fn read_read_buf(fd: BorrowedFd<'_>, buf: &mut ReadBuf<'_>) -> io::Result<usize> {
    // SAFETY: only `read` writes through this slice, and it never de-initialises.
    let n = read_fd(fd, unsafe { buf.unfilled_mut() })?;
    // SAFETY: the kernel wrote the first `n` bytes of the unfilled part.
    unsafe { buf.assume_init(n) };
    buf.advance(n);
    Ok(n)
}

/// [`recv_buf_mut`] for a pipe.
pub(crate) fn read_buf_mut<B: BufMut + ?Sized>(
    fd: BorrowedFd<'_>,
    buf: &mut B,
) -> io::Result<usize> {
    // SAFETY: only `read` writes through this slice, and it never de-initialises.
    let n = read_fd(fd, unsafe { buf.chunk_mut().as_uninit_slice_mut() })?;
    // SAFETY: the kernel initialised the first `n` bytes of the chunk.
    unsafe { buf.advance_mut(n) };
    Ok(n)
}
