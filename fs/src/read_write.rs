//! Whole-file reads and writes: [`read`], [`read_to_string`] and [`write()`], one blocking hop
//! each.

use std::io;
use std::path::Path;

use crate::asyncify::asyncify;

/// Reads the whole file at `path` into a `Vec<u8>`: the async [`std::fs::read`].
///
/// The file is opened, sized and read in one blocking job, so this is cheaper than opening a
/// [`File`](crate::File) and reading it to the end, which takes a hop per buffer.
///
/// # Errors
///
/// Those of [`std::fs::read`]: `NotFound` if `path` does not exist, `PermissionDenied`, and so
/// on.
pub async fn read(path: impl AsRef<Path>) -> io::Result<Vec<u8>> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::read(path)).await
}

/// Reads the whole file at `path` into a `String`: the async [`std::fs::read_to_string`].
///
/// # Errors
///
/// Those of [`std::fs::read_to_string`], including `InvalidData` if the contents are not UTF-8.
pub async fn read_to_string(path: impl AsRef<Path>) -> io::Result<String> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::read_to_string(path)).await
}

/// Writes `contents` as the whole file at `path`, creating it or truncating it first: the
/// async [`std::fs::write`].
///
/// The bytes are copied once into the blocking job (the caller's buffer cannot be borrowed
/// across threads).
///
/// # Errors
///
/// Those of [`std::fs::write`].
pub async fn write(path: impl AsRef<Path>, contents: impl AsRef<[u8]>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    let contents = contents.as_ref().to_owned();
    asyncify(move || std::fs::write(path, contents)).await
}
