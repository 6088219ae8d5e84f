//! tokio's IO traits and utilities, written for gort (`gort::io`).
//!
//! # Where this sits
//!
//! The traits live in a crate of their own, below the reactor, the executor and every crate
//! with an IO type (sockets, files, pipes, processes), so that each of them can implement
//! `AsyncRead`/`AsyncWrite` directly: a tokio program that names `tokio::io::AsyncRead`
//! compiles against `gort::io::AsyncRead` unchanged. The only runtime state it reads is the
//! coop budget in `gort-context` (the copy loops spend it like any gort resource, so a copy
//! between two always-ready streams still yields its P).
//!
//! # The traits
//!
//! - [`AsyncRead`] fills a [`ReadBuf`], which may be uninitialised memory: reading into a
//!   vector's spare capacity zeroes nothing (`read_buf.rs` has the invariant).
//! - [`AsyncWrite`] writes, flushes and shuts down; vectored writes are opt-in.
//! - [`AsyncBufRead`] exposes an internal buffer (peek, then consume), which line reading
//!   needs; [`AsyncSeek`] seeks in two steps because a seek may have to wait.
//!
//! Each has an extension trait with the `async` methods ([`AsyncReadExt::read_exact`],
//! [`AsyncWriteExt::write_all`], [`AsyncBufReadExt::lines`], [`AsyncSeekExt::seek`], ...),
//! whose futures borrow the IO object and are `!Unpin`, as tokio's are. Each method documents
//! its cancel safety: what is lost if its future is dropped before it completes (a `select!`
//! branch that lost).
//!
//! # The utilities
//!
//! Buffering ([`BufReader`], [`BufWriter`], [`BufStream`]), adapters ([`Take`], [`Chain`],
//! [`Lines`], [`Split`]), copying ([`copy`], [`copy_buf`], [`copy_bidirectional`]), in-memory
//! pipes ([`duplex`], [`simplex`]), splitting one object into owned halves ([`split`]) and
//! joining two into one ([`join`]), and the trivial endpoints ([`empty`], [`sink`],
//! [`repeat`]). Standard input and output, `Interest`/`Ready` and `AsyncFd` belong to the
//! crates with a blocking pool or a poller, not here.

mod async_buf_read;
mod async_read;
mod async_seek;
mod async_write;
mod buf_read_ext;
mod buf_reader;
mod buf_stream;
mod buf_writer;
mod chain;
mod copy;
mod copy_bidirectional;
mod duplex;
mod endpoints;
mod join;
mod lines;
mod read_buf;
mod read_ext;
mod read_futures;
mod read_int;
mod read_to_end;
mod read_until;
mod seek_ext;
mod simplex;
mod split;
mod take;
mod write_ext;
mod write_futures;
mod write_int;

pub use async_buf_read::AsyncBufRead;
pub use async_read::AsyncRead;
pub use async_seek::AsyncSeek;
pub use async_write::AsyncWrite;
pub use buf_read_ext::AsyncBufReadExt;
pub use buf_reader::BufReader;
pub use buf_stream::BufStream;
pub use buf_writer::BufWriter;
pub use chain::Chain;
pub use copy::{copy, copy_buf};
pub use copy_bidirectional::{copy_bidirectional, copy_bidirectional_with_sizes};
pub use duplex::{duplex, DuplexStream};
pub use endpoints::{empty, repeat, sink, Empty, Repeat, Sink};
pub use join::{join, Join};
pub use lines::{Lines, Split};
pub use read_buf::ReadBuf;
pub use read_ext::AsyncReadExt;
pub use seek_ext::AsyncSeekExt;
pub use simplex::{simplex, SimplexStream};
pub use split::{split, ReadHalf, WriteHalf};
pub use take::Take;
pub use write_ext::AsyncWriteExt;

// std's IO types, re-exported so that `use gort::io::*` and `std::io` do not clash.
#[doc(no_inline)]
pub use std::io::{Error, ErrorKind, IoSlice, IoSliceMut, Result, SeekFrom};

#[cfg(test)]
mod test_support;
