//! `ReadBuf`: the destination of [`AsyncRead::poll_read`](crate::AsyncRead::poll_read), a byte
//! buffer that may start out uninitialised.
//!
//! # Why not `&mut [u8]`
//!
//! A reader handed `&mut [u8]` needs initialised memory, so every caller that reads into fresh
//! capacity (a `Vec`'s spare room, a `BytesMut`) would first have to zero it: a memset per read,
//! for bytes the kernel is about to overwrite. `ReadBuf` wraps `&mut [MaybeUninit<u8>]` and
//! remembers two cursors so that the zeroing happens at most once per byte, and only for readers
//! that really need a `&mut [u8]`:
//!
//! ```text
//! [ filled | initialised, not filled | uninitialised ]
//! 0        filled                    initialized      capacity
//! ```
//!
//! # Invariant
//!
//! `filled <= initialized <= buf.len()`, and `buf[..initialized]` is initialised memory. Every
//! method keeps it; each `unsafe` block below leans on it and says how. The two `unsafe` methods
//! ([`ReadBuf::unfilled_mut`], [`ReadBuf::inner_mut`], [`ReadBuf::assume_init`]) hand the
//! obligation to the caller: never de-initialise, and only claim bytes that were written.

use std::fmt;
use std::mem::MaybeUninit;

/// A borrowed byte buffer being filled by a read, tracking which part is filled and which is
/// initialised (tokio's `ReadBuf`).
///
/// A reader appends with [`put_slice`](ReadBuf::put_slice), or writes into
/// [`initialize_unfilled`](ReadBuf::initialize_unfilled) and then calls
/// [`advance`](ReadBuf::advance). Bytes already filled are never handed out for writing.
pub struct ReadBuf<'a> {
    /// The whole destination. `buf[..initialized]` is initialised (module `# Invariant`).
    buf: &'a mut [MaybeUninit<u8>],
    /// Bytes written by reads so far, from the start of `buf`.
    filled: usize,
    /// Bytes known to be initialised, from the start of `buf`; never below `filled`.
    initialized: usize,
}

