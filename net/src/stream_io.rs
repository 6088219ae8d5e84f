//! The IO surface of a stream socket, written once for `TcpStream` and `UnixStream`: readiness
//! (`ready`, `readable`, `writable` and their poll forms), the `try_*` calls, `try_io` and
//! `async_io`, and both families of IO traits: tokio's (`gort_io`, with reads straight into a
//! [`ReadBuf`](gort_io::ReadBuf)'s uninitialised part, `uninit.rs`) and the `futures` crate's
//! (for futures-based libraries and `gort-compat`).
//!
//! The traits are implemented for `&Stream` as well as `Stream`: reads and writes need no
//! exclusive access (the kernel orders them, and the poll descriptor keeps a waiter list per
//! direction), which is also why the split halves need no lock.

/// Implements the stream surface above for `$stream`, which must have an `io: Registered<T>`
/// field where `&T: Read + Write` and `SockRef: From<&T>`, and a
/// `shutdown_std(&self, Shutdown) -> io::Result<()>` method.
macro_rules! impl_stream_io {
    ($stream:ident) => {
        impl $stream {
            /// Waits until any readiness in `interest` is set and returns what is (tokio's
            /// `ready`). Readiness may be spurious: the next `try_read`/`try_write` can still
            /// fail with `WouldBlock`, which clears it.
            pub async fn ready(
                &self,
                interest: $crate::Interest,
            ) -> ::std::io::Result<$crate::Ready> {
                Ok(self.io.ready_interest(interest).await?.ready())
            }

            /// Waits until the stream may be readable (data, end of stream, or an error).
            pub async fn readable(&self) -> ::std::io::Result<()> {
                self.io
                    .ready(::gort_reactor::poll_desc::Direction::Read)
                    .await
            }

            /// Ready once the stream may be readable; otherwise registers `cx`'s waker for the
            /// next readiness (the poll form of `readable`, for hand-written futures).
            pub fn poll_read_ready(
                &self,
                cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                self.io
                    .poll_ready_latest(::gort_reactor::poll_desc::Direction::Read, cx)
            }

            /// Reads what is available now, or fails with `WouldBlock` (then wait with
            /// `readable` and try again). `Ok(0)`: end of stream, or an empty `buf`.
            pub fn try_read(&self, buf: &mut [u8]) -> ::std::io::Result<usize> {
                self.io
                    .try_io(::gort_reactor::poll_desc::Direction::Read, |mut stream| {
                        ::std::io::Read::read(&mut stream, buf)
                    })
            }

            /// [`try_read`](Self::try_read) into several buffers, in order (`readv`).
            pub fn try_read_vectored(
                &self,
                bufs: &mut [::std::io::IoSliceMut<'_>],
            ) -> ::std::io::Result<usize> {
                self.io
                    .try_io(::gort_reactor::poll_desc::Direction::Read, |mut stream| {
                        ::std::io::Read::read_vectored(&mut stream, bufs)
                    })
            }

            /// [`try_read`](Self::try_read) into the spare capacity of `buf` (a `BytesMut`, a
            /// `Vec<u8>`), which advances past what arrived; nothing is zeroed first.
            pub fn try_read_buf<B: ::bytes::BufMut>(
                &self,
                buf: &mut B,
            ) -> ::std::io::Result<usize> {
                self.io
                    .try_io(::gort_reactor::poll_desc::Direction::Read, |stream| {
                        $crate::uninit::recv_buf_mut(::socket2::SockRef::from(stream), buf)
                    })
            }

            /// Waits until the stream may be writable.
            pub async fn writable(&self) -> ::std::io::Result<()> {
                self.io
                    .ready(::gort_reactor::poll_desc::Direction::Write)
                    .await
            }

            /// Ready once the stream may be writable (the poll form of `writable`).
            pub fn poll_write_ready(
                &self,
                cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                self.io
                    .poll_ready_latest(::gort_reactor::poll_desc::Direction::Write, cx)
            }

            /// Writes what fits now, or fails with `WouldBlock`.
            pub fn try_write(&self, buf: &[u8]) -> ::std::io::Result<usize> {
                self.io
                    .try_io(::gort_reactor::poll_desc::Direction::Write, |mut stream| {
                        ::std::io::Write::write(&mut stream, buf)
                    })
            }

            /// [`try_write`](Self::try_write) from several buffers, in order (`writev`).
            pub fn try_write_vectored(
                &self,
                bufs: &[::std::io::IoSlice<'_>],
            ) -> ::std::io::Result<usize> {
                self.io
                    .try_io(::gort_reactor::poll_desc::Direction::Write, |mut stream| {
                        ::std::io::Write::write_vectored(&mut stream, bufs)
                    })
            }

            /// Runs `f`, a system call of the caller's on this socket's fd, if the socket may
            /// be ready for `interest`; fails with `WouldBlock` if it is not. A `WouldBlock`
            /// from `f` clears that readiness, so `f` must return it only when the fd said so.
            pub fn try_io<R>(
                &self,
                interest: $crate::Interest,
                f: impl FnOnce() -> ::std::io::Result<R>,
            ) -> ::std::io::Result<R> {
                self.io.try_io_interest(interest, |_| f())
            }

            /// [`try_io`](Self::try_io) in a loop: waits for `interest`, runs `f`, and on
            /// `WouldBlock` clears the readiness and waits again.
            pub async fn async_io<R>(
                &self,
                interest: $crate::Interest,
                mut f: impl FnMut() -> ::std::io::Result<R>,
            ) -> ::std::io::Result<R> {
                ::std::future::poll_fn(|cx| self.io.poll_io_interest(interest, cx, |_| f())).await
            }

            /// One read into `buf`'s unfilled part, parking until readable.
            pub(crate) fn poll_read_priv(
                &self,
                cx: &mut ::std::task::Context<'_>,
                buf: &mut ::gort_io::ReadBuf<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                let requested = buf.remaining();
                self.io
                    .poll_transfer(
                        ::gort_reactor::poll_desc::Direction::Read,
                        cx,
                        requested,
                        |stream| {
                            $crate::uninit::recv_read_buf(
                                ::socket2::SockRef::from(stream),
                                buf,
                                $crate::uninit::Take::Remove,
                            )
                        },
                    )
                    .map_ok(drop)
            }

            /// One write of `buf`, parking until writable.
            pub(crate) fn poll_write_priv(
                &self,
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

            /// One vectored write, parking until writable.
            pub(crate) fn poll_write_vectored_priv(
                &self,
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

            /// `poll_close`/`poll_shutdown`: shuts down the write side (the peer reads end of
            /// stream). A connection the peer already reset has no write side left to close
            /// (`NotConnected`): that is success for the `futures` trait, as closing twice is,
            /// so that closing a dead connection (hyper does it after every HTTP/1 connection)
            /// is not reported as a failure.
            fn close_write_side(&self) -> ::std::io::Result<()> {
                match self.shutdown_std(::std::net::Shutdown::Write) {
                    Err(err) if err.kind() == ::std::io::ErrorKind::NotConnected => Ok(()),
                    result => result,
                }
            }
        }

        impl AsRef<$stream> for $stream {
            fn as_ref(&self) -> &$stream {
                self
            }
        }

        $crate::stream_io::impl_tokio_traits!(&$stream);
        $crate::stream_io::impl_tokio_traits!($stream);

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
                self.poll_write_priv(cx, buf)
            }

            fn poll_write_vectored(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                bufs: &[::std::io::IoSlice<'_>],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                self.poll_write_vectored_priv(cx, bufs)
            }

            /// A socket has no user-space buffer to flush.
            fn poll_flush(
                self: ::std::pin::Pin<&mut Self>,
                _cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                ::std::task::Poll::Ready(Ok(()))
            }

            /// Shuts down the write side (`close_write_side`).
            fn poll_close(
                self: ::std::pin::Pin<&mut Self>,
                _cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                ::std::task::Poll::Ready(self.close_write_side())
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
                self.poll_write_priv(cx, buf)
            }

            fn poll_write_vectored(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                bufs: &[::std::io::IoSlice<'_>],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                self.poll_write_vectored_priv(cx, bufs)
            }

            fn poll_flush(
                self: ::std::pin::Pin<&mut Self>,
                _cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                ::std::task::Poll::Ready(Ok(()))
            }

            fn poll_close(
                self: ::std::pin::Pin<&mut Self>,
                _cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                ::std::task::Poll::Ready(self.close_write_side())
            }
        }
    };
}

/// tokio's `AsyncRead`/`AsyncWrite` for `$ty` (the stream or a shared reference to it), over
/// the stream's `poll_*_priv` methods.
macro_rules! impl_tokio_traits {
    ($ty:ty) => {
        impl ::gort_io::AsyncRead for $ty {
            /// Reads into `buf`'s unfilled part without zeroing it (`uninit.rs`).
            fn poll_read(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                buf: &mut ::gort_io::ReadBuf<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                self.poll_read_priv(cx, buf)
            }
        }

        impl ::gort_io::AsyncWrite for $ty {
            fn poll_write(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                buf: &[u8],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                self.poll_write_priv(cx, buf)
            }

            fn poll_write_vectored(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                bufs: &[::std::io::IoSlice<'_>],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                self.poll_write_vectored_priv(cx, bufs)
            }

            fn is_write_vectored(&self) -> bool {
                true
            }

            /// A socket has no user-space buffer to flush.
            fn poll_flush(
                self: ::std::pin::Pin<&mut Self>,
                _cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                ::std::task::Poll::Ready(Ok(()))
            }

            /// Shuts down the write side: the peer reads end of stream.
            fn poll_shutdown(
                self: ::std::pin::Pin<&mut Self>,
                _cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                ::std::task::Poll::Ready(self.shutdown_std(::std::net::Shutdown::Write))
            }
        }
    };
}

pub(crate) use {impl_stream_io, impl_tokio_traits};
