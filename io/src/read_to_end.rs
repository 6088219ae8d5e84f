//! `read_to_end` and `read_to_string`: reading a source to end of file into a growing vector.
//!
//! # Reading into spare capacity
//!
//! The reader gets the vector's spare capacity directly, as an uninitialised [`ReadBuf`], so
//! no byte is zeroed for a reader that writes through `put_slice` (sockets, pipes, slices).
//! [`SpareInit`] remembers how much of that capacity an earlier poll already initialised, so a
//! reader that needs `&mut [u8]` (`initialize_unfilled`) has each byte zeroed at most once
//! rather than once per poll; growing the vector forgets it (the new allocation is fresh).
//!
//! # Growth
//!
//! Every read gets at least [`PROBE_LEN`] bytes of room, by `Vec::reserve`'s doubling, except
//! while the vector is still at its starting capacity: then, with less room than that left, the
//! next read goes to a small buffer on the stack first, and its bytes are copied into the spare
//! room if they fit. A caller who sized the vector to the data (say from a file's length) thus
//! pays no doubling just to learn that the source is at its end (tokio's rule, which its tests
//! check to the byte of capacity).
//!
//! # Strings
//!
//! `read_to_string` moves the string's bytes into a vector, reads to the end, and checks UTF-8
//! once at the end. On any error (an IO error or invalid UTF-8) the string is given back with
//! its original contents and the bytes read are dropped; while the future is pending, the
//! string is empty (tokio: it is not cancel safe).

use crate::{AsyncRead, ReadBuf};
use pin_project_lite::pin_project;
use std::future::Future;
use std::io;
use std::marker::PhantomPinned;
use std::mem::{self, MaybeUninit};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

/// The least spare room a read is given, and the size of the end-of-file probe.
const PROBE_LEN: usize = 32;

/// What a read-to-end remembers between polls about the vector it fills.
///
/// # Invariant
///
/// The vector is owned by, or exclusively borrowed for, the future holding this, and only
/// [`read_to_end_internal`] changes it, so between polls its spare capacity is untouched:
/// `vec.spare_capacity_mut()[..initialized]` is initialised whenever `capacity == vec.capacity()`.
#[derive(Debug)]
pub(crate) struct SpareInit {
    /// Initialised bytes at the start of the spare capacity.
    initialized: usize,
    /// The capacity `initialized` was measured against.
    capacity: usize,
    /// The capacity when the read started (for the end-of-file probe).
    starting_capacity: usize,
    /// Bytes appended since the read started.
    read: usize,
}

impl SpareInit {
    /// The state of a read into a vector of `capacity`.
    pub(crate) fn new(capacity: usize) -> SpareInit {
        SpareInit {
            initialized: 0,
            capacity,
            starting_capacity: capacity,
            read: 0,
        }
    }

    /// The number of bytes appended so far by this read.
    pub(crate) fn read(&self) -> usize {
        self.read
    }
}

/// Reads `reader` to end of file into `vec`, returning how many bytes were appended. On an
/// error, what was read stays in `vec`.
pub(crate) fn read_to_end_internal<R: AsyncRead + ?Sized>(
    vec: &mut Vec<u8>,
    state: &mut SpareInit,
    mut reader: Pin<&mut R>,
    cx: &mut Context<'_>,
) -> Poll<io::Result<usize>> {
    loop {
        match ready!(read_once(vec, state, reader.as_mut(), cx)) {
            Ok(0) => return Poll::Ready(Ok(mem::take(&mut state.read))),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Poll::Ready(Err(e)),
        }
    }
}

/// One `poll_read` into `vec`: returns the bytes appended (0 at end of file).
fn read_once<R: AsyncRead + ?Sized>(
    vec: &mut Vec<u8>,
    state: &mut SpareInit,
    reader: Pin<&mut R>,
    cx: &mut Context<'_>,
) -> Poll<io::Result<usize>> {
    // A vector still at its starting capacity with less than a probe's room left is probed on
    // the stack first: a caller who sized the vector to the data (say from a file's length)
    // then pays no doubling just to learn that the source is at its end.
    let spare = vec.capacity() - vec.len();
    let probe_first = spare < PROBE_LEN
        && vec.capacity() == state.starting_capacity
        && state.starting_capacity >= PROBE_LEN;
    if probe_first {
        let mut probe = [MaybeUninit::<u8>::uninit(); PROBE_LEN];
        let mut probe = ReadBuf::uninit(&mut probe);
        let result = reader.poll_read(cx, &mut probe);
        let got = probe.filled();
        // Appended whatever the result: a reader that filled bytes and then reported an error
        // still read them. Bytes that fit go into the spare room (whose initialised prefix
        // they overwrite); more grow the vector, which forgets that prefix.
        vec.extend_from_slice(got);
        state.initialized = state.initialized.saturating_sub(got.len());
        state.read += got.len();
        state.forget_if_grown(vec);
        return result.map_ok(|()| got.len());
    }

    if spare < PROBE_LEN {
        vec.reserve(PROBE_LEN);
    }
    state.forget_if_grown(vec);
    let len = vec.len();
    let (got, initialized, result) = {
        let mut buf = ReadBuf::uninit(vec.spare_capacity_mut());
        // SAFETY: `SpareInit`'s invariant, and `forget_if_grown` just reset the count if the
        // allocation changed.
        unsafe { buf.assume_init(state.initialized) };
        let start = buf.filled().as_ptr();
        let result = reader.poll_read(cx, &mut buf);
        assert_eq!(
            start,
            buf.filled().as_ptr(),
            "poll_read replaced the ReadBuf it was given"
        );
        (buf.filled().len(), buf.initialized().len(), result)
    };
    // SAFETY: the reader filled, so initialised, the first `got` bytes of the spare capacity
    // (the pointer check above rules out another buffer), and `len + got <= capacity`.
    unsafe { vec.set_len(len + got) };
    state.initialized = initialized - got;
    state.read += got;
    result.map_ok(|()| got)
}

