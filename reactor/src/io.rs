//! `gort::io`: the `futures` crate's IO traits and utilities, which every gort IO type
//! implements (DESIGN.md §2, IO). Splitting any reader-writer is `AsyncReadExt::split` (gort's
//! sockets also have their own lock-free `split`). tokio's traits are available through
//! `gort-compat`.

pub use futures::io::{
    copy, copy_buf, empty, repeat, sink, AllowStdIo, AsyncBufRead, AsyncBufReadExt, AsyncRead,
    AsyncReadExt, AsyncSeek, AsyncSeekExt, AsyncWrite, AsyncWriteExt, BufReader, BufWriter, Cursor,
    Empty, Error, ErrorKind, IoSlice, IoSliceMut, LineWriter, ReadHalf, Repeat, Result, SeekFrom,
    Sink, WriteHalf,
};
