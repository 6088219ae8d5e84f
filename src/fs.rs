//! Files and directories: tokio's `fs` API, each operation a job on the blocking pool.
//!
//! Regular files have no readiness for the netpoller to wait on, so every call here runs the
//! std call on a pool thread while the task waits without holding an M. See `gort-fs`'s crate
//! documentation for how `File` batches reads and writes to keep those hops few.

#[cfg(unix)]
pub use gort_fs::symlink;
pub use gort_fs::{
    canonicalize, copy, create_dir, create_dir_all, hard_link, metadata, read, read_dir, read_link,
    read_to_string, remove_dir, remove_dir_all, remove_file, rename, set_permissions,
    symlink_metadata, try_exists, write, DirBuilder, DirEntry, File, FileTimes, OpenOptions,
    ReadDir,
};
