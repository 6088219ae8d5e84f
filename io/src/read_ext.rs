//! `AsyncReadExt`: the `async` methods every [`AsyncRead`] gets, each returning a future
//! that borrows the reader (see `read_futures.rs`, `read_to_end.rs`, `read_int.rs`).

use crate::read_futures::{Read, ReadExact, ReadIntoBuf};
use crate::read_int::{
    ReadF32, ReadF32Le, ReadF64, ReadF64Le, ReadI128, ReadI128Le, ReadI16, ReadI16Le, ReadI32,
    ReadI32Le, ReadI64, ReadI64Le, ReadI8, ReadU128, ReadU128Le, ReadU16, ReadU16Le, ReadU32,
    ReadU32Le, ReadU64, ReadU64Le, ReadU8,
};
use crate::read_to_end::{ReadToEnd, ReadToString};
use crate::{AsyncRead, Chain, Take};
use bytes::BufMut;

/// Defines the `read_<number>` methods: each reads exactly the number's size and decodes it.
macro_rules! read_number_methods {
    ($($(#[$doc:meta])* fn $name:ident -> $future:ident;)*) => {$(
        $(#[$doc])*
        fn $name(&mut self) -> $future<&mut Self>
        where
            Self: Unpin,
        {
            $future::new(self)
        }
    )*};
}

/// `async` reading methods for every [`AsyncRead`] (tokio's `AsyncReadExt`).
///
/// ```
/// use gort_io::AsyncReadExt;
/// # futures_lite_block_on(async {
/// let mut source: &[u8] = b"\x00\x00\x01\x00rest";
/// assert_eq!(source.read_u32().await.unwrap(), 256);
/// let mut rest = String::new();
/// source.read_to_string(&mut rest).await.unwrap();
/// assert_eq!(rest, "rest");
/// # });
/// # fn futures_lite_block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     let waker = std::task::Waker::noop();
/// #     let mut f = std::pin::pin!(f);
/// #     loop {
/// #         if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut std::task::Context::from_waker(&waker)) { return v; }
/// #     }
/// # }
/// ```
pub trait AsyncReadExt: AsyncRead {
    /// A reader that reads all of `self`, then all of `next`.
    fn chain<R>(self, next: R) -> Chain<Self, R>
    where
        Self: Sized,
        R: AsyncRead,
    {
        Chain::new(self, next)
    }

    /// Reads some bytes into `buf`, returning how many (`0`: end of file, or `buf` is empty).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: if the future is dropped before it completes, no bytes were read.
    fn read<'a>(&'a mut self, buf: &'a mut [u8]) -> Read<'a, Self>
    where
        Self: Unpin,
    {
        Read::new(self, buf)
    }

    /// Reads some bytes into the spare room of `buf` (a `Vec<u8>`, `BytesMut`, ...) and
    /// advances it, returning how many (`0`: end of file, or `buf` has no room left). The room
    /// is handed to the reader uninitialised, so nothing is zeroed first.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: if the future is dropped before it completes, no bytes were read.
    fn read_buf<'a, B>(&'a mut self, buf: &'a mut B) -> ReadIntoBuf<'a, Self, B>
    where
        Self: Unpin,
        B: BufMut + ?Sized,
    {
        ReadIntoBuf::new(self, buf)
    }

    /// Reads exactly `buf.len()` bytes, returning that length. End of file first is an
    /// [`UnexpectedEof`](std::io::ErrorKind::UnexpectedEof) error (the bytes before it are in
    /// `buf`); `Interrupted` errors are retried.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: if the future is dropped early, part of `buf` may have been filled,
    /// and how much is not known.
    fn read_exact<'a>(&'a mut self, buf: &'a mut [u8]) -> ReadExact<'a, Self>
    where
        Self: Unpin,
    {
        ReadExact::new(self, buf)
    }

    read_number_methods! {
        /// Reads an unsigned byte. End of file is an `UnexpectedEof` error.
        ///
        /// # Cancel safety
        ///
        /// Cancel safe: if the future is dropped early, nothing was read.
        fn read_u8 -> ReadU8;
        /// Reads a signed byte. End of file is an `UnexpectedEof` error.
        ///
        /// # Cancel safety
        ///
        /// Cancel safe: if the future is dropped early, nothing was read.
        fn read_i8 -> ReadI8;
        /// Reads a big-endian `u16`. End of file first is an `UnexpectedEof` error.
        ///
        /// # Cancel safety
        ///
        /// Not cancel safe: dropped early, the bytes it read are lost.
        fn read_u16 -> ReadU16;
        /// Reads a big-endian `i16`. End of file first is an `UnexpectedEof` error.
        ///
        /// # Cancel safety
        ///
        /// Not cancel safe: dropped early, the bytes it read are lost.
        fn read_i16 -> ReadI16;
        /// Reads a big-endian `u32`. End of file first is an `UnexpectedEof` error.
        ///
        /// # Cancel safety
        ///
        /// Not cancel safe: dropped early, the bytes it read are lost.
        fn read_u32 -> ReadU32;
        /// Reads a big-endian `i32`. End of file first is an `UnexpectedEof` error.
        ///
        /// # Cancel safety
        ///
        /// Not cancel safe: dropped early, the bytes it read are lost.
        fn read_i32 -> ReadI32;
        /// Reads a big-endian `u64`. End of file first is an `UnexpectedEof` error.
        ///
        /// # Cancel safety
        ///
        /// Not cancel safe: dropped early, the bytes it read are lost.
        fn read_u64 -> ReadU64;
        /// Reads a big-endian `i64`. End of file first is an `UnexpectedEof` error.
        ///
        /// # Cancel safety
        ///
        /// Not cancel safe: dropped early, the bytes it read are lost.
        fn read_i64 -> ReadI64;
        /// Reads a big-endian `u128`. End of file first is an `UnexpectedEof` error.
        ///
        /// # Cancel safety
        ///
        /// Not cancel safe: dropped early, the bytes it read are lost.
        fn read_u128 -> ReadU128;
        /// Reads a big-endian `i128`. End of file first is an `UnexpectedEof` error.
        ///
        /// # Cancel safety
        ///
        /// Not cancel safe: dropped early, the bytes it read are lost.
        fn read_i128 -> ReadI128;
        /// Reads a big-endian IEEE 754 `f32`. End of file first is an `UnexpectedEof` error.
        ///
        /// # Cancel safety
        ///
        /// Not cancel safe: dropped early, the bytes it read are lost.
        fn read_f32 -> ReadF32;
        /// Reads a big-endian IEEE 754 `f64`. End of file first is an `UnexpectedEof` error.
        ///
        /// # Cancel safety
        ///
        /// Not cancel safe: dropped early, the bytes it read are lost.
        fn read_f64 -> ReadF64;
        /// Reads a little-endian `u16`. End of file first is an `UnexpectedEof` error.
        ///
        /// # Cancel safety
        ///
        /// Not cancel safe: dropped early, the bytes it read are lost.
        fn read_u16_le -> ReadU16Le;
        /// Reads a little-endian `i16`. End of file first is an `UnexpectedEof` error.
        ///
        /// # Cancel safety
        ///
        /// Not cancel safe: dropped early, the bytes it read are lost.
        fn read_i16_le -> ReadI16Le;
        /// Reads a little-endian `u32`. End of file first is an `UnexpectedEof` error.
        ///
        /// # Cancel safety
        ///
        /// Not cancel safe: dropped early, the bytes it read are lost.
        fn read_u32_le -> ReadU32Le;
        /// Reads a little-endian `i32`. End of file first is an `UnexpectedEof` error.
        ///
        /// # Cancel safety
        ///
        /// Not cancel safe: dropped early, the bytes it read are lost.
        fn read_i32_le -> ReadI32Le;
        /// Reads a little-endian `u64`. End of file first is an `UnexpectedEof` error.
        ///
        /// # Cancel safety
        ///
        /// Not cancel safe: dropped early, the bytes it read are lost.
        fn read_u64_le -> ReadU64Le;
        /// Reads a little-endian `i64`. End of file first is an `UnexpectedEof` error.
        ///
        /// # Cancel safety
        ///
        /// Not cancel safe: dropped early, the bytes it read are lost.
        fn read_i64_le -> ReadI64Le;
        /// Reads a little-endian `u128`. End of file first is an `UnexpectedEof` error.
        ///
        /// # Cancel safety
        ///
        /// Not cancel safe: dropped early, the bytes it read are lost.
        fn read_u128_le -> ReadU128Le;
        /// Reads a little-endian `i128`. End of file first is an `UnexpectedEof` error.
        ///
        /// # Cancel safety
        ///
        /// Not cancel safe: dropped early, the bytes it read are lost.
        fn read_i128_le -> ReadI128Le;
        /// Reads a little-endian IEEE 754 `f32`. End of file first is an `UnexpectedEof`
        /// error.
        ///
        /// # Cancel safety
        ///
        /// Not cancel safe: dropped early, the bytes it read are lost.
        fn read_f32_le -> ReadF32Le;
        /// Reads a little-endian IEEE 754 `f64`. End of file first is an `UnexpectedEof`
        /// error.
        ///
        /// # Cancel safety
        ///
        /// Not cancel safe: dropped early, the bytes it read are lost.
        fn read_f64_le -> ReadF64Le;
    }

    /// Reads to end of file, appending to `buf`; returns the number of bytes appended. On an
    /// error, the bytes read before it stay in `buf`; `Interrupted` errors are retried.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe in the sense that the count is lost, but every byte read is in `buf`
    /// at once, so dropping the future early loses no data.
    fn read_to_end<'a>(&'a mut self, buf: &'a mut Vec<u8>) -> ReadToEnd<'a, Self>
    where
        Self: Unpin,
    {
        ReadToEnd::new(self, buf)
    }

    /// Reads to end of file, appending to `dst`; returns the number of bytes appended. If the
    /// data is not UTF-8 the error is [`InvalidData`](std::io::ErrorKind::InvalidData); on it
    /// or any IO error, `dst` keeps exactly its original contents.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: while the future is pending, `dst` is empty (its contents are held by
    /// the future), and dropping the future loses them along with the bytes read.
    fn read_to_string<'a>(&'a mut self, dst: &'a mut String) -> ReadToString<'a, Self>
    where
        Self: Unpin,
    {
        ReadToString::new(self, dst)
    }

    /// A reader that yields at most `limit` bytes of `self`, then end of file.
    fn take(self, limit: u64) -> Take<Self>
    where
        Self: Sized,
    {
        Take::new(self, limit)
    }
}

impl<R: AsyncRead + ?Sized> AsyncReadExt for R {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{block_on, is_unpin, poll_once, Trickle};
    use std::io::{Cursor, ErrorKind};

    #[test]
    fn read_returns_what_one_poll_gave() {
        let mut src = Trickle::new(b"hello world", 4);
        let mut buf = [0u8; 16];
        assert_eq!(block_on(src.read(&mut buf)).unwrap(), 4);
        assert_eq!(&buf[..4], b"hell");
        let mut empty: [u8; 0] = [];
        assert_eq!(block_on(src.read(&mut empty)).unwrap(), 0);
    }

    #[test]
    fn read_exact_fills_across_polls_and_reports_early_eof() {
        let mut src = Trickle::new(b"abcdefg", 3);
        let mut buf = [0u8; 5];
        assert_eq!(block_on(src.read_exact(&mut buf)).unwrap(), 5);
        assert_eq!(&buf, b"abcde");
        let err = block_on(src.read_exact(&mut buf)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::UnexpectedEof);
        assert_eq!(&buf[..2], b"fg", "bytes before end of file are kept");
    }

    #[test]
    fn read_exact_retries_interrupted() {
        let mut src = Trickle::new(b"ab", 1);
        src.error_at_end = Some(ErrorKind::Interrupted);
        let mut buf = [0u8; 3];
        // Two bytes, then Interrupted (retried), then end of file.
        let err = block_on(src.read_exact(&mut buf)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::UnexpectedEof);
    }

    #[test]
    fn read_buf_appends_to_a_vec_without_zeroing_and_stops_when_full() {
        let mut src: &[u8] = b"0123456789";
        let mut vec = Vec::with_capacity(4);
        let n = block_on(src.read_buf(&mut vec)).unwrap();
        assert!(n > 0 && n <= 10);
        assert_eq!(&vec[..], &b"0123456789"[..n]);
        let mut full = [0u8; 0];
        let mut slice = &mut full[..];
        assert_eq!(block_on(src.read_buf(&mut slice)).unwrap(), 0);
    }

    #[test]
    fn read_buf_into_bytes_mut() {
        let mut src = Cursor::new(b"bytes".to_vec());
        let mut buf = bytes::BytesMut::with_capacity(2);
        let mut total = 0;
        loop {
            buf.reserve(2);
            match block_on(src.read_buf(&mut buf)).unwrap() {
                0 => break,
                n => total += n,
            }
        }
        assert_eq!(total, 5);
        assert_eq!(&buf[..], b"bytes");
    }

    #[test]
    fn numbers_big_endian_and_little_endian() {
        let bytes = [0x01, 0x02, 0x03, 0x04, 0x01, 0x02, 0x03, 0x04, 0xff];
        let mut src = Trickle::new(&bytes, 1);
        assert_eq!(block_on(src.read_u32()).unwrap(), 0x0102_0304);
        assert_eq!(block_on(src.read_u32_le()).unwrap(), 0x0403_0201);
        assert_eq!(block_on(src.read_i8()).unwrap(), -1);
        let err = block_on(src.read_u16()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::UnexpectedEof);

        let mut all: &[u8] = &[
            0x3f, 0x80, 0, 0, // 1.0f32 BE
            0, 0, 0x80, 0x3f, // 1.0f32 LE
            0xff, 0xfe, // -2i16 BE
        ];
        assert_eq!(block_on(all.read_f32()).unwrap(), 1.0);
        assert_eq!(block_on(all.read_f32_le()).unwrap(), 1.0);
        assert_eq!(block_on(all.read_i16()).unwrap(), -2);
        let mut wide: &[u8] = &[0u8; 15];
        assert_eq!(
            block_on(wide.read_u128()).unwrap_err().kind(),
            ErrorKind::UnexpectedEof
        );
    }

    #[test]
    fn read_u8_is_cancel_safe() {
        let mut src = Trickle::new(b"xy", 1);
        {
            let mut first = Box::pin(src.read_u8());
            assert!(poll_once(&mut first).is_pending()); // dropped before reading anything
        }
        assert_eq!(block_on(src.read_u8()).unwrap(), b'x');
    }

    #[test]
    fn read_futures_are_not_unpin_like_tokios() {
        let mut src: &[u8] = b"";
        let mut buf = [0u8; 1];
        assert!(!is_unpin!(src.read(&mut buf)));
        assert!(!is_unpin!(src.read_u32()));
        assert!(is_unpin!(src));
        assert!(is_unpin!((&b""[..]).take(1)));
    }
}
