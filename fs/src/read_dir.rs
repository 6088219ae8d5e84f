//! [`read_dir`]: a directory's entries, fetched from the blocking pool a batch at a time.
//!
//! `std::fs::ReadDir` is an iterator whose every `next` may block in `readdir(3)` (which itself
//! refills a kernel buffer only now and then). One blocking hop per entry would cost a pool
//! round trip (tens of microseconds) for what is usually a memory copy, so each hop takes up to
//! [`BATCH`] entries and [`ReadDir::poll_next_entry`] hands them out from memory until the
//! batch runs dry. A batch ends early at an error, so that the error is reported in its place
//! and the entries after it are read only if the caller asks for more.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::fs::{FileType, Metadata};
use std::future::{poll_fn, Future};
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use gort_executor::task::spawn_blocking;
use gort_executor::JoinHandle;

use crate::asyncify::{asyncify, background_task_failed};

/// Entries fetched per blocking hop (tokio's chunk size too).
const BATCH: usize = 32;

/// Opens the directory `path` for listing: the async [`std::fs::read_dir`]. The first batch of
/// entries is read in the same hop.
///
/// Entries come in the order the filesystem gives; `.` and `..` are skipped.
///
/// # Errors
///
/// Those of [`std::fs::read_dir`]: `NotFound`, an error when `path` is not a directory, and so
/// on. Errors while listing come from [`ReadDir::next_entry`].
pub async fn read_dir(path: impl AsRef<Path>) -> io::Result<ReadDir> {
    let path = path.as_ref().to_owned();
    asyncify(move || {
        let mut listing = Listing {
            batch: VecDeque::with_capacity(BATCH),
            std: std::fs::read_dir(path)?,
            more: true,
        };
        listing.fill();
        Ok(ReadDir {
            state: State::Idle(Some(listing)),
        })
    })
    .await
}

/// The entries of a directory, from [`read_dir`]; [`next_entry`](ReadDir::next_entry) yields
/// them one at a time.
///
/// Dropping it while a batch is being fetched lets that job finish on its own.
#[derive(Debug)]
#[must_use = "streams do nothing unless polled"]
pub struct ReadDir {
    state: State,
}

/// Where the listing is: here, or on a pool thread fetching the next batch.
#[derive(Debug)]
enum State {
    /// `None` only while a poll moves the listing into a job.
    Idle(Option<Listing>),
    Fetching(JoinHandle<Listing>),
    /// The fetching job was lost (it panicked or the runtime shut down), and the std iterator
    /// with it: the listing reported that error and now ends.
    Lost,
}

/// The std iterator with the entries already fetched from it.
#[derive(Debug)]
struct Listing {
    /// Entries (or errors) fetched and not yet handed out, in order.
    batch: VecDeque<io::Result<DirEntry>>,
    std: std::fs::ReadDir,
    /// False once the std iterator has returned `None`.
    more: bool,
}

impl Listing {
    /// Moves up to [`BATCH`] entries from the std iterator into `batch` (blocking), stopping
    /// after an error.
    fn fill(&mut self) {
        for _ in 0..BATCH {
            let Some(next) = self.std.next() else {
                self.more = false;
                return;
            };
            let failed = next.is_err();
            self.batch.push_back(next.map(DirEntry::new));
            if failed {
                return;
            }
        }
    }
}

impl ReadDir {
    /// The next entry, `Ok(None)` once the directory is exhausted.
    ///
    /// Cancel safe: an entry is taken from the batch only when this returns it.
    ///
    /// # Errors
    ///
    /// An IO error while listing (the listing may go on after it).
    pub async fn next_entry(&mut self) -> io::Result<Option<DirEntry>> {
        poll_fn(|cx| self.poll_next_entry(cx)).await
    }

    /// Polls for the next entry: `Ready(Ok(None))` at the end, `Pending` while a batch is being
    /// fetched (the task is woken when it arrives). For `Stream` adapters.
    ///
    /// # Errors
    ///
    /// An IO error while listing, or `Other` if the fetching job failed.
    pub fn poll_next_entry(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Option<DirEntry>>> {
        loop {
            match &mut self.state {
                State::Idle(slot) => {
                    let listing = slot.as_mut().expect("ReadDir's listing is home while idle");
                    if let Some(next) = listing.batch.pop_front() {
                        return Poll::Ready(next.map(Some));
                    }
                    if !listing.more {
                        return Poll::Ready(Ok(None));
                    }
                    let mut listing = slot.take().expect("checked above");
                    self.state = State::Fetching(spawn_blocking(move || {
                        listing.fill();
                        listing
                    }));
                }
                State::Fetching(job) => match ready!(Pin::new(job).poll(cx)) {
                    Ok(listing) => self.state = State::Idle(Some(listing)),
                    Err(_) => {
                        self.state = State::Lost;
                        return Poll::Ready(Err(background_task_failed()));
                    }
                },
                State::Lost => return Poll::Ready(Ok(None)),
            }
        }
    }
}

/// One entry of a [`ReadDir`]: its name, and its type as the listing reported it.
///
/// Holds the std entry, which on Unix keeps the directory's descriptor open until dropped.
#[derive(Debug)]
pub struct DirEntry {
    /// The type from the listing itself (`d_type`), so that [`DirEntry::file_type`] needs no
    /// `stat` where the filesystem provides it; `None` when it did not.
    file_type: Option<FileType>,
    /// Shared with the jobs of [`DirEntry::metadata`] and [`DirEntry::file_type`].
    std: Arc<std::fs::DirEntry>,
}

impl DirEntry {
    /// Wraps a std entry, reading its type now, on the pool thread, where std has it without a
    /// system call on most filesystems.
    fn new(std: std::fs::DirEntry) -> DirEntry {
        DirEntry {
            file_type: std.file_type().ok(),
            std: Arc::new(std),
        }
    }

    /// The full path: the directory given to [`read_dir`] joined with [`file_name`](Self::file_name).
    pub fn path(&self) -> PathBuf {
        self.std.path()
    }

    /// The bare name of the entry, without any directory.
    pub fn file_name(&self) -> OsString {
        self.std.file_name()
    }

    /// The entry's metadata, not following a symbolic link (like
    /// [`symlink_metadata`](crate::symlink_metadata) on its path, but through the open
    /// directory on platforms that allow it).
    ///
    /// # Errors
    ///
    /// Those of [`std::fs::DirEntry::metadata`], e.g. `NotFound` if the entry was removed since.
    pub async fn metadata(&self) -> io::Result<Metadata> {
        let std = Arc::clone(&self.std);
        asyncify(move || std.metadata()).await
    }

    /// The entry's type, not following a symbolic link: at once if the listing reported it,
    /// else by a `stat` on the blocking pool.
    ///
    /// # Errors
    ///
    /// Those of [`std::fs::DirEntry::file_type`].
    pub async fn file_type(&self) -> io::Result<FileType> {
        if let Some(file_type) = self.file_type {
            return Ok(file_type);
        }
        let std = Arc::clone(&self.std);
        asyncify(move || std.file_type()).await
    }
}

#[cfg(unix)]
impl DirEntry {
    /// The entry's inode number, as the listing reported it (`d_ino`).
    pub fn ino(&self) -> u64 {
        std::os::unix::fs::DirEntryExt::ino(&*self.std)
    }
}
