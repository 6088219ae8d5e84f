//! The futures of `AsyncReadExt::read_u8` ... `read_f64_le`: read exactly the value's size,
//! then decode it big-endian (network order) or, for the `_le` ones, little-endian.
//!
//! The bytes read so far live in the future, so dropping a multi-byte read halfway loses them
//! (not cancel safe, as tokio documents); the one-byte reads complete in the poll that reads
//! their byte, so they are cancel safe. An end of file before the last byte is an
//! `UnexpectedEof` error.

use crate::read_futures::early_eof;
use crate::{AsyncRead, ReadBuf};
use pin_project_lite::pin_project;
use std::future::Future;
use std::io;
use std::marker::PhantomPinned;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Defines a future reading one `$ty` from `$len` bytes decoded by `$decode`.
macro_rules! read_number_future {
    ($(#[$doc:meta])* $name:ident, $ty:ty, $decode:ident) => {
        pin_project! {
            $(#[$doc])*
            #[derive(Debug)]
            #[must_use = "futures do nothing unless you `.await` or poll them"]
            pub struct $name<R> {
                #[pin]
                src: R,
                bytes: [u8; std::mem::size_of::<$ty>()],
                read: usize,
                #[pin]
                _pin: PhantomPinned,
            }
        }

        impl<R> $name<R> {
            pub(crate) fn new(src: R) -> Self {
                $name {
                    src,
                    bytes: [0; std::mem::size_of::<$ty>()],
                    read: 0,
                    _pin: PhantomPinned,
                }
            }
        }

        impl<R: AsyncRead> Future for $name<R> {
            type Output = io::Result<$ty>;

            fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
                let mut me = self.project();
                while *me.read < me.bytes.len() {
                    let mut buf = ReadBuf::new(&mut me.bytes[*me.read..]);
                    match me.src.as_mut().poll_read(cx, &mut buf) {
                        Poll::Pending => return Poll::Pending,
                        Poll::Ready(Ok(())) if buf.filled().is_empty() => {
                            return Poll::Ready(Err(early_eof()));
                        }
                        Poll::Ready(Ok(())) => *me.read += buf.filled().len(),
                        Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {}
                        Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                    }
                }
                Poll::Ready(Ok(<$ty>::$decode(*me.bytes)))
            }
        }
    };
}

read_number_future!(
    /// The future of `AsyncReadExt::read_u8`.
    ReadU8, u8, from_be_bytes
);
read_number_future!(
    /// The future of `AsyncReadExt::read_i8`.
    ReadI8, i8, from_be_bytes
);
read_number_future!(
    /// The future of `AsyncReadExt::read_u16`.
    ReadU16, u16, from_be_bytes
);
read_number_future!(
    /// The future of `AsyncReadExt::read_i16`.
    ReadI16, i16, from_be_bytes
);
read_number_future!(
    /// The future of `AsyncReadExt::read_u32`.
    ReadU32, u32, from_be_bytes
);
read_number_future!(
    /// The future of `AsyncReadExt::read_i32`.
    ReadI32, i32, from_be_bytes
);
read_number_future!(
    /// The future of `AsyncReadExt::read_u64`.
    ReadU64, u64, from_be_bytes
);
read_number_future!(
    /// The future of `AsyncReadExt::read_i64`.
    ReadI64, i64, from_be_bytes
);
read_number_future!(
    /// The future of `AsyncReadExt::read_u128`.
    ReadU128, u128, from_be_bytes
);
read_number_future!(
    /// The future of `AsyncReadExt::read_i128`.
    ReadI128, i128, from_be_bytes
);
read_number_future!(
    /// The future of `AsyncReadExt::read_f32`.
    ReadF32, f32, from_be_bytes
);
read_number_future!(
    /// The future of `AsyncReadExt::read_f64`.
    ReadF64, f64, from_be_bytes
);
read_number_future!(
    /// The future of `AsyncReadExt::read_u16_le`.
    ReadU16Le, u16, from_le_bytes
);
read_number_future!(
    /// The future of `AsyncReadExt::read_i16_le`.
    ReadI16Le, i16, from_le_bytes
);
read_number_future!(
    /// The future of `AsyncReadExt::read_u32_le`.
    ReadU32Le, u32, from_le_bytes
);
read_number_future!(
    /// The future of `AsyncReadExt::read_i32_le`.
    ReadI32Le, i32, from_le_bytes
);
read_number_future!(
    /// The future of `AsyncReadExt::read_u64_le`.
    ReadU64Le, u64, from_le_bytes
);
read_number_future!(
    /// The future of `AsyncReadExt::read_i64_le`.
    ReadI64Le, i64, from_le_bytes
);
read_number_future!(
    /// The future of `AsyncReadExt::read_u128_le`.
    ReadU128Le, u128, from_le_bytes
);
read_number_future!(
    /// The future of `AsyncReadExt::read_i128_le`.
    ReadI128Le, i128, from_le_bytes
);
read_number_future!(
    /// The future of `AsyncReadExt::read_f32_le`.
    ReadF32Le, f32, from_le_bytes
);
read_number_future!(
    /// The future of `AsyncReadExt::read_f64_le`.
    ReadF64Le, f64, from_le_bytes
);
