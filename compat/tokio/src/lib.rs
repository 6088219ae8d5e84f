//! `tokio`, as gort: tokio 1.x's public API, re-exported from gort under tokio's module paths.
//!
//! This crate exists so that a whole dependency graph that names tokio (axum, reqwest, tonic,
//! tokio-util, ...) runs on gort after one `[patch.crates-io]` entry, without a line of it
//! changing. It contains no tokio code and no wrappers: `tokio::net::TcpStream` *is*
//! `gort::net::TcpStream`, `tokio::spawn` is `gort::spawn`, and so on, because gort's API is
//! tokio's (issue 15). The modules are gort's whole modules, so they also hold gort's own items
//! (Go's `WaitGroup` in `sync`, for example), which tokio code never names.
//!
//! What differs from tokio is where gort differs (gort's `COMPAT.md` and
//! `compat/conformance/differences.txt`): outside any runtime, IO, timers and spawns start
//! gort's default runtime instead of panicking; timers and IO are always enabled.
pub use gort::{fs, io, net, process, runtime, signal, sync, task, time};

/// tokio's `spawn`: spawns a task on the current runtime (gort's default runtime outside one).
pub use gort::spawn;

/// `#[tokio::main]` and `#[tokio::test]`, with every tokio option (`flavor`, `worker_threads`,
/// `start_paused`, `crate`, `name`), expanding through this crate's name.
pub use gort_macros::{tokio_main as main, tokio_test as test};

pub use gort::{join, pin, select, task_local, try_join};

/// The support macro expansions name (tokio's hidden `tokio::macros`).
#[doc(hidden)]
pub use gort::macros;

/// What `#[tokio::main]`/`#[tokio::test]` expand to call (gort's entry points).
#[doc(hidden)]
pub use gort::__private;
