//! gort's child processes and Unix signals, tokio's `process` and `signal` modules, on the
//! netpoller (DESIGN.md §4).
//!
//! - `process/`: [`process::Command`] and [`process::Child`]; a child's exit and its piped
//!   streams are waited for in the netpoller (pidfd, else `SIGCHLD`), never on a thread of
//!   their own.
//! - `signal/`: [`signal::ctrl_c`] and [`signal::unix::signal`]: a self-pipe written by the
//!   handler and read by the listeners' Gs through the netpoller.
//!
//! Like `gort-net`, the crate sits above the executor: each pipe, pidfd and self-pipe
//! duplicate is registered with the reactor of `Handle::current()`, so some runtime's Ms
//! always drive it.

#![cfg(unix)]

mod fd;
pub mod process;
pub mod signal;
