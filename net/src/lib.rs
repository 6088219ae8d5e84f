//! `gort::net`: TCP, UDP and Unix-domain sockets with tokio's names and signatures, on the
//! netpoller; and what `gort::io` takes from here: [`Interest`], [`Ready`] and
//! [`async_fd::AsyncFd`] (tokio's `io::unix::AsyncFd`).
//!
//! Every type wraps a std socket in non-blocking mode registered with the reactor of the
//! current runtime (`gort_reactor::Registered`); an operation tries the system call first and
//! parks the G on `WouldBlock` until the poller reports readiness. Streams implement tokio's IO
//! traits (`gort_io`), reading straight into a `ReadBuf`'s uninitialised part (`uninit.rs`),
//! and the `futures` crate's, for both `Stream` and `&Stream` (`stream_io.rs`); their split
//! halves are lock-free views of the same stream (`halves.rs`).
//!
//! # Map
//!
//! - `tcp/`: `TcpListener`, `TcpStream`, `TcpSocket` (options before `connect`/`listen`), the
//!   stream's halves.
//! - `unix/`: `UnixListener`, `UnixStream`, `UnixDatagram`, `UnixSocket`, the address type
//!   (`unix::SocketAddr`), peer credentials (`UCred`), the stream's halves.
//! - `udp.rs`: `UdpSocket`. `lookup_host.rs`: the sealed `ToSocketAddrs` and name resolution on
//!   the blocking pool.
//! - `async_fd/`: `AsyncFd` and its readiness guards.
//!
//! # Why this crate sits above the executor
//!
//! A socket's waiters wake only if some thread polls the reactor it is registered with, and
//! only a runtime's Ms do. The socket types lived in the reactor crate, below the executor,
//! where they could not start a runtime: a socket made off any runtime (inside
//! `futures::executor::block_on`, say) registered with a default reactor that nobody drove
//! until something else happened to start the default runtime, and its `accept` hung. Here
//! `register` asks the executor for the current runtime (the one this thread serves, else
//! the process's default, started on first use, as for `gort::spawn`), so every socket's
//! reactor has Ms, and name resolution goes to that runtime's blocking pool directly.

use std::io;
use std::os::fd::AsFd;
use std::sync::Arc;

use gort_executor::runtime::Handle;
use gort_reactor::Registered;

/// `AsRawFd` and `AsFd` for a socket type whose `io` field is a `Registered<T>`.
macro_rules! impl_as_fd {
    ($socket:ident) => {
        impl ::std::os::fd::AsRawFd for $socket {
            fn as_raw_fd(&self) -> ::std::os::fd::RawFd {
                ::std::os::fd::AsRawFd::as_raw_fd(self.io.get_ref())
            }
        }

        impl ::std::os::fd::AsFd for $socket {
            fn as_fd(&self) -> ::std::os::fd::BorrowedFd<'_> {
                ::std::os::fd::AsFd::as_fd(self.io.get_ref())
            }
        }
    };
}

pub mod async_fd;
mod halves;
mod lookup_host;
mod stream_io;
pub mod tcp;
#[cfg(test)]
mod tests;
mod udp;
mod uninit;
pub mod unix;

pub use gort_reactor::{Interest, Ready};
pub use lookup_host::{lookup_host, ToSocketAddrs};
pub use tcp::listener::TcpListener;
pub use tcp::socket::TcpSocket;
pub use tcp::stream::TcpStream;
pub use udp::UdpSocket;
pub use unix::datagram::UnixDatagram;
pub use unix::listener::UnixListener;
pub use unix::socket::UnixSocket;
pub use unix::stream::UnixStream;

/// Live poll descriptors and the descriptor table's capacity in the reactor that IO objects
/// created on this thread would register with (for tests of descriptor reuse).
#[doc(hidden)]
pub fn __poll_descriptors() -> (usize, usize) {
    Handle::current().reactor().descriptor_table()
}

/// Registers `io` (in non-blocking mode) with the reactor of the current runtime: the one this
/// thread serves, else the default runtime, started if need be (module doc, "Why this crate
/// sits above the executor").
fn register<T: AsFd>(io: T) -> io::Result<Registered<T>> {
    Registered::new(io, Arc::clone(Handle::current().reactor()))
}

/// [`register`] for an fd whose readiness is learnt from the poller's first edge rather than
/// assumed (`Registered::new_unready`): a socket whose connect is in flight, which must not be
/// taken for connected (or readable) before the kernel says so, and a pipe's end, as tokio's.
fn register_unready<T: AsFd>(io: T) -> io::Result<Registered<T>> {
    Registered::new_unready(io, Arc::clone(Handle::current().reactor())).map_err(|(_, err)| err)
}

/// [`register`] for an fd that starts writable but not readable (`Registered::new_writable_only`):
/// one end of a fresh socket pair, a datagram socket, as tokio's do.
fn register_writable_only<T: AsFd>(io: T) -> io::Result<Registered<T>> {
    Registered::new_writable_only(io, Arc::clone(Handle::current().reactor()))
}
