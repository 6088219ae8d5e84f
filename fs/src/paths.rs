//! Operations on names: [`rename`], [`copy`], [`hard_link`], [`symlink`], [`canonicalize`],
//! [`read_link`] and [`remove_file`].

use std::io;
use std::path::{Path, PathBuf};

use crate::asyncify::asyncify;

/// Renames `from` to `to`, replacing `to` if it exists: the async [`std::fs::rename`].
///
/// # Errors
///
/// Those of [`std::fs::rename`]: `NotFound` if `from` does not exist, an error when `to` is on
/// another filesystem, and so on.
pub async fn rename(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<()> {
    let from = from.as_ref().to_owned();
    let to = to.as_ref().to_owned();
    asyncify(move || std::fs::rename(from, to)).await
}

/// Copies the contents and permissions of the file `from` to `to`, overwriting it; returns the
/// number of bytes copied. The async [`std::fs::copy`] (which uses `copy_file_range` and the
/// like where the platform has them).
///
/// # Errors
///
/// Those of [`std::fs::copy`], e.g. when `from` is not a regular file.
pub async fn copy(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<u64> {
    let from = from.as_ref().to_owned();
    let to = to.as_ref().to_owned();
    asyncify(move || std::fs::copy(from, to)).await
}

/// Makes `link` a new hard link to the file `original`: the async [`std::fs::hard_link`].
///
/// # Errors
///
/// Those of [`std::fs::hard_link`]: `NotFound` for a missing `original`, `AlreadyExists` for an
/// existing `link`, and so on.
pub async fn hard_link(original: impl AsRef<Path>, link: impl AsRef<Path>) -> io::Result<()> {
    let original = original.as_ref().to_owned();
    let link = link.as_ref().to_owned();
    asyncify(move || std::fs::hard_link(original, link)).await
}

/// Makes `link` a symbolic link pointing at `original` (which need not exist): the async
/// [`std::os::unix::fs::symlink`].
///
/// # Errors
///
/// Those of [`std::os::unix::fs::symlink`], e.g. `AlreadyExists` for an existing `link`.
#[cfg(unix)]
pub async fn symlink(original: impl AsRef<Path>, link: impl AsRef<Path>) -> io::Result<()> {
    let original = original.as_ref().to_owned();
    let link = link.as_ref().to_owned();
    asyncify(move || std::os::unix::fs::symlink(original, link)).await
}

/// The absolute form of `path` with every symbolic link, `.` and `..` resolved: the async
/// [`std::fs::canonicalize`].
///
/// # Errors
///
/// Those of [`std::fs::canonicalize`]: `NotFound` if `path` (or a link target) does not exist.
pub async fn canonicalize(path: impl AsRef<Path>) -> io::Result<PathBuf> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::canonicalize(path)).await
}

/// The target a symbolic link points at, unresolved: the async [`std::fs::read_link`].
///
/// # Errors
///
/// Those of [`std::fs::read_link`], e.g. `InvalidInput` when `path` is not a link.
pub async fn read_link(path: impl AsRef<Path>) -> io::Result<PathBuf> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::read_link(path)).await
}

/// Removes the file (or symbolic link) `path`: the async [`std::fs::remove_file`]. Open handles
/// to the file stay valid on Unix.
///
/// # Errors
///
/// Those of [`std::fs::remove_file`]: `NotFound`, an error for a directory, and so on.
pub async fn remove_file(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::remove_file(path)).await
}
