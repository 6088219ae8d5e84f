//! The futures of `AsyncWriteExt::write_u8` ... `write_f64_le`: encode the value big-endian
//! (network order) or, for the `_le` ones, little-endian, then write all of its bytes.
//!
//! Dropping a multi-byte write halfway may leave part of the value written (not cancel safe);
//! a sink that takes no byte (`Ok(0)`) is a `WriteZero` error.

use crate::AsyncWrite;
use pin_project_lite::pin_project;
use std::future::Future;
use std::io;
use std::marker::PhantomPinned;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Defines a future writing one `$ty` encoded by `$encode`.
macro_rules! write_number_future {
    ($(#[$doc:meta])* $name:ident, $ty:ty, $encode:ident) => {
        pin_project! {
            $(#[$doc])*
            #[derive(Debug)]
            #[must_use = "futures do nothing unless you `.await` or poll them"]
            pub struct $name<W> {
                #[pin]
                dst: W,
                bytes: [u8; std::mem::size_of::<$ty>()],
                written: usize,
                #[pin]
                _pin: PhantomPinned,
            }
        }

        impl<W> $name<W> {
            pub(crate) fn new(dst: W, value: $ty) -> Self {
                $name {
                    dst,
                    bytes: value.$encode(),
                    written: 0,
                    _pin: PhantomPinned,
                }
            }
        }

        impl<W: AsyncWrite> Future for $name<W> {
            type Output = io::Result<()>;

            fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
                let mut me = self.project();
                while *me.written < me.bytes.len() {
                    match me.dst.as_mut().poll_write(cx, &me.bytes[*me.written..]) {
                        Poll::Pending => return Poll::Pending,
                        Poll::Ready(Ok(0)) => {
                            return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
                        }
                        Poll::Ready(Ok(n)) => *me.written += n,
                        Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {}
                        Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                    }
                }
                Poll::Ready(Ok(()))
            }
        }
    };
}

write_number_future!(
    /// The future of `AsyncWriteExt::write_u8`.
    WriteU8, u8, to_be_bytes
);
write_number_future!(
    /// The future of `AsyncWriteExt::write_i8`.
    WriteI8, i8, to_be_bytes
);
write_number_future!(
    /// The future of `AsyncWriteExt::write_u16`.
    WriteU16, u16, to_be_bytes
);
write_number_future!(
    /// The future of `AsyncWriteExt::write_i16`.
    WriteI16, i16, to_be_bytes
);
write_number_future!(
    /// The future of `AsyncWriteExt::write_u32`.
    WriteU32, u32, to_be_bytes
);
write_number_future!(
    /// The future of `AsyncWriteExt::write_i32`.
    WriteI32, i32, to_be_bytes
);
write_number_future!(
    /// The future of `AsyncWriteExt::write_u64`.
    WriteU64, u64, to_be_bytes
);
write_number_future!(
    /// The future of `AsyncWriteExt::write_i64`.
    WriteI64, i64, to_be_bytes
);
write_number_future!(
    /// The future of `AsyncWriteExt::write_u128`.
    WriteU128, u128, to_be_bytes
);
write_number_future!(
    /// The future of `AsyncWriteExt::write_i128`.
    WriteI128, i128, to_be_bytes
);
write_number_future!(
    /// The future of `AsyncWriteExt::write_f32`.
    WriteF32, f32, to_be_bytes
);
write_number_future!(
    /// The future of `AsyncWriteExt::write_f64`.
    WriteF64, f64, to_be_bytes
);
write_number_future!(
    /// The future of `AsyncWriteExt::write_u16_le`.
    WriteU16Le, u16, to_le_bytes
);
write_number_future!(
    /// The future of `AsyncWriteExt::write_i16_le`.
    WriteI16Le, i16, to_le_bytes
);
write_number_future!(
    /// The future of `AsyncWriteExt::write_u32_le`.
    WriteU32Le, u32, to_le_bytes
);
write_number_future!(
    /// The future of `AsyncWriteExt::write_i32_le`.
    WriteI32Le, i32, to_le_bytes
);
write_number_future!(
    /// The future of `AsyncWriteExt::write_u64_le`.
    WriteU64Le, u64, to_le_bytes
);
write_number_future!(
    /// The future of `AsyncWriteExt::write_i64_le`.
    WriteI64Le, i64, to_le_bytes
);
write_number_future!(
    /// The future of `AsyncWriteExt::write_u128_le`.
    WriteU128Le, u128, to_le_bytes
);
write_number_future!(
    /// The future of `AsyncWriteExt::write_i128_le`.
    WriteI128Le, i128, to_le_bytes
);
write_number_future!(
    /// The future of `AsyncWriteExt::write_f32_le`.
    WriteF32Le, f32, to_le_bytes
);
write_number_future!(
    /// The future of `AsyncWriteExt::write_f64_le`.
    WriteF64Le, f64, to_le_bytes
);
