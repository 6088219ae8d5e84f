//! TCP: [`TcpListener`](crate::TcpListener), [`TcpStream`](crate::TcpStream) and
//! [`TcpSocket`](crate::TcpSocket) (re-exported from `net`), and the stream's split halves,
//! which are what this module exports (as tokio's `net::tcp` does).

pub(crate) mod listener;
pub(crate) mod socket;
pub(crate) mod split;
pub(crate) mod stream;

pub use split::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, ReuniteError, WriteHalf};
