//! [`File`]: an open file whose reads, writes and seeks run on the blocking pool.
//!
//! Regular files are always "ready" to the kernel's readiness APIs, so they cannot be driven
//! by the netpoller the way sockets are; every operation is a blocking system call, made on a
//! pool thread while the task waits without holding an M. A `File` keeps one such job in
//! flight and a buffer that moves between the handle and the job ([`inner`] has the state
//! machine, [`crate::write_behind`] how small writes share a job).
//!
//! The consequences users see are tokio's: a write returns once its bytes are copied, before
//! they reach the OS, so call `flush` (or `sync_all`) to learn that they did and to see a
//! write's error; dropping a `File` does not cancel its in-flight job, which still writes what
//! was accepted.

mod inner;
mod io_traits;
#[cfg(test)]
mod tests;

use std::fmt;
use std::fs::{Metadata, Permissions};
use std::io;
use std::path::Path;
use std::sync::Arc;
use std::time::SystemTime;

use gort_sync::primitives::Mutex;

use self::inner::Inner;
use crate::asyncify::asyncify;
use crate::buf::DEFAULT_MAX_BUF_SIZE;
use crate::{FileTimes, OpenOptions};

/// An open file, read and written through the async IO traits (`AsyncRead`, `AsyncWrite`,
/// `AsyncSeek`); the async counterpart of [`std::fs::File`].
///
/// Writes are buffered in the handle and written by a background job: a write's `Ok(n)` means
/// the bytes were accepted, not written. `flush().await` waits until they are in the OS and
/// returns the error of a failed write; `sync_all` additionally waits for the disk. Reads ask
/// the OS for up to `max_buf_size` bytes at a time (2 MiB by default, see
/// [`set_max_buf_size`](File::set_max_buf_size)), never more than the caller's buffer holds.
///
/// ```no_run
/// # async fn demo() -> std::io::Result<()> {
/// use gort_fs::File;
/// use gort_io::{AsyncReadExt, AsyncWriteExt};
///
/// let mut file = File::create("notes.txt").await?;
/// file.write_all(b"remember the milk\n").await?;
/// file.flush().await?;
///
/// let mut contents = String::new();
/// File::open("notes.txt").await?.read_to_string(&mut contents).await?;
/// # Ok(())
/// # }
/// ```
pub struct File {
    /// Shared with the in-flight job (and with the jobs of `metadata` and friends).
    std: Arc<std::fs::File>,
    /// The one-job-in-flight state; `&self` methods take the lock to wait for that job.
    inner: Mutex<Inner>,
    /// Largest buffer moved per blocking hop, and largest amount staged behind a write.
    max_buf_size: usize,
}

impl File {
    /// Opens the file at `path` for reading.
    ///
    /// # Errors
    ///
    /// Those of [`std::fs::File::open`]: `NotFound`, `PermissionDenied`, and so on.
    pub async fn open(path: impl AsRef<Path>) -> io::Result<File> {
        OpenOptions::new().read(true).open(path).await
    }