impl SpareInit {
    /// Forgets the initialised spare bytes if `vec` was reallocated (or shrank its spare room
    /// by appending through `extend_from_slice`).
    fn forget_if_grown(&mut self, vec: &Vec<u8>) {
        if vec.capacity() != self.capacity {
            self.capacity = vec.capacity();
            self.initialized = 0;
        }
        self.initialized = self.initialized.min(vec.capacity() - vec.len());
    }
}

pin_project! {
    /// The future of [`AsyncReadExt::read_to_end`](crate::AsyncReadExt::read_to_end).
    #[derive(Debug)]
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct ReadToEnd<'a, R: ?Sized> {
        reader: &'a mut R,
        buf: &'a mut Vec<u8>,
        state: SpareInit,
        #[pin]
        _pin: PhantomPinned,
    }
}

impl<'a, R: ?Sized> ReadToEnd<'a, R> {
    pub(crate) fn new(reader: &'a mut R, buf: &'a mut Vec<u8>) -> Self {
        let state = SpareInit::new(buf.capacity());
        ReadToEnd {
            reader,
            buf,
            state,
            _pin: PhantomPinned,
        }
    }
}

impl<R: AsyncRead + Unpin + ?Sized> Future for ReadToEnd<'_, R> {
    type Output = io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        let me = self.project();
        read_to_end_internal(me.buf, me.state, Pin::new(&mut **me.reader), cx)
    }
}

pin_project! {
    /// The future of [`AsyncReadExt::read_to_string`](crate::AsyncReadExt::read_to_string).
    #[derive(Debug)]
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct ReadToString<'a, R: ?Sized> {
        reader: &'a mut R,
        // The caller's string: left empty while reading, its allocation is in `bytes`.
        output: &'a mut String,
        // The string's original bytes, then those read after them.
        bytes: Vec<u8>,
        state: SpareInit,
        #[pin]
        _pin: PhantomPinned,
    }
}

impl<'a, R: ?Sized> ReadToString<'a, R> {
    pub(crate) fn new(reader: &'a mut R, output: &'a mut String) -> Self {
        let bytes = mem::take(output).into_bytes();
        let state = SpareInit::new(bytes.capacity());
        ReadToString {
            reader,
            output,
            bytes,
            state,
            _pin: PhantomPinned,
        }
    }
}

impl<R: AsyncRead + Unpin + ?Sized> Future for ReadToString<'_, R> {
    type Output = io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        let me = self.project();
        let result = ready!(read_to_end_internal(
            me.bytes,
            me.state,
            Pin::new(&mut **me.reader),
            cx
        ));
        // On success the count was reset, so take it from the result; on error, from state.
        let appended = match &result {
            Ok(n) => *n,
            Err(_) => me.state.read(),
        };
        let bytes = mem::take(me.bytes);
        Poll::Ready(finish_string_read(
            result,
            bytes,
            appended,
            me.output,
            KeepOnIoError::No,
        ))
    }
}

/// Whether a string read that failed with an IO error keeps the valid bytes it read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum KeepOnIoError {
    /// `read_line`: the part of the line read before the error stays in the string.
    Yes,
    /// `read_to_string`: the string gets its original contents back.
    No,
}

