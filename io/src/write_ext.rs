//! `AsyncWriteExt`: the `async` methods every [`AsyncWrite`] gets, each returning a future
//! that borrows the writer (see `write_futures.rs`, `write_int.rs`).

use crate::write_futures::{
    Flush, Shutdown, Write, WriteAll, WriteAllBuf, WriteBuf, WriteVectored,
};
use crate::write_int::{
    WriteF32, WriteF32Le, WriteF64, WriteF64Le, WriteI128, WriteI128Le, WriteI16, WriteI16Le,
    WriteI32, WriteI32Le, WriteI64, WriteI64Le, WriteI8, WriteU128, WriteU128Le, WriteU16,
    WriteU16Le, WriteU32, WriteU32Le, WriteU64, WriteU64Le, WriteU8,
};
use crate::AsyncWrite;
use bytes::Buf;
use std::io::IoSlice;

/// Defines the `write_<number>` methods: each encodes the number and writes all its bytes.
macro_rules! write_number_methods {
    ($($(#[$doc:meta])* fn $name:ident($ty:ty) -> $future:ident;)*) => {$(
        $(#[$doc])*
        ///
        /// # Cancel safety
        ///
        /// Not cancel safe: dropped early, part of the value may have been written.
        fn $name(&mut self, n: $ty) -> $future<&mut Self>
        where
            Self: Unpin,
        {
            $future::new(self, n)
        }
    )*};
}

/// `async` writing methods for every [`AsyncWrite`] (tokio's `AsyncWriteExt`).
///
/// Remember [`flush`](AsyncWriteExt::flush) (or `shutdown`) for buffered writers such as
/// [`BufWriter`](crate::BufWriter): dropping one loses what it still holds.
pub trait AsyncWriteExt: AsyncWrite {
    /// Writes some prefix of `src`, returning how many bytes were taken (`0` for a non-empty
    /// `src` means the writer takes no more).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: if the future is dropped before it completes, nothing was written.
    fn write<'a>(&'a mut self, src: &'a [u8]) -> Write<'a, Self>
    where
        Self: Unpin,
    {
        Write::new(self, src)
    }

    /// Writes some prefix of the concatenation of `bufs`, returning how many bytes were
    /// taken; see [`AsyncWrite::poll_write_vectored`].
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: if the future is dropped before it completes, nothing was written.
    fn write_vectored<'a, 'b>(&'a mut self, bufs: &'a [IoSlice<'b>]) -> WriteVectored<'a, 'b, Self>
    where
        Self: Unpin,
    {
        WriteVectored::new(self, bufs)
    }

    /// Writes some bytes from the front of `src` (vectored when the writer is good at it) and
    /// advances `src` past them; returns how many (`0` if `src` was empty).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: if the future is dropped before it completes, nothing was written and
    /// `src` is unchanged.
    fn write_buf<'a, B>(&'a mut self, src: &'a mut B) -> WriteBuf<'a, Self, B>
    where
        Self: Sized + Unpin,
        B: Buf,
    {
        WriteBuf::new(self, src)
    }

    /// Writes all of `src`, advancing it after each write; `Interrupted` errors are retried,
    /// and a write that takes nothing is a [`WriteZero`](std::io::ErrorKind::WriteZero)
    /// error. After an error, `src` starts at the bytes that were not written.
    ///
    /// # Cancel safety
    ///
    /// If the future is dropped early, part of `src` may have been written, but `src` has
    /// been advanced by exactly that part, so the rest can be written by calling it again.
    fn write_all_buf<'a, B>(&'a mut self, src: &'a mut B) -> WriteAllBuf<'a, Self, B>
    where
        Self: Sized + Unpin,
        B: Buf,
    {
        WriteAllBuf::new(self, src)
    }

    /// Writes all of `src`; `Interrupted` errors are retried, and a write that takes nothing
    /// is a [`WriteZero`](std::io::ErrorKind::WriteZero) error.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: if the future is dropped early, a prefix of `src` of unknown length
    /// may have been written.
    fn write_all<'a>(&'a mut self, src: &'a [u8]) -> WriteAll<'a, Self>
    where
        Self: Unpin,
    {
        WriteAll::new(self, src)
    }

    write_number_methods! {
        /// Writes an unsigned byte.
        fn write_u8(u8) -> WriteU8;
        /// Writes a signed byte.
        fn write_i8(i8) -> WriteI8;
        /// Writes a `u16`, big-endian.
        fn write_u16(u16) -> WriteU16;
        /// Writes an `i16`, big-endian.
        fn write_i16(i16) -> WriteI16;
        /// Writes a `u32`, big-endian.
        fn write_u32(u32) -> WriteU32;
        /// Writes an `i32`, big-endian.
        fn write_i32(i32) -> WriteI32;
        /// Writes a `u64`, big-endian.
        fn write_u64(u64) -> WriteU64;
        /// Writes an `i64`, big-endian.
        fn write_i64(i64) -> WriteI64;
        /// Writes a `u128`, big-endian.
        fn write_u128(u128) -> WriteU128;
        /// Writes an `i128`, big-endian.
        fn write_i128(i128) -> WriteI128;
        /// Writes an IEEE 754 `f32`, big-endian.
        fn write_f32(f32) -> WriteF32;
        /// Writes an IEEE 754 `f64`, big-endian.
        fn write_f64(f64) -> WriteF64;
        /// Writes a `u16`, little-endian.
        fn write_u16_le(u16) -> WriteU16Le;
        /// Writes an `i16`, little-endian.
        fn write_i16_le(i16) -> WriteI16Le;
        /// Writes a `u32`, little-endian.
        fn write_u32_le(u32) -> WriteU32Le;
        /// Writes an `i32`, little-endian.
        fn write_i32_le(i32) -> WriteI32Le;
        /// Writes a `u64`, little-endian.
        fn write_u64_le(u64) -> WriteU64Le;
        /// Writes an `i64`, little-endian.
        fn write_i64_le(i64) -> WriteI64Le;
        /// Writes a `u128`, little-endian.
        fn write_u128_le(u128) -> WriteU128Le;
        /// Writes an `i128`, little-endian.
        fn write_i128_le(i128) -> WriteI128Le;
        /// Writes an IEEE 754 `f32`, little-endian.
        fn write_f32_le(f32) -> WriteF32Le;
        /// Writes an IEEE 754 `f64`, little-endian.
        fn write_f64_le(f64) -> WriteF64Le;
    }

    /// Flushes: waits until everything buffered on the way has reached its destination.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping it early leaves the buffered bytes buffered.
    fn flush(&mut self) -> Flush<'_, Self>
    where
        Self: Unpin,
    {
        Flush::new(self)
    }

    /// Flushes, then closes the write side (a socket sends FIN; a pipe's reader sees end of
    /// file). Do not write after it completed.
    fn shutdown(&mut self) -> Shutdown<'_, Self>
    where
        Self: Unpin,
    {
        Shutdown::new(self)
    }
}

impl<W: AsyncWrite + ?Sized> AsyncWriteExt for W {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{block_on, TrickleWriter};
    use std::io::{Cursor, ErrorKind};

    #[test]
    fn write_all_loops_over_short_writes() {
        let mut w = TrickleWriter::new(3);
        block_on(w.write_all(b"hello world")).unwrap();
        assert_eq!(w.written, b"hello world");
        assert_eq!(block_on(w.write(b"abcdef")).unwrap(), 3);
    }

    #[test]
    fn write_all_into_a_full_slice_is_write_zero() {
        let mut storage = [0u8; 4];
        let mut cursor = Cursor::new(&mut storage[..]);
        let err = block_on(cursor.write_all(b"too long")).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::WriteZero);
        assert_eq!(&storage, b"too ");
    }

    #[test]
    fn numbers_big_endian_and_little_endian() {
        let mut out = Vec::new();
        block_on(out.write_u32(0x0102_0304)).unwrap();
        block_on(out.write_u32_le(0x0102_0304)).unwrap();
        block_on(out.write_i16(-2)).unwrap();
        block_on(out.write_f64_le(1.5)).unwrap();
        block_on(out.write_u8(9)).unwrap();
        let mut expected = vec![1, 2, 3, 4, 4, 3, 2, 1, 0xff, 0xfe];
        expected.extend_from_slice(&1.5f64.to_le_bytes());
        expected.push(9);
        assert_eq!(out, expected);

        let mut w = TrickleWriter::new(1);
        block_on(w.write_u128(u128::MAX - 1)).unwrap();
        assert_eq!(w.written, (u128::MAX - 1).to_be_bytes());
    }

    #[test]
    fn write_buf_and_write_all_buf_advance_the_buf() {
        let mut w = TrickleWriter::new(2);
        let mut src: &[u8] = b"abcde";
        assert_eq!(block_on(w.write_buf(&mut src)).unwrap(), 2);
        assert_eq!(src, b"cde");
        block_on(w.write_all_buf(&mut src)).unwrap();
        assert!(src.is_empty());
        assert_eq!(w.written, b"abcde");
        let mut chained = bytes::Buf::chain(&b"12"[..], &b"34"[..]);
        let mut out = Vec::new();
        block_on(out.write_all_buf(&mut chained)).unwrap();
        assert_eq!(out, b"1234");
    }

    #[test]
    fn vectored_writes_to_a_vec_take_every_slice() {
        let mut out = Vec::new();
        let bufs = [IoSlice::new(b"ab"), IoSlice::new(b""), IoSlice::new(b"cd")];
        assert!(out.is_write_vectored());
        assert_eq!(block_on(out.write_vectored(&bufs)).unwrap(), 4);
        // A writer without vectored support writes the first non-empty slice.
        let mut w = TrickleWriter::new(10);
        let bufs = [IoSlice::new(b""), IoSlice::new(b"xy"), IoSlice::new(b"z")];
        assert_eq!(block_on(w.write_vectored(&bufs)).unwrap(), 2);
        assert_eq!(w.written, b"xy");
    }

    #[test]
    fn flush_and_shutdown_reach_the_writer() {
        let mut w = TrickleWriter::new(1);
        block_on(w.flush()).unwrap();
        block_on(w.shutdown()).unwrap();
        assert_eq!(w.flushes, 1);
        assert!(w.shut_down);
    }
}
