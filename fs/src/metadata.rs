//! Facts about paths: [`metadata`], [`symlink_metadata`], [`try_exists`], and
//! [`set_permissions`] to change them.

use std::fs::{Metadata, Permissions};
use std::io;
use std::path::Path;

use crate::asyncify::asyncify;

/// The metadata of what `path` names, following symbolic links: the async
/// [`std::fs::metadata`].
///
/// # Errors
///
/// Those of [`std::fs::metadata`]: `NotFound`, `PermissionDenied` on a parent, and so on.
pub async fn metadata(path: impl AsRef<Path>) -> io::Result<Metadata> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::metadata(path)).await
}

/// The metadata of `path` itself, not of what a symbolic link there points at: the async
/// [`std::fs::symlink_metadata`].
///
/// # Errors
///
/// Those of [`std::fs::symlink_metadata`].
pub async fn symlink_metadata(path: impl AsRef<Path>) -> io::Result<Metadata> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::symlink_metadata(path)).await
}

/// Whether `path` names something, following symbolic links: `Ok(false)` when it does not
/// exist (a dangling link included), an error when that cannot be decided (a parent directory
/// that cannot be searched, say). The async [`Path::try_exists`].
///
/// # Errors
///
/// Any error of the underlying `stat` other than `NotFound`.
pub async fn try_exists(path: impl AsRef<Path>) -> io::Result<bool> {
    let path = path.as_ref().to_owned();
    asyncify(move || path.try_exists()).await
}

/// Sets the permissions of what `path` names: the async [`std::fs::set_permissions`].
///
/// # Errors
///
/// Those of [`std::fs::set_permissions`], e.g. `NotFound` or `PermissionDenied`.
pub async fn set_permissions(path: impl AsRef<Path>, perm: Permissions) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::set_permissions(path, perm)).await
}
