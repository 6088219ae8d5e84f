//! `UnixStream`'s halves (`halves.rs` writes them).

use crate::unix::SocketAddr;
use crate::UnixStream;

crate::halves::stream_halves!(UnixStream, SocketAddr);