impl<'a> ReadBuf<'a> {
    /// Wraps an initialised buffer: all of it counts as initialised, none as filled.
    #[inline]
    pub fn new(buf: &'a mut [u8]) -> ReadBuf<'a> {
        let initialized = buf.len();
        // SAFETY: `u8` and `MaybeUninit<u8>` have the same layout, and every `u8` is a valid
        // `MaybeUninit<u8>`. Writing an uninitialised value through the new slice would break
        // the caller's `[u8]`, but `ReadBuf` never de-initialises a byte (module `# Invariant`)
        // and its unsafe accessors forbid callers from doing so.
        let buf = unsafe { &mut *(buf as *mut [u8] as *mut [MaybeUninit<u8>]) };
        ReadBuf {
            buf,
            filled: 0,
            initialized,
        }
    }

    /// Wraps a buffer of which nothing is known to be initialised.
    #[inline]
    pub fn uninit(buf: &'a mut [MaybeUninit<u8>]) -> ReadBuf<'a> {
        ReadBuf {
            buf,
            filled: 0,
            initialized: 0,
        }
    }

    /// The buffer's total size in bytes.
    #[inline]
    pub fn capacity(&self) -> usize {
        self.buf.len()
    }

    /// The bytes filled so far.
    #[inline]
    pub fn filled(&self) -> &[u8] {
        // SAFETY: `filled <= initialized`, so these bytes are initialised.
        unsafe { assume_init_ref(&self.buf[..self.filled]) }
    }

    /// The bytes filled so far, mutably.
    #[inline]
    pub fn filled_mut(&mut self) -> &mut [u8] {
        // SAFETY: `filled <= initialized`, so these bytes are initialised; a `&mut [u8]` cannot
        // write an uninitialised byte back.
        unsafe { assume_init_mut(&mut self.buf[..self.filled]) }
    }

    /// A new `ReadBuf` over at most `n` bytes of this one's unfilled part, with nothing in it
    /// filled or known initialised. What a read puts there is not counted here: the caller
    /// transfers it with [`assume_init`](ReadBuf::assume_init) and [`advance`](ReadBuf::advance).
    #[inline]
    pub fn take(&mut self, n: usize) -> ReadBuf<'_> {
        let len = n.min(self.remaining());
        let filled = self.filled;
        ReadBuf::uninit(&mut self.buf[filled..filled + len])
    }

    /// The bytes known to be initialised (filled ones included).
    #[inline]
    pub fn initialized(&self) -> &[u8] {
        // SAFETY: `buf[..initialized]` is initialised (module `# Invariant`).
        unsafe { assume_init_ref(&self.buf[..self.initialized]) }
    }

    /// The bytes known to be initialised (filled ones included), mutably.
    #[inline]
    pub fn initialized_mut(&mut self) -> &mut [u8] {
        // SAFETY: `buf[..initialized]` is initialised (module `# Invariant`).
        unsafe { assume_init_mut(&mut self.buf[..self.initialized]) }
    }

    /// The whole buffer, filled part included.
    ///
    /// # Safety
    ///
    /// The caller must not de-initialise any byte (write `MaybeUninit::uninit()`): the buffer
    /// may be a `&mut [u8]` wrapped by [`ReadBuf::new`].
    #[inline]
    pub unsafe fn inner_mut(&mut self) -> &mut [MaybeUninit<u8>] {
        self.buf
    }

    /// The part after the filled bytes, possibly uninitialised.
    ///
    /// # Safety
    ///
    /// The caller must not de-initialise any byte (write `MaybeUninit::uninit()`): the buffer
    /// may be a `&mut [u8]` wrapped by [`ReadBuf::new`].
    #[inline]
    pub unsafe fn unfilled_mut(&mut self) -> &mut [MaybeUninit<u8>] {
        &mut self.buf[self.filled..]
    }

    /// The whole unfilled part as `&mut [u8]`, zeroing the bytes not yet initialised (once).
    #[inline]
    pub fn initialize_unfilled(&mut self) -> &mut [u8] {
        self.initialize_unfilled_to(self.remaining())
    }

    /// The first `n` unfilled bytes as `&mut [u8]`, zeroing those not yet initialised (once).
    ///
    /// # Panics
    ///
    /// If `n` is more than [`remaining`](ReadBuf::remaining).
    #[inline]
    #[track_caller]
    pub fn initialize_unfilled_to(&mut self, n: usize) -> &mut [u8] {
        assert!(
            n <= self.remaining(),
            "initialize_unfilled_to: n ({n}) overflows remaining ({})",
            self.remaining()
        );
        let end = self.filled + n;
        if self.initialized < end {
            for byte in &mut self.buf[self.initialized..end] {
                byte.write(0);
            }
            self.initialized = end;
        }
        // SAFETY: `end <= initialized` now, so `buf[filled..end]` is initialised.
        unsafe { assume_init_mut(&mut self.buf[self.filled..end]) }
    }

    /// How many more bytes fit: `capacity() - filled().len()`.
    #[inline]
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.filled
    }

    /// Forgets the filled bytes (they stay initialised, so a later read need not zero them).
    #[inline]
    pub fn clear(&mut self) {
        self.filled = 0;
    }

    /// Counts `n` more bytes as filled, after a read wrote them into the initialised part.
    ///
    /// # Panics
    ///
    /// If the filled part would pass the initialised part (or overflow).
    #[inline]
    #[track_caller]
    pub fn advance(&mut self, n: usize) {
        let filled = self
            .filled
            .checked_add(n)
            .expect("ReadBuf::advance: filled overflows usize");
        self.set_filled(filled);
    }

    /// Sets the filled length to `n`, shrinking or growing it within the initialised part.
    ///
    /// # Panics
    ///
    /// If `n` is more than the initialised length.
    #[inline]
    #[track_caller]
    pub fn set_filled(&mut self, n: usize) {
        assert!(
            n <= self.initialized,
            "ReadBuf::set_filled: filled ({n}) would pass initialized ({})",
            self.initialized
        );
        self.filled = n;
    }

    /// Declares the first `n` unfilled bytes initialised (a no-op for those already known).
    ///
    /// # Safety
    ///
    /// The caller must have initialised `unfilled_mut()[..n]`.
    #[inline]
    pub unsafe fn assume_init(&mut self, n: usize) {
        let end = self.filled + n;
        debug_assert!(end <= self.buf.len(), "assume_init past the capacity");
        self.initialized = self.initialized.max(end);
    }