/// Turns the bytes of a string read back into the caller's string. `bytes` is the original
/// string followed by `appended` bytes read. Invalid UTF-8 in them is an `InvalidData` error,
/// and the string gets its original contents back (so it is never left holding a broken
/// half-character).
pub(crate) fn finish_string_read(
    result: io::Result<usize>,
    bytes: Vec<u8>,
    appended: usize,
    output: &mut String,
    keep: KeepOnIoError,
) -> io::Result<usize> {
    debug_assert!(output.is_empty());
    let original_len = bytes.len() - appended;
    match String::from_utf8(bytes) {
        Ok(mut text) => {
            if result.is_err() && keep == KeepOnIoError::No {
                text.truncate(original_len);
            }
            *output = text;
            result
        }
        Err(invalid) => {
            let utf8_error = invalid.utf8_error();
            let mut original = invalid.into_bytes();
            original.truncate(original_len);
            *output = String::from_utf8(original).expect("the string's own bytes were UTF-8");
            match result {
                Ok(_) => Err(io::Error::new(io::ErrorKind::InvalidData, utf8_error)),
                Err(e) => Err(e),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::test_support::{block_on, Trickle};
    use crate::{AsyncRead, AsyncReadExt, ReadBuf};
    use std::io::{self, ErrorKind};
    use std::pin::Pin;
    use std::task::{Context, Poll};

    #[test]
    fn read_to_end_appends_across_polls_and_growth() {
        let data: Vec<u8> = (0..=255u8).cycle().take(5000).collect();
        let mut src = Trickle::new(&data, 777);
        let mut out = b"prefix".to_vec();
        assert_eq!(block_on(src.read_to_end(&mut out)).unwrap(), 5000);
        assert_eq!(&out[..6], b"prefix");
        assert_eq!(&out[6..], &data[..]);
    }

    #[test]
    fn read_to_end_into_an_exactly_sized_vec_does_not_grow_at_eof() {
        let data = [7u8; 64];
        let mut src: &[u8] = &data;
        let mut out = Vec::with_capacity(64);
        assert_eq!(block_on(src.read_to_end(&mut out)).unwrap(), 64);
        assert_eq!(
            out.capacity(),
            64,
            "the end-of-file probe avoided a doubling"
        );
    }

    #[test]
    fn read_to_end_never_grows_a_vec_that_has_room_for_the_data() {
        let data: Vec<u8> = (0..80).collect();
        for capacity in 80..100 {
            for split in [1, 40, 79] {
                let mut src = Trickle::new(&data, split);
                let mut out = Vec::with_capacity(capacity);
                assert_eq!(block_on(src.read_to_end(&mut out)).unwrap(), 80);
                assert_eq!(out, data);
                assert_eq!(out.capacity(), capacity, "split {split}");
            }
        }
    }

    #[test]
    fn read_to_end_probes_into_the_spare_room_of_a_vector_at_its_starting_capacity() {
        let data: Vec<u8> = (0..38).collect();
        let mut src = Trickle::new(&data, 30);
        let mut out = Vec::with_capacity(40);
        assert_eq!(block_on(src.read_to_end(&mut out)).unwrap(), 38);
        assert_eq!(out, data);
        assert_eq!(
            out.capacity(),
            40,
            "the last 8 bytes went into the spare room"
        );
    }

    #[test]
    fn read_to_end_doubles_a_vector_too_small_for_the_data() {
        let data = [1u8; 38];
        let mut src: &[u8] = &data;
        let mut out = Vec::with_capacity(34);
        assert_eq!(block_on(src.read_to_end(&mut out)).unwrap(), 38);
        // Full at 34: the probe's 4 bytes double it to 68; then less than a probe's room is
        // left past the starting capacity, so it doubles again before the end of file.
        assert_eq!(out.capacity(), 34 * 4);
    }

    /// A reader that wants `&mut [u8]`: it zeroes through `initialize_unfilled`.
    struct Zeroing<'a>(&'a [u8]);

    impl AsyncRead for Zeroing<'_> {
        fn poll_read(
            self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            let dst = buf.initialize_unfilled();
            let n = dst.len().min(self.0.len()).min(3);
            dst[..n].copy_from_slice(&self.0[..n]);
            buf.advance(n);
            self.get_mut().0 = &self.0[n..];
            Poll::Ready(Ok(()))
        }
    }

    #[test]
    fn read_to_end_with_a_reader_that_initialises() {
        let mut out = Vec::new();
        let n = block_on(Zeroing(b"abcdefghij").read_to_end(&mut out)).unwrap();
        assert_eq!(n, 10);
        assert_eq!(out, b"abcdefghij");
    }

    #[test]
    fn read_to_end_keeps_what_it_read_before_an_error() {
        let mut src = Trickle::new(b"abc", 2);
        src.error_at_end = Some(ErrorKind::ConnectionReset);
        let mut out = Vec::new();
        let err = block_on(src.read_to_end(&mut out)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionReset);
        assert_eq!(out, b"abc");
    }

    #[test]
    fn read_to_string_appends_valid_utf8() {
        let mut src = Trickle::new("grüße".as_bytes(), 1);
        let mut out = String::from("> ");
        assert_eq!(block_on(src.read_to_string(&mut out)).unwrap(), 7);
        assert_eq!(out, "> grüße");
    }

    #[test]
    fn read_to_string_with_invalid_utf8_keeps_the_original_contents() {
        let mut src: &[u8] = b"ok \xff\xfe";
        let mut out = String::from("before");
        let err = block_on(src.read_to_string(&mut out)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidData);
        assert_eq!(out, "before");
        assert!(src.is_empty(), "the bytes were read (and dropped)");
    }

    #[test]
    fn read_to_string_after_an_io_error_keeps_the_original_contents() {
        let mut src = Trickle::new(b"partial", 3);
        src.error_at_end = Some(ErrorKind::BrokenPipe);
        let mut out = String::from("x");
        let err = block_on(src.read_to_string(&mut out)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::BrokenPipe);
        assert_eq!(out, "x");
    }
}