    /// Opens the file at `path` for writing, creating it if needed and truncating it if it
    /// exists.
    ///
    /// # Errors
    ///
    /// Those of [`std::fs::File::create`].
    pub async fn create(path: impl AsRef<Path>) -> io::Result<File> {
        OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)
            .await
    }

    /// Creates the file at `path` for reading and writing, failing with `AlreadyExists` if it
    /// exists (atomically: of several racing callers exactly one succeeds).
    ///
    /// # Errors
    ///
    /// `AlreadyExists`, and the others of [`std::fs::File::create_new`].
    pub async fn create_new<P: AsRef<Path>>(path: P) -> io::Result<File> {
        OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(path)
            .await
    }

    /// New [`OpenOptions`], for opening with any other combination of options.
    #[must_use]
    pub fn options() -> OpenOptions {
        OpenOptions::new()
    }

    /// Wraps an open std file. Its cursor is used as it is.
    pub fn from_std(std: std::fs::File) -> File {
        File {
            std: Arc::new(std),
            inner: Mutex::new(Inner::new()),
            max_buf_size: DEFAULT_MAX_BUF_SIZE,
        }
    }

    /// Flushes the OS's buffers for this file to the disk, data and metadata (`fsync`), after
    /// the in-flight write has finished.
    ///
    /// # Errors
    ///
    /// The error of `fsync`. A failed earlier write's error is kept for the next write or
    /// flush, as tokio does.
    pub async fn sync_all(&self) -> io::Result<()> {
        self.inner.lock().await.complete_inflight().await;
        let std = Arc::clone(&self.std);
        asyncify(move || std.sync_all()).await
    }

    /// [`sync_all`](File::sync_all) without the metadata that is not needed to read the data
    /// back (`fdatasync`): cheaper where the platform distinguishes them.
    ///
    /// # Errors
    ///
    /// The error of `fdatasync`.
    pub async fn sync_data(&self) -> io::Result<()> {
        self.inner.lock().await.complete_inflight().await;
        let std = Arc::clone(&self.std);
        asyncify(move || std.sync_data()).await
    }

    /// Truncates or extends (with zeros) the file to `size` bytes, after the in-flight
    /// operation. The cursor does not move, even past the new end.
    ///
    /// # Errors
    ///
    /// Those of [`std::fs::File::set_len`], e.g. `InvalidInput` on a file not open for writing.
    pub async fn set_len(&self, size: u64) -> io::Result<()> {
        self.inner.lock().await.set_len(&self.std, size).await
    }

    /// The file's metadata (`fstat`). Does not wait for the in-flight write, so the length may
    /// not count it yet; `flush` first for that.
    ///
    /// # Errors
    ///
    /// Those of [`std::fs::File::metadata`].
    pub async fn metadata(&self) -> io::Result<Metadata> {
        let std = Arc::clone(&self.std);
        asyncify(move || std.metadata()).await
    }

    /// A second handle to the same open file (they share the cursor), after the in-flight
    /// operation; it gets this handle's `max_buf_size`.
    ///
    /// # Errors
    ///
    /// Those of [`std::fs::File::try_clone`], e.g. when out of file descriptors.
    pub async fn try_clone(&self) -> io::Result<File> {
        self.inner.lock().await.complete_inflight().await;
        let std = Arc::clone(&self.std);
        let clone = asyncify(move || std.try_clone()).await?;
        let mut file = File::from_std(clone);
        file.set_max_buf_size(self.max_buf_size);
        Ok(file)
    }

    /// The std file, after the in-flight operation has finished. Read-ahead bytes are dropped
    /// (the std file's cursor is past them).
    ///
    /// # Panics
    ///
    /// If a job started by `metadata`, `set_permissions` or `set_times` whose future was
    /// dropped still holds the file.
    pub async fn into_std(mut self) -> std::fs::File {
        self.inner.get_mut().complete_inflight().await;
        Arc::try_unwrap(self.std)
            .expect("gort::fs::File::into_std: a blocking job still uses the file")
    }

    /// The std file at once, or `Err(self)` if a job is in flight. Read-ahead bytes are
    /// dropped, and a failed write's error is lost.
    #[allow(clippy::result_large_err)] // tokio's signature: the error is the file itself.
    pub fn try_into_std(mut self) -> Result<std::fs::File, File> {
        match Arc::try_unwrap(self.std) {
            Ok(std) => Ok(std),
            Err(shared) => {
                self.std = shared;
                Err(self)
            }
        }
    }

    /// Changes the file's permissions (`fchmod`).
    ///
    /// # Errors
    ///
    /// Those of [`std::fs::File::set_permissions`].
    pub async fn set_permissions(&self, perm: Permissions) -> io::Result<()> {
        let std = Arc::clone(&self.std);
        asyncify(move || std.set_permissions(perm)).await
    }

    /// Sets the file's timestamps, after the in-flight operation (which would otherwise update
    /// the modification time after this).
    ///
    /// # Errors
    ///
    /// Those of [`std::fs::File::set_times`].
    pub async fn set_times(&self, times: FileTimes) -> io::Result<()> {
        self.inner.lock().await.complete_inflight().await;
        let std = Arc::clone(&self.std);
        let times = times.into_std();
        asyncify(move || std.set_times(times)).await
    }

    /// Sets the file's modification time: [`set_times`](File::set_times) with only that.
    ///
    /// # Errors
    ///
    /// Those of [`std::fs::File::set_modified`].
    pub async fn set_modified(&self, time: SystemTime) -> io::Result<()> {
        self.set_times(FileTimes::new().set_modified(time)).await
    }

    /// Sets the largest buffer moved per blocking hop (and staged behind a write). Larger means
    /// fewer hops for large reads and writes, and more memory per file.
    ///
    /// # Panics
    ///
    /// If `max_buf_size` is 0.
    #[track_caller]
    pub fn set_max_buf_size(&mut self, max_buf_size: usize) {
        assert!(max_buf_size > 0, "`max_buf_size` must be greater than 0");
        self.max_buf_size = max_buf_size;
    }

    /// The largest buffer moved per blocking hop ([`set_max_buf_size`](File::set_max_buf_size)).
    pub fn max_buf_size(&self) -> usize {
        self.max_buf_size
    }
}

impl From<std::fs::File> for File {
    fn from(std: std::fs::File) -> File {
        File::from_std(std)
    }
}

impl fmt::Debug for File {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("File").field("std", &self.std).finish()
    }
}

#[cfg(unix)]
mod unix {
    use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

    use super::File;

    impl From<OwnedFd> for File {
        fn from(fd: OwnedFd) -> File {
            File::from_std(std::fs::File::from(fd))
        }
    }

    impl AsRawFd for File {
        fn as_raw_fd(&self) -> RawFd {
            self.std.as_raw_fd()
        }
    }

    impl AsFd for File {
        fn as_fd(&self) -> BorrowedFd<'_> {
            self.std.as_fd()
        }
    }

    impl FromRawFd for File {
        /// # Safety
        ///
        /// `fd` must be an open file descriptor that nothing else owns, as for
        /// [`std::fs::File::from_raw_fd`].
        unsafe fn from_raw_fd(fd: RawFd) -> File {
            // SAFETY: the caller upholds `from_raw_fd`'s contract (an open descriptor that
            // nothing else owns), which is exactly std's.
            File::from_std(unsafe { std::fs::File::from_raw_fd(fd) })
        }
    }
}