    /// Appends `src` to the filled part.
    ///
    /// # Panics
    ///
    /// If `src` is longer than [`remaining`](ReadBuf::remaining).
    #[inline]
    #[track_caller]
    pub fn put_slice(&mut self, src: &[u8]) {
        assert!(
            src.len() <= self.remaining(),
            "ReadBuf::put_slice: {} bytes do not fit in remaining {}",
            src.len(),
            self.remaining()
        );
        let end = self.filled + src.len();
        let dst = &mut self.buf[self.filled..end];
        // SAFETY: `dst` and `src` have the same length (`end - filled`), `dst` is valid for
        // writes, and they cannot overlap: `dst` is borrowed mutably from `self` while `src` is
        // a shared borrow the caller holds at the same time.
        unsafe {
            std::ptr::copy_nonoverlapping(src.as_ptr(), dst.as_mut_ptr().cast::<u8>(), src.len())
        };
        self.initialized = self.initialized.max(end);
        self.filled = end;
    }
}

// SAFETY: `remaining_mut` is the unfilled length, which `chunk_mut` returns in full; and
// `advance_mut(cnt)` is called by `BufMut`'s contract only after `cnt` bytes of `chunk_mut()`
// were initialised, which is what `assume_init(cnt)` requires before `advance(cnt)`.
unsafe impl bytes::BufMut for ReadBuf<'_> {
    fn remaining_mut(&self) -> usize {
        self.remaining()
    }

    unsafe fn advance_mut(&mut self, cnt: usize) {
        // SAFETY: the caller (per `BufMut::advance_mut`) initialised `chunk_mut()[..cnt]`,
        // which is `unfilled_mut()[..cnt]`.
        unsafe { self.assume_init(cnt) };
        self.advance(cnt);
    }

    fn chunk_mut(&mut self) -> &mut bytes::buf::UninitSlice {
        // SAFETY: `UninitSlice` only allows writing initialised bytes, never de-initialising.
        let unfilled = unsafe { self.unfilled_mut() };
        bytes::buf::UninitSlice::uninit(unfilled)
    }
}

impl fmt::Debug for ReadBuf<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadBuf")
            .field("filled", &self.filled)
            .field("initialized", &self.initialized)
            .field("capacity", &self.capacity())
            .finish()
    }
}

/// Views initialised `MaybeUninit` bytes as bytes.
///
/// # Safety
///
/// Every byte of `slice` must be initialised.
unsafe fn assume_init_ref(slice: &[MaybeUninit<u8>]) -> &[u8] {
    // SAFETY: same layout; the caller guarantees every byte is initialised.
    unsafe { &*(slice as *const [MaybeUninit<u8>] as *const [u8]) }
}

/// Views initialised `MaybeUninit` bytes as mutable bytes.
///
/// # Safety
///
/// Every byte of `slice` must be initialised.
unsafe fn assume_init_mut(slice: &mut [MaybeUninit<u8>]) -> &mut [u8] {
    // SAFETY: same layout; the caller guarantees every byte is initialised, and a `&mut [u8]`
    // can only store initialised bytes.
    unsafe { &mut *(slice as *mut [MaybeUninit<u8>] as *mut [u8]) }
}

#[cfg(test)]
mod tests {
    //! These run under Miri (`cargo +nightly miri test -p gort-io read_buf`): they touch every
    //! path that reads `MaybeUninit` memory as bytes.

    use super::*;
    use bytes::BufMut;

    #[test]
    fn new_counts_everything_initialised_and_nothing_filled() {
        let mut storage = [7u8; 8];
        let buf = ReadBuf::new(&mut storage);
        assert_eq!(buf.capacity(), 8);
        assert_eq!(buf.remaining(), 8);
        assert!(buf.filled().is_empty());
        assert_eq!(buf.initialized(), &[7; 8]);
    }

    #[test]
    fn put_slice_fills_and_initialises_uninit_memory() {
        let mut storage = [MaybeUninit::<u8>::uninit(); 8];
        let mut buf = ReadBuf::uninit(&mut storage);
        assert!(buf.initialized().is_empty());
        buf.put_slice(b"abc");
        buf.put_slice(b"de");
        assert_eq!(buf.filled(), b"abcde");
        assert_eq!(buf.initialized(), b"abcde");
        assert_eq!(buf.remaining(), 3);
        buf.filled_mut()[0] = b'A';
        assert_eq!(buf.filled(), b"Abcde");
    }

    #[test]
    #[should_panic(expected = "do not fit")]
    fn put_slice_past_the_capacity_panics() {
        let mut storage = [0u8; 2];
        ReadBuf::new(&mut storage).put_slice(b"abc");
    }

