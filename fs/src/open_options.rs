//! [`OpenOptions`]: how a [`File`] is opened (read, write, append, create, ...).

use std::io;
use std::path::Path;

use crate::asyncify::asyncify;
use crate::File;

/// Options for opening a file, set builder-style and then applied by
/// [`open`](OpenOptions::open): the async [`std::fs::OpenOptions`], with the same meaning for
/// every option. [`File::open`] and [`File::create`] are shorthands for the common sets.
///
/// ```no_run
/// # async fn demo() -> std::io::Result<()> {
/// use gort_fs::OpenOptions;
///
/// let log = OpenOptions::new().append(true).create(true).open("app.log").await?;
/// # drop(log);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct OpenOptions {
    std: std::fs::OpenOptions,
}

impl OpenOptions {
    /// Options with everything off: set at least `read`, `write` or `append` before opening.
    pub fn new() -> OpenOptions {
        OpenOptions {
            std: std::fs::OpenOptions::new(),
        }
    }

    /// Open for reading.
    pub fn read(&mut self, read: bool) -> &mut OpenOptions {
        self.std.read(read);
        self
    }

    /// Open for writing (at the cursor, from the start unless the file is also seeked or
    /// opened in append mode).
    pub fn write(&mut self, write: bool) -> &mut OpenOptions {
        self.std.write(write);
        self
    }

    /// Open for appending: every write goes to the end of the file, whatever the cursor, even
    /// with other writers (`O_APPEND`). Implies `write`.
    pub fn append(&mut self, append: bool) -> &mut OpenOptions {
        self.std.append(append);
        self
    }

    /// Truncate an existing file to 0 bytes when it is opened; needs `write`.
    pub fn truncate(&mut self, truncate: bool) -> &mut OpenOptions {
        self.std.truncate(truncate);
        self
    }

    /// Create the file if it does not exist; needs `write` or `append`.
    pub fn create(&mut self, create: bool) -> &mut OpenOptions {
        self.std.create(create);
        self
    }

    /// Create the file and fail with `AlreadyExists` if it exists, atomically (`O_EXCL`), so
    /// that two openers cannot both believe they made it. Overrides `create` and `truncate`.
    pub fn create_new(&mut self, create_new: bool) -> &mut OpenOptions {
        self.std.create_new(create_new);
        self
    }

    /// Opens `path` with these options, on the blocking pool.
    ///
    /// # Errors
    ///
    /// Those of [`std::fs::OpenOptions::open`]: `NotFound` without `create`,
    /// `AlreadyExists` with `create_new`, `PermissionDenied`, `InvalidInput` for a
    /// contradictory set of options, and so on.
    pub async fn open(&self, path: impl AsRef<Path>) -> io::Result<File> {
        let path = path.as_ref().to_owned();
        let options = self.std.clone();
        let std = asyncify(move || options.open(path)).await?;
        Ok(File::from_std(std))
    }
}

#[cfg(unix)]
impl OpenOptions {
    /// The permission bits a created file gets, before the process's umask (default 0o666).
    pub fn mode(&mut self, mode: u32) -> &mut OpenOptions {
        std::os::unix::fs::OpenOptionsExt::mode(&mut self.std, mode);
        self
    }

    /// Extra `open(2)` flags or'ed in (`libc::O_NOFOLLOW`, say); the access-mode bits are
    /// ignored, as in std.
    pub fn custom_flags(&mut self, flags: i32) -> &mut OpenOptions {
        std::os::unix::fs::OpenOptionsExt::custom_flags(&mut self.std, flags);
        self
    }
}

impl Default for OpenOptions {
    fn default() -> OpenOptions {
        OpenOptions::new()
    }
}

impl From<std::fs::OpenOptions> for OpenOptions {
    fn from(std: std::fs::OpenOptions) -> OpenOptions {
        OpenOptions { std }
    }
}
