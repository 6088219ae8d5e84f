//! `TcpStream`'s halves (`halves.rs` writes them), plus what only TCP read halves have: `peek`.

use std::io;
use std::net::SocketAddr;
use std::task::{Context, Poll};

use crate::TcpStream;

crate::halves::stream_halves!(TcpStream, SocketAddr);

/// `peek` and `poll_peek` for a read half, from the stream's.
macro_rules! peek_methods {
    ($half:ty, |$this:ident| $stream_of:expr) => {
        impl $half {
            /// [`TcpStream::poll_peek`] through the half.
            pub fn poll_peek(
                &mut self,
                cx: &mut Context<'_>,
                buf: &mut gort_io::ReadBuf<'_>,
            ) -> Poll<io::Result<usize>> {
                let $this = &*self;
                $stream_of.poll_peek(cx, buf)
            }

            /// [`TcpStream::peek`] through the half: the next read returns the same bytes.
            pub async fn peek(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let $this = &*self;
                $stream_of.peek(buf).await
            }
        }
    };
}

peek_methods!(ReadHalf<'_>, |half| half.0);
peek_methods!(OwnedReadHalf, |half| &*half.stream);
