//! Read and write halves of a stream socket (`TcpStream`, `UnixStream`), borrowed or owned.
//!
//! A gort stream reads and writes through `&Stream` (the kernel orders concurrent calls, and the
//! poll descriptor keeps one waiter list per direction), so halves need no lock: a borrowed half
//! is a shared reference, an owned half an `Arc` of the stream, and every method forwards to the
//! stream's. tokio does the same. The types are written once, by [`stream_halves!`], and
//! instantiated in `tcp::split` and `unix::split` so that each protocol has its own named types
//! (`tcp::ReuniteError(read, write)` must be a tuple struct users can match on, which a type
//! alias of a generic struct cannot be).

/// Defines `ReadHalf<'a>`, `WriteHalf<'a>`, `OwnedReadHalf`, `OwnedWriteHalf` and
/// `ReuniteError` for `$stream`, whose addresses are `$addr`. `$stream` must have the methods
/// of `impl_stream_io!` and `local_addr`/`peer_addr`.
macro_rules! stream_halves {
    ($stream:ident, $addr:ty) => {
        /// The read half of a borrowed split (`split`): reads go to the stream while the write
        /// half writes.
        #[derive(Debug)]
        pub struct ReadHalf<'a>(&'a $stream);

        /// The write half of a borrowed split (`split`). Shutting it down shuts down the
        /// stream's write side.
        #[derive(Debug)]
        pub struct WriteHalf<'a>(&'a $stream);

        /// The read half of an owned split (`into_split`), which can move to another task.
        #[derive(Debug)]
        pub struct OwnedReadHalf {
            stream: ::std::sync::Arc<$stream>,
        }

        /// The write half of an owned split (`into_split`). Dropping it shuts down the
        /// stream's write side, so the peer reads end of stream (as in tokio), unless it was
        /// [`OwnedWriteHalf::forget`]-ed or reunited.
        #[derive(Debug)]
        pub struct OwnedWriteHalf {
            stream: ::std::sync::Arc<$stream>,
            shutdown_on_drop: bool,
        }

        /// The halves given to `reunite` came from different streams; both are handed back.
        #[derive(Debug)]
        pub struct ReuniteError(pub OwnedReadHalf, pub OwnedWriteHalf);

        impl ::std::fmt::Display for ReuniteError {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str("these halves were split from two different streams")
            }
        }

        impl ::std::error::Error for ReuniteError {}

        pub(crate) fn split(stream: &mut $stream) -> (ReadHalf<'_>, WriteHalf<'_>) {
            (ReadHalf(stream), WriteHalf(stream))
        }

        pub(crate) fn split_owned(stream: $stream) -> (OwnedReadHalf, OwnedWriteHalf) {
            let stream = ::std::sync::Arc::new(stream);
            (
                OwnedReadHalf {
                    stream: ::std::sync::Arc::clone(&stream),
                },
                OwnedWriteHalf {
                    stream,
                    shutdown_on_drop: true,
                },
            )
        }

        fn reunite(
            read: OwnedReadHalf,
            mut write: OwnedWriteHalf,
        ) -> ::std::result::Result<$stream, ReuniteError> {
            if !::std::sync::Arc::ptr_eq(&read.stream, &write.stream) {
                return Err(ReuniteError(read, write));
            }
            write.shutdown_on_drop = false;
            let stream = ::std::sync::Arc::clone(&write.stream);
            drop((read, write));
            Ok(::std::sync::Arc::into_inner(stream).unwrap_or_else(|| {
                unreachable!("both halves were just dropped, and nothing else holds the stream")
            }))
        }

        impl OwnedReadHalf {
            /// Puts the stream back together, if `other` came from the same `into_split`
            /// (otherwise both halves come back in the error).
            pub fn reunite(
                self,
                other: OwnedWriteHalf,
            ) -> ::std::result::Result<$stream, ReuniteError> {
                reunite(self, other)
            }
        }

        impl OwnedWriteHalf {
            /// Puts the stream back together, if `other` came from the same `into_split`.
            pub fn reunite(
                self,
                other: OwnedReadHalf,
            ) -> ::std::result::Result<$stream, ReuniteError> {
                reunite(other, self)
            }

            /// Drops the half without shutting down the write side.
            pub fn forget(mut self) {
                self.shutdown_on_drop = false;
            }
        }

        impl Drop for OwnedWriteHalf {
            fn drop(&mut self) {
                if self.shutdown_on_drop {
                    // The peer may already be gone (`ENOTCONN`); there is nobody to tell then.
                    let _ = self.stream.shutdown_std(::std::net::Shutdown::Write);
                }
            }
        }

        $crate::halves::half_methods!(ReadHalf<'_>, read, $stream, $addr, |half| half.0);
        $crate::halves::half_methods!(OwnedReadHalf, read, $stream, $addr, |half| &*half.stream);
        $crate::halves::half_methods!(WriteHalf<'_>, write, $stream, $addr, |half| half.0);
        $crate::halves::half_methods!(OwnedWriteHalf, write, $stream, $addr, |half| &*half.stream);
        $crate::halves::borrowed_write_impls!(WriteHalf<'_>, |half| half.0);

        impl ::futures::io::AsyncWrite for OwnedWriteHalf {
            fn poll_write(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                buf: &[u8],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                ::std::pin::Pin::new(&mut &*self.stream).poll_write(cx, buf)
            }

            fn poll_write_vectored(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                bufs: &[::std::io::IoSlice<'_>],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                ::std::pin::Pin::new(&mut &*self.stream).poll_write_vectored(cx, bufs)
            }

            fn poll_flush(
                self: ::std::pin::Pin<&mut Self>,
                _cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                ::std::task::Poll::Ready(Ok(()))
            }

            /// Shuts down the write side now; dropping the half later does not repeat it.
            fn poll_close(
                mut self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                let result = ::std::pin::Pin::new(&mut &*self.stream).poll_close(cx);
                if let ::std::task::Poll::Ready(Ok(())) = result {
                    self.shutdown_on_drop = false;
                }
                result
            }
        }

        impl ::gort_io::AsyncWrite for OwnedWriteHalf {
            fn poll_write(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                buf: &[u8],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                self.stream.poll_write_priv(cx, buf)
            }

            fn poll_write_vectored(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                bufs: &[::std::io::IoSlice<'_>],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                self.stream.poll_write_vectored_priv(cx, bufs)
            }

            fn is_write_vectored(&self) -> bool {
                true
            }

            fn poll_flush(
                self: ::std::pin::Pin<&mut Self>,
                _cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                ::std::task::Poll::Ready(Ok(()))
            }

            /// Shuts down the write side now; dropping the half later does not repeat it.
            fn poll_shutdown(
                mut self: ::std::pin::Pin<&mut Self>,
                _cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                let result = self.stream.shutdown_std(::std::net::Shutdown::Write);
                if result.is_ok() {
                    self.shutdown_on_drop = false;
                }
                ::std::task::Poll::Ready(result)
            }
        }
    };
}

/// The methods and IO traits of one half, `$half`, whose stream `$stream_of` borrows: the read
/// or the write side's share of the stream's own.
macro_rules! half_methods {
    ($half:ty, read, $stream:ident, $addr:ty, |$this:ident| $stream_of:expr) => {
        impl $half {
            /// Waits for any readiness in `interest` (tokio's `ready`); see the stream's.
            pub async fn ready(
                &self,
                interest: $crate::Interest,
            ) -> ::std::io::Result<$crate::Ready> {
                let $this = self;
                $stream_of.ready(interest).await
            }

            /// Waits until the stream may be readable.
            pub async fn readable(&self) -> ::std::io::Result<()> {
                let $this = self;
                $stream_of.readable().await
            }

            /// Reads what is available now, or fails with `WouldBlock`.
            pub fn try_read(&self, buf: &mut [u8]) -> ::std::io::Result<usize> {
                let $this = self;
                $stream_of.try_read(buf)
            }

            /// Reads into several buffers now, or fails with `WouldBlock`.
            pub fn try_read_vectored(
                &self,
                bufs: &mut [::std::io::IoSliceMut<'_>],
            ) -> ::std::io::Result<usize> {
                let $this = self;
                $stream_of.try_read_vectored(bufs)
            }

            /// Reads into the spare capacity of `buf` now, or fails with `WouldBlock`.
            pub fn try_read_buf<B: ::bytes::BufMut>(
                &self,
                buf: &mut B,
            ) -> ::std::io::Result<usize> {
                let $this = self;
                $stream_of.try_read_buf(buf)
            }

            /// The stream's peer address.
            pub fn peer_addr(&self) -> ::std::io::Result<$addr> {
                let $this = self;
                $stream_of.peer_addr()
            }

            /// The stream's local address.
            pub fn local_addr(&self) -> ::std::io::Result<$addr> {
                let $this = self;
                $stream_of.local_addr()
            }
        }

        impl AsRef<$stream> for $half {
            fn as_ref(&self) -> &$stream {
                let $this = self;
                $stream_of
            }
        }

        impl ::futures::io::AsyncRead for $half {
            fn poll_read(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                buf: &mut [u8],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                let $this = &*self;
                let mut stream = &*$stream_of;
                ::std::pin::Pin::new(&mut stream).poll_read(cx, buf)
            }

            fn poll_read_vectored(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                bufs: &mut [::std::io::IoSliceMut<'_>],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                let $this = &*self;
                let mut stream = &*$stream_of;
                ::std::pin::Pin::new(&mut stream).poll_read_vectored(cx, bufs)
            }
        }

        impl ::gort_io::AsyncRead for $half {
            fn poll_read(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                buf: &mut ::gort_io::ReadBuf<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                let $this = &*self;
                $stream_of.poll_read_priv(cx, buf)
            }
        }
    };
    ($half:ty, write, $stream:ident, $addr:ty, |$this:ident| $stream_of:expr) => {
        impl $half {
            /// Waits for any readiness in `interest` (tokio's `ready`); see the stream's.
            pub async fn ready(
                &self,
                interest: $crate::Interest,
            ) -> ::std::io::Result<$crate::Ready> {
                let $this = self;
                $stream_of.ready(interest).await
            }

            /// Waits until the stream may be writable.
            pub async fn writable(&self) -> ::std::io::Result<()> {
                let $this = self;
                $stream_of.writable().await
            }

            /// Writes what fits now, or fails with `WouldBlock`.
            pub fn try_write(&self, buf: &[u8]) -> ::std::io::Result<usize> {
                let $this = self;
                $stream_of.try_write(buf)
            }

            /// Writes from several buffers now, or fails with `WouldBlock`.
            pub fn try_write_vectored(
                &self,
                bufs: &[::std::io::IoSlice<'_>],
            ) -> ::std::io::Result<usize> {
                let $this = self;
                $stream_of.try_write_vectored(bufs)
            }

            /// The stream's peer address.
            pub fn peer_addr(&self) -> ::std::io::Result<$addr> {
                let $this = self;
                $stream_of.peer_addr()
            }

            /// The stream's local address.
            pub fn local_addr(&self) -> ::std::io::Result<$addr> {
                let $this = self;
                $stream_of.local_addr()
            }
        }

        impl AsRef<$stream> for $half {
            fn as_ref(&self) -> &$stream {
                let $this = self;
                $stream_of
            }
        }
    };
}

/// The IO-trait impls of a borrowed write half: everything forwards to the stream (the owned
/// half has its own, which remember that the write side was shut down).
macro_rules! borrowed_write_impls {
    ($half:ty, |$this:ident| $stream_of:expr) => {
        impl ::futures::io::AsyncWrite for $half {
            fn poll_write(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                buf: &[u8],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                let $this = &*self;
                let mut stream = &*$stream_of;
                ::std::pin::Pin::new(&mut stream).poll_write(cx, buf)
            }

            fn poll_write_vectored(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                bufs: &[::std::io::IoSlice<'_>],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                let $this = &*self;
                let mut stream = &*$stream_of;
                ::std::pin::Pin::new(&mut stream).poll_write_vectored(cx, bufs)
            }

            fn poll_flush(
                self: ::std::pin::Pin<&mut Self>,
                _cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                ::std::task::Poll::Ready(Ok(()))
            }

            fn poll_close(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                let $this = &*self;
                let mut stream = &*$stream_of;
                ::std::pin::Pin::new(&mut stream).poll_close(cx)
            }
        }

        impl ::gort_io::AsyncWrite for $half {
            fn poll_write(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                buf: &[u8],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                let $this = &*self;
                $stream_of.poll_write_priv(cx, buf)
            }

            fn poll_write_vectored(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                bufs: &[::std::io::IoSlice<'_>],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                let $this = &*self;
                $stream_of.poll_write_vectored_priv(cx, bufs)
            }

            fn is_write_vectored(&self) -> bool {
                true
            }

            fn poll_flush(
                self: ::std::pin::Pin<&mut Self>,
                _cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                ::std::task::Poll::Ready(Ok(()))
            }

            fn poll_shutdown(
                self: ::std::pin::Pin<&mut Self>,
                _cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                let $this = &*self;
                ::std::task::Poll::Ready($stream_of.shutdown_std(::std::net::Shutdown::Write))
            }
        }
    };
}

pub(crate) use {borrowed_write_impls, half_methods, stream_halves};
