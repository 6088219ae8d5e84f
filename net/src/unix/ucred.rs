//! `UCred`: the credentials of the process at the other end of a Unix-domain stream, as the
//! kernel recorded them at `connect` (or `socketpair`) time.
//!
//! Linux and Android answer `SO_PEERCRED` with user, group and process ids. The BSDs and
//! macOS answer `getpeereid` with user and group only; there the process id is `None`.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

/// A user id (tokio's `net::unix::uid_t`).
#[allow(non_camel_case_types, reason = "tokio's name for the C type")]
pub type uid_t = u32;
/// A group id (tokio's `net::unix::gid_t`).
#[allow(non_camel_case_types, reason = "tokio's name for the C type")]
pub type gid_t = u32;
/// A process id (tokio's `net::unix::pid_t`).
#[allow(non_camel_case_types, reason = "tokio's name for the C type")]
pub type pid_t = i32;

/// The credentials of a peer process (tokio's `net::unix::UCred`), from
/// `UnixStream::peer_cred`.
#[derive(Copy, Clone, Eq, PartialEq, Hash, Debug)]
pub struct UCred {
    pid: Option<pid_t>,
    uid: uid_t,
    gid: gid_t,
}

impl UCred {
    /// The peer's effective user id.
    pub fn uid(&self) -> uid_t {
        self.uid
    }

    /// The peer's effective group id.
    pub fn gid(&self) -> gid_t {
        self.gid
    }

    /// The peer's process id, where the platform reports it (Linux and Android).
    pub fn pid(&self) -> Option<pid_t> {
        self.pid
    }
}

/// `SO_PEERCRED` of `socket`.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub(crate) fn peer_cred(socket: BorrowedFd<'_>) -> io::Result<UCred> {
    let mut cred = libc::ucred {
        pid: 0,
        uid: 0,
        gid: 0,
    };
    let mut len = std::mem::size_of::<libc::ucred>() as libc::socklen_t;
    // SAFETY: `socket` is an open fd for the borrow; `cred` and `len` are live locals of the
    // size `len` says, which `getsockopt` writes at most `len` bytes of.
    let result = unsafe {
        libc::getsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_PEERCRED,
            (&mut cred as *mut libc::ucred).cast(),
            &mut len,
        )
    };
    if result != 0 {
        return Err(io::Error::last_os_error());
    }
    if len as usize != std::mem::size_of::<libc::ucred>() {
        return Err(io::Error::other("SO_PEERCRED returned a short ucred"));
    }
    Ok(UCred {
        pid: Some(cred.pid),
        uid: cred.uid,
        gid: cred.gid,
    })
}

/// `getpeereid` of `socket`.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub(crate) fn peer_cred(socket: BorrowedFd<'_>) -> io::Result<UCred> {
    let mut uid: libc::uid_t = 0;
    let mut gid: libc::gid_t = 0;
    // SAFETY: `socket` is an open fd for the borrow; `uid` and `gid` are live locals.
    let result = unsafe { libc::getpeereid(socket.as_raw_fd(), &mut uid, &mut gid) };
    if result != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(UCred {
        pid: None,
        uid,
        gid,
    })
}
