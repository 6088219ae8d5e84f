//! The `futures` IO traits for stream sockets, written once for `TcpStream` and `UnixStream`.
//!
//! Each stream implements `AsyncRead`/`AsyncWrite` for `&Stream` (reads and writes need no
//! exclusive access: the kernel orders them) and forwards the owned impls to it.

/// Implements `readable`/`writable`, their poll forms, `try_read`/`try_write`, `AsyncRead` and
/// `AsyncWrite` for `&$stream` and `$stream`, and the split halves' `ShutdownWrite`. The stream must have an `io: Registered<T>` field where `&T: Read + Write`,
/// and a `shutdown(Shutdown)` method.
macro_rules! impl_stream_io {
    ($stream:ident) => {
        impl $stream {
            /// Waits until the stream may be readable (data, end of stream, or an error).
            pub async fn readable(&self) -> ::std::io::Result<()> {
                self.io
                    .ready(::gort_reactor::poll_desc::Direction::Read)
                    .await
            }

            /// Waits until the stream may be writable.
            pub async fn writable(&self) -> ::std::io::Result<()> {
                self.io
                    .ready(::gort_reactor::poll_desc::Direction::Write)
                    .await
            }

            /// Ready once the stream may be readable; otherwise registers `cx`'s waker for the
            /// next readiness (the poll form of `readable`, for hand-written futures).
            pub fn poll_read_ready(
                &self,
                cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                self.io
                    .poll_ready(::gort_reactor::poll_desc::Direction::Read, cx)
            }

            /// Ready once the stream may be writable (the poll form of `writable`).
            pub fn poll_write_ready(
                &self,
                cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                self.io
                    .poll_ready(::gort_reactor::poll_desc::Direction::Write, cx)
            }

            /// Reads what is available now, or fails with `WouldBlock` (then wait with
            /// `readable` and try again).
            pub fn try_read(&self, buf: &mut [u8]) -> ::std::io::Result<usize> {
                self.io
                    .try_io(::gort_reactor::poll_desc::Direction::Read, |mut stream| {
                        ::std::io::Read::read(&mut stream, buf)
                    })
            }

            /// Writes what fits now, or fails with `WouldBlock`.
            pub fn try_write(&self, buf: &[u8]) -> ::std::io::Result<usize> {
                self.io
                    .try_io(::gort_reactor::poll_desc::Direction::Write, |mut stream| {
                        ::std::io::Write::write(&mut stream, buf)
                    })
            }
        }

        impl $crate::split::ShutdownWrite for $stream {
            fn shutdown_write(&self) -> ::std::io::Result<()> {
                self.shutdown(::std::net::Shutdown::Write)
            }
        }

        impl ::futures::io::AsyncRead for &$stream {
            fn poll_read(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                buf: &mut [u8],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                let requested = buf.len();
                self.io.poll_transfer(
                    ::gort_reactor::poll_desc::Direction::Read,
                    cx,
                    requested,
                    |mut stream| ::std::io::Read::read(&mut stream, buf),
                )
            }

            fn poll_read_vectored(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                bufs: &mut [::std::io::IoSliceMut<'_>],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                let requested = bufs.iter().map(|buf| buf.len()).sum();
                self.io.poll_transfer(
                    ::gort_reactor::poll_desc::Direction::Read,
                    cx,
                    requested,
                    |mut stream| ::std::io::Read::read_vectored(&mut stream, bufs),
                )
            }
        }

        impl ::futures::io::AsyncWrite for &$stream {
            fn poll_write(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                buf: &[u8],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                self.io.poll_transfer(
                    ::gort_reactor::poll_desc::Direction::Write,
                    cx,
                    buf.len(),
                    |mut stream| ::std::io::Write::write(&mut stream, buf),
                )
            }

            fn poll_write_vectored(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                bufs: &[::std::io::IoSlice<'_>],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                let requested = bufs.iter().map(|buf| buf.len()).sum();
                self.io.poll_transfer(
                    ::gort_reactor::poll_desc::Direction::Write,
                    cx,
                    requested,
                    |mut stream| ::std::io::Write::write_vectored(&mut stream, bufs),
                )
            }

            /// A socket has no user-space buffer to flush.
            fn poll_flush(
                self: ::std::pin::Pin<&mut Self>,
                _cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                ::std::task::Poll::Ready(Ok(()))
            }

            /// Shuts down the write side (the peer reads end of stream). A connection the peer
            /// already reset has no write side left to close (`NotConnected` from `shutdown`):
            /// that is success here, as closing twice is, so that closing a dead connection
            /// (hyper does it after every HTTP/1 connection) is not reported as a failure.
            fn poll_close(
                self: ::std::pin::Pin<&mut Self>,
                _cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                ::std::task::Poll::Ready(match self.shutdown(::std::net::Shutdown::Write) {
                    Err(err) if err.kind() == ::std::io::ErrorKind::NotConnected => Ok(()),
                    result => result,
                })
            }
        }

        impl ::futures::io::AsyncRead for $stream {
            fn poll_read(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                buf: &mut [u8],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                ::std::pin::Pin::new(&mut &*self).poll_read(cx, buf)
            }

            fn poll_read_vectored(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                bufs: &mut [::std::io::IoSliceMut<'_>],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                ::std::pin::Pin::new(&mut &*self).poll_read_vectored(cx, bufs)
            }
        }

        impl ::futures::io::AsyncWrite for $stream {
            fn poll_write(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                buf: &[u8],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                ::std::pin::Pin::new(&mut &*self).poll_write(cx, buf)
            }

            fn poll_write_vectored(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                bufs: &[::std::io::IoSlice<'_>],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                ::std::pin::Pin::new(&mut &*self).poll_write_vectored(cx, bufs)
            }

            fn poll_flush(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                ::std::pin::Pin::new(&mut &*self).poll_flush(cx)
            }

            fn poll_close(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                ::std::pin::Pin::new(&mut &*self).poll_close(cx)
            }
        }
    };
}

pub(crate) use impl_stream_io;
