//! Descriptor flags that std does not expose for pipes.

use std::io;

/// Turns `O_NONBLOCK` on or off for `fd`.
pub(crate) fn set_nonblocking(fd: libc::c_int, nonblocking: bool) -> io::Result<()> {
    // SAFETY: `fcntl` with F_GETFL/F_SETFL only reads and sets the status flags of `fd`.
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFL);
        if flags < 0 {
            return Err(io::Error::last_os_error());
        }
        let flags = if nonblocking {
            flags | libc::O_NONBLOCK
        } else {
            flags & !libc::O_NONBLOCK
        };
        if libc::fcntl(fd, libc::F_SETFL, flags) < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Sets `FD_CLOEXEC` on `fd`, so that children do not inherit it.
pub(crate) fn set_cloexec(fd: libc::c_int) -> io::Result<()> {
    // SAFETY: `fcntl` with F_GETFD/F_SETFD only reads and sets the descriptor flags of `fd`.
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFD);
        if flags < 0 || libc::fcntl(fd, libc::F_SETFD, flags | libc::FD_CLOEXEC) < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}
