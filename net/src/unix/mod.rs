//! Unix-domain sockets: [`UnixListener`](crate::UnixListener),
//! [`UnixStream`](crate::UnixStream), [`UnixDatagram`](crate::UnixDatagram) and
//! [`UnixSocket`](crate::UnixSocket) (re-exported from `net`); this module holds what tokio's
//! `net::unix` does: the stream's split halves, the address type, peer credentials and their
//! id types, and pipes ([`pipe`]).

pub(crate) mod datagram;
pub(crate) mod listener;
pub mod pipe;
pub(crate) mod socket;
mod socket_addr;
pub(crate) mod split;
pub(crate) mod stream;
mod ucred;

pub use socket_addr::SocketAddr;
pub use split::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, ReuniteError, WriteHalf};
pub use ucred::{gid_t, pid_t, uid_t, UCred};
