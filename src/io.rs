//! IO: tokio's traits and utilities (`AsyncRead` with `ReadBuf`, `AsyncWrite`, `AsyncBufRead`,
//! `AsyncSeek`, their `Ext` traits, `BufReader`, `copy`, `duplex`, `split`, ...), defined by
//! the `gort-io` crate below every gort IO type so that each implements them.
//!
//! A tokio program's `use tokio::io::{AsyncReadExt, AsyncWriteExt}` becomes
//! `use gort::io::{AsyncReadExt, AsyncWriteExt}`. The copy loops and in-memory pipes spend the
//! coop budget like any gort resource, so they yield their P when they run long.
//!
//! gort's IO types also implement the `futures` crate's IO traits, for libraries written
//! against those; `futures::io::{AsyncReadExt, AsyncWriteExt}` reach them.

pub use gort_fs::stdio::{stderr, stdin, stdout, Stderr, Stdin, Stdout};
pub use gort_io::*;
pub use gort_net::{Interest, Ready};

/// Unix-specific IO: [`AsyncFd`](unix::AsyncFd), any pollable file descriptor on the netpoller.
pub mod unix {
    #[doc(hidden)]
    #[allow(deprecated)]
    pub use gort_net::async_fd::AsyncFdTryNewError;
    pub use gort_net::async_fd::{
        AsyncFd, AsyncFdReadyGuard, AsyncFdReadyMutGuard, AsyncFdRegisterError, TryIoError,
    };
}