    #[test]
    fn initialize_unfilled_zeroes_only_what_was_never_initialised() {
        let mut storage = [MaybeUninit::<u8>::uninit(); 6];
        let mut buf = ReadBuf::uninit(&mut storage);
        buf.put_slice(b"xy");
        let part = buf.initialize_unfilled_to(2);
        assert_eq!(part, &[0, 0]);
        part.copy_from_slice(b"zw");
        // Initialised but not filled: a second call must not zero it again.
        assert_eq!(buf.initialize_unfilled_to(2), b"zw");
        buf.advance(2);
        assert_eq!(buf.filled(), b"xyzw");
        assert_eq!(buf.initialize_unfilled(), &[0, 0]);
        assert_eq!(buf.initialized().len(), 6);
    }

    #[test]
    #[should_panic(expected = "overflows remaining")]
    fn initialize_unfilled_to_past_remaining_panics() {
        let mut storage = [0u8; 2];
        ReadBuf::new(&mut storage).initialize_unfilled_to(3);
    }

    #[test]
    #[should_panic(expected = "would pass initialized")]
    fn advance_past_the_initialised_part_panics() {
        let mut storage = [MaybeUninit::<u8>::uninit(); 4];
        ReadBuf::uninit(&mut storage).advance(1);
    }

    #[test]
    fn clear_keeps_the_bytes_initialised() {
        let mut storage = [MaybeUninit::<u8>::uninit(); 4];
        let mut buf = ReadBuf::uninit(&mut storage);
        buf.put_slice(b"abcd");
        buf.clear();
        assert!(buf.filled().is_empty());
        assert_eq!(buf.initialized(), b"abcd");
        buf.set_filled(3);
        assert_eq!(buf.filled(), b"abc");
        buf.set_filled(1);
        assert_eq!(buf.filled(), b"a");
    }

    #[test]
    fn take_limits_a_read_and_the_caller_transfers_what_it_got() {
        let mut storage = [MaybeUninit::<u8>::uninit(); 8];
        let mut buf = ReadBuf::uninit(&mut storage);
        buf.put_slice(b"ab");
        let got = {
            let mut sub = buf.take(3);
            assert_eq!(sub.capacity(), 3);
            sub.put_slice(b"cde");
            sub.filled().len()
        };
        // SAFETY: the sub-buffer wrote `got` bytes at the start of the unfilled part.
        unsafe { buf.assume_init(got) };
        buf.advance(got);
        assert_eq!(buf.filled(), b"abcde");
        assert_eq!(buf.take(100).capacity(), 3);
    }

    #[test]
    fn unfilled_mut_and_assume_init_round_trip() {
        let mut storage = [MaybeUninit::<u8>::uninit(); 4];
        let mut buf = ReadBuf::uninit(&mut storage);
        // SAFETY: only initialised values are written.
        let unfilled = unsafe { buf.unfilled_mut() };
        unfilled[0].write(1);
        unfilled[1].write(2);
        // SAFETY: the first two unfilled bytes were just written.
        unsafe { buf.assume_init(2) };
        // Claiming fewer than already known does not shrink the initialised part.
        // SAFETY: zero bytes claimed.
        unsafe { buf.assume_init(0) };
        assert_eq!(buf.initialized(), &[1, 2]);
        buf.advance(2);
        assert_eq!(buf.filled(), &[1, 2]);
        // SAFETY: nothing is written through the slice.
        assert_eq!(unsafe { buf.inner_mut() }.len(), 4);
        assert_eq!(buf.initialized_mut(), &mut [1, 2]);
    }

    #[test]
    fn buf_mut_writes_through_the_uninit_chunk() {
        let mut storage = [MaybeUninit::<u8>::uninit(); 6];
        let mut buf = ReadBuf::uninit(&mut storage);
        buf.put_u16(0x0102);
        buf.put_slice(b"xy");
        assert_eq!(buf.remaining_mut(), 2);
        assert_eq!(buf.filled(), &[1, 2, b'x', b'y']);
        assert_eq!(buf.initialized().len(), 4);
    }

    #[test]
    fn debug_shows_the_cursors() {
        let mut storage = [0u8; 3];
        let mut buf = ReadBuf::new(&mut storage);
        buf.put_slice(b"a");
        assert_eq!(
            format!("{buf:?}"),
            "ReadBuf { filled: 1, initialized: 3, capacity: 3 }"
        );
    }
}
