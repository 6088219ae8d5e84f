//! `gort::fs`: files and directories with tokio's API, and the standard streams of
//! `gort::io`, run on the blocking pool.
//!
//! # Why the blocking pool
//!
//! Sockets tell the kernel's readiness APIs when they can be read or written, so a G parks on
//! the netpoller until they can. Regular files do not: `epoll` reports them always ready and a
//! read may still wait for the disk. Go parks the goroutine in the system call and hands its P
//! to another thread (`entersyscall`); a Rust future cannot be suspended inside a system call,
//! so each operation here runs as a job on the runtime's blocking pool
//! (`task::spawn_blocking`), whose threads hold no P, and the G waits for the job's
//! `JoinHandle` like for any other future.
//!
//! # The costs and how they are kept down
//!
//! A job is a round trip: queue the job, wake a pool thread, run the call, wake the G. That is
//! tens of microseconds, far more than a cached `read(2)`. So:
//!
//! - A free function ([`read()`], [`write()`], [`metadata()`], ...) is one job for the whole std
//!   call, however many system calls it makes (`read` opens, sizes and reads the file).
//! - [`read_dir()`] fetches entries 32 per job.
//! - [`File`] keeps one job in flight and a buffer that travels with it: a read asks for up to
//!   the caller's buffer size (a read-ahead left by a cancelled read serves later reads
//!   without a job); a write is accepted
//!   once copied and written in the background, and writes made while it runs are staged and
//!   written by the same job (`write_behind`), so a run of small writes costs a job per
//!   buffer rather than per call.
//!
//! The price of accepting writes early is tokio's: a write's error surfaces on the next write
//! or flush, and only `flush` (or [`File::sync_all`]) says that the bytes reached the OS.
//!
//! # Shutdown
//!
//! A job that has started always finishes, whether or not its handle still exists. gort's pool
//! drops jobs still queued when their runtime shuts down, where tokio runs queued file writes
//! anyway (its "mandatory" blocking jobs): a write accepted just before a runtime is shut down
//! may be lost there. Flush files before the runtime ends.
//!
//! # Code map
//!
//! - `asyncify`: one std call as a job; the free functions in `read_write`, `dirs`, `paths`
//!   and `metadata` are each one `asyncify`.
//! - `read_dir`: [`ReadDir`] and [`DirEntry`], batched.
//! - `buf`: the buffer that moves between a handle and its job.
//! - `write_behind`: staging writes behind the running write job.
//! - `file`: [`File`] (`file/inner.rs` is its state machine), `open_options`, `file_times`.
//! - `blocking` and [`stdio`]: the same one-job-in-flight adaptor for the standard streams.
//! - `futures_io`: the `futures` crate's `AsyncRead`/`AsyncWrite` for all of them.

mod asyncify;
mod blocking;
mod buf;
mod dirs;
mod file;
mod file_times;
mod futures_io;
mod metadata;
mod open_options;
mod paths;
mod read_dir;
mod read_write;
pub mod stdio;
mod write_behind;

pub use dirs::{create_dir, create_dir_all, remove_dir, remove_dir_all, DirBuilder};
pub use file::File;
pub use file_times::FileTimes;
pub use metadata::{metadata, set_permissions, symlink_metadata, try_exists};
pub use open_options::OpenOptions;
#[cfg(unix)]
pub use paths::symlink;
pub use paths::{canonicalize, copy, hard_link, read_link, remove_file, rename};
pub use read_dir::{read_dir, DirEntry, ReadDir};
pub use read_write::{read, read_to_string, write};
