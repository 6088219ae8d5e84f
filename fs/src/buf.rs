//! [`Buf`]: the byte buffer that travels between a file (or standard stream) and the blocking
//! job working for it.
//!
//! The buffer is owned by whoever holds it: the handle while idle, the job while it runs. A
//! read job fills it and the handle then copies it out to callers, a call at a time; a write
//! copies the caller's bytes in and the job writes them out. Moving it, rather than sharing it,
//! is what lets a job outlive the handle (a dropped `File` still finishes its write).
//!
//! The bytes at `storage[start..end]` are the contents; everything in `storage` is
//! initialised (the vector's length is the initialised length, not the contents' length), so a
//! read can hand `storage[..n]` to `Read::read` without `unsafe` and zeroes only the part it
//! grows, once.

use std::cmp;
use std::io::{self, IoSlice, Read, Write};

/// Largest buffer a file or standard stream moves per blocking hop by default (tokio's 2 MiB).
pub(crate) const DEFAULT_MAX_BUF_SIZE: usize = 2 * 1024 * 1024;

/// Bytes read ahead of the caller, or accepted from the caller and not yet written (module doc).
#[derive(Debug, Default)]
pub(crate) struct Buf {
    /// Initialised memory; `start..end` holds the contents.
    storage: Vec<u8>,
    /// First byte not yet handed out (reads) or written (writes).
    start: usize,
    /// End of the contents.
    end: usize,
}

impl Buf {
    /// Bytes held.
    pub(crate) fn len(&self) -> usize {
        self.end - self.start
    }

