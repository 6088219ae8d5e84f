//! Making and removing directories: [`create_dir`], [`create_dir_all`], [`remove_dir`],
//! [`remove_dir_all`] and [`DirBuilder`] for the options in between.

use std::io;
use std::path::Path;

use crate::asyncify::asyncify;

/// Creates the directory `path`; its parent must exist: the async [`std::fs::create_dir`].
///
/// # Errors
///
/// `AlreadyExists` if `path` exists, `NotFound` if its parent does not, and the others of
/// [`std::fs::create_dir`].
pub async fn create_dir(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::create_dir(path)).await
}

/// Creates the directory `path` and every missing parent: the async
/// [`std::fs::create_dir_all`]. Succeeds if `path` already is a directory.
///
/// # Errors
///
/// Those of [`std::fs::create_dir_all`], e.g. when a component exists and is not a directory.
pub async fn create_dir_all(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::create_dir_all(path)).await
}

/// Removes the empty directory `path`: the async [`std::fs::remove_dir`].
///
/// # Errors
///
/// Those of [`std::fs::remove_dir`], e.g. when the directory is not empty.
pub async fn remove_dir(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::remove_dir(path)).await
}

/// Removes the directory `path` with everything in it: the async [`std::fs::remove_dir_all`].
/// Symbolic links inside are removed, not followed.
///
/// The whole walk is one blocking job, so a large tree holds one pool thread (never an M) until
/// it is gone.
///
/// # Errors
///
/// Those of [`std::fs::remove_dir_all`].
pub async fn remove_dir_all(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::remove_dir_all(path)).await
}

/// Options for creating a directory: whether missing parents are made too, and (on Unix) the
/// permission bits. The async [`std::fs::DirBuilder`].
#[derive(Debug, Default)]
pub struct DirBuilder {
    /// Create missing parents as well ([`create_dir_all`]'s behaviour).
    recursive: bool,
    /// Permission bits for the new directories, before the umask; `None` leaves std's default
    /// (0o777).
    #[cfg(unix)]
    mode: Option<u32>,
}

impl DirBuilder {
    /// Options that create a single directory with the default permissions.
    pub fn new() -> DirBuilder {
        DirBuilder::default()
    }

    /// Whether [`create`](DirBuilder::create) also makes every missing parent (and succeeds if
    /// the directory exists). Off by default.
    pub fn recursive(&mut self, recursive: bool) -> &mut DirBuilder {
        self.recursive = recursive;
        self
    }

    /// Creates the directory `path` with these options.
    ///
    /// # Errors
    ///
    /// Those of [`std::fs::DirBuilder::create`]: `AlreadyExists` for an existing `path` unless
    /// recursive, `NotFound` for a missing parent unless recursive, and so on.
    pub async fn create(&self, path: impl AsRef<Path>) -> io::Result<()> {
        let path = path.as_ref().to_owned();
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(self.recursive);
        #[cfg(unix)]
        if let Some(mode) = self.mode {
            std::os::unix::fs::DirBuilderExt::mode(&mut builder, mode);
        }
        asyncify(move || builder.create(path)).await
    }
}

#[cfg(unix)]
impl DirBuilder {
    /// The permission bits of the directories created (before the process's umask applies).
    pub fn mode(&mut self, mode: u32) -> &mut DirBuilder {
        self.mode = Some(mode);
        self
    }
}