    /// Whether no bytes are held.
    pub(crate) fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// The bytes held.
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.storage[self.start..self.end]
    }

    /// Hands out up to `max` bytes from the front (they count as consumed); for reads.
    pub(crate) fn take_front(&mut self, max: usize) -> &[u8] {
        let n = cmp::min(max, self.len());
        let front = self.start;
        self.start += n;
        if self.start == self.end {
            // Empty again: later contents start at the front (the bytes stay where they are
            // until then).
            self.start = 0;
            self.end = 0;
        }
        &self.storage[front..front + n]
    }

    /// Drops the unread contents and returns how far the file's cursor is ahead of the
    /// caller's position because of them (as a negative seek offset): what a write or seek
    /// after a partly consumed read must seek back by first.
    pub(crate) fn discard_read(&mut self) -> i64 {
        let ahead = self.len() as i64;
        self.clear();
        -ahead
    }

    /// Drops the contents.
    pub(crate) fn clear(&mut self) {
        self.start = 0;
        self.end = 0;
    }

    /// Copies up to `max` bytes of `src` in as the new contents; returns how many. Only on an
    /// empty buffer.
    pub(crate) fn copy_from(&mut self, src: &[u8], max: usize) -> usize {
        debug_assert!(self.is_empty(), "a write fills an empty buffer");
        let n = cmp::min(src.len(), max);
        self.grow_to(n);
        self.storage[..n].copy_from_slice(&src[..n]);
        self.start = 0;
        self.end = n;
        n
    }

    /// [`copy_from`](Self::copy_from) for a vectored write: up to `max` bytes of the slices in
    /// order.
    pub(crate) fn copy_from_slices(&mut self, srcs: &[IoSlice<'_>], max: usize) -> usize {
        debug_assert!(self.is_empty(), "a write fills an empty buffer");
        let total = cmp::min(srcs.iter().map(|src| src.len()).sum(), max);
        self.grow_to(total);
        let mut at = 0;
        for src in srcs {
            if at == total {
                break;
            }
            let n = cmp::min(src.len(), total - at);
            self.storage[at..at + n].copy_from_slice(&src[..n]);
            at += n;
        }
        self.start = 0;
        self.end = total;
        total
    }

    /// Reads once from `reader` (retrying on `Interrupted`), up to `max` bytes, as the new
    /// contents; a read of 0 bytes means end of file. Only on an empty buffer; blocks.
    pub(crate) fn read_from<R: Read>(&mut self, reader: &mut R, max: usize) -> io::Result<usize> {
        debug_assert!(self.is_empty(), "a read fills an empty buffer");
        self.grow_to(max);
        self.start = 0;
        self.end = 0;
        let n = loop {
            match reader.read(&mut self.storage[..max]) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => break other?,
            }
        };
        self.end = n;
        Ok(n)
    }

    /// Writes all the contents to `writer` and empties the buffer, also on error (the bytes of
    /// a failed write are not retried). Blocks.
    pub(crate) fn write_to<W: Write>(&mut self, writer: &mut W) -> io::Result<()> {
        let result = writer.write_all(self.bytes());
        self.start = 0;
        self.end = 0;
        result
    }

    /// Makes `bytes` the contents, taking its memory, and returns the old memory emptied, for
    /// the write-behind queue to refill ([`crate::write_behind`]).
    pub(crate) fn swap_in(&mut self, bytes: Vec<u8>) -> Vec<u8> {
        debug_assert!(
            self.is_empty(),
            "only an empty buffer takes the staged bytes"
        );
        let mut old = std::mem::replace(&mut self.storage, bytes);
        old.clear();
        self.start = 0;
        self.end = self.storage.len();
        old
    }

    /// Makes sure the first `n` bytes of `storage` exist (zeroing only what is new).
    fn grow_to(&mut self, n: usize) {
        if self.storage.len() < n {
            self.storage.resize(n, 0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_contents_are_handed_out_in_order_across_calls() {
        let mut buf = Buf::default();
        let n = buf.read_from(&mut &b"hello world"[..], 64).unwrap();
        assert_eq!(n, 11);
        assert_eq!(buf.take_front(5), b"hello");
        assert_eq!(buf.len(), 6);
        assert_eq!(buf.take_front(100), b" world");
        assert!(buf.is_empty());
    }

    #[test]
    fn read_is_capped_by_max() {
        let mut buf = Buf::default();
        assert_eq!(buf.read_from(&mut &b"abcdef"[..], 4).unwrap(), 4);
        assert_eq!(buf.bytes(), b"abcd");
    }

    #[test]
    fn discard_read_reports_how_far_the_cursor_is_ahead() {
        let mut buf = Buf::default();
        buf.read_from(&mut &b"0123456789"[..], 64).unwrap();
        buf.take_front(3);
        assert_eq!(buf.discard_read(), -7);
        assert!(buf.is_empty());
    }

    #[test]
    fn write_copies_at_most_max_and_empties_on_write() {
        let mut buf = Buf::default();
        assert_eq!(buf.copy_from(b"abcdef", 4), 4);
        let mut out = Vec::new();
        buf.write_to(&mut out).unwrap();
        assert_eq!(out, b"abcd");
        assert!(buf.is_empty());
    }

    #[test]
    fn vectored_copy_takes_slices_in_order_up_to_max() {
        let mut buf = Buf::default();
        let srcs = [
            IoSlice::new(b"ab"),
            IoSlice::new(b""),
            IoSlice::new(b"cdef"),
        ];
        assert_eq!(buf.copy_from_slices(&srcs, 5), 5);
        assert_eq!(buf.bytes(), b"abcde");
    }

    #[test]
    fn shrinking_contents_after_a_large_read_keep_only_the_new_bytes() {
        let mut buf = Buf::default();
        buf.read_from(&mut &[7u8; 100][..], 100).unwrap();
        buf.take_front(100);
        buf.read_from(&mut &b"xy"[..], 100).unwrap();
        assert_eq!(buf.bytes(), b"xy");
    }

    #[test]
    fn swap_in_makes_staged_bytes_the_contents_and_returns_empty_memory() {
        let mut buf = Buf::default();
        buf.copy_from(b"old", 10);
        buf.write_to(&mut Vec::new()).unwrap();
        let old = buf.swap_in(b"staged".to_vec());
        assert!(old.is_empty());
        assert_eq!(buf.bytes(), b"staged");
    }
}
