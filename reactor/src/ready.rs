//! `Ready`: the readiness a poll descriptor has seen (tokio's `io::Ready`).
//!
//! The bits are the low bits of `PollDesc::state` (`poll_desc.rs`), so a descriptor's readiness
//! is `Ready::from_state(state)` with no translation. Readable, writable, priority and error
//! readiness are cleared when an operation proves them stale; the two closed kinds are sticky
//! (the peer cannot un-close), as in tokio.

use std::fmt;
use std::ops;

/// Readable: `EPOLLIN` (or an error or hang-up a read will report).
const READABLE: usize = 0b00_0001;
/// Writable: `EPOLLOUT` (or an error or hang-up a write will report).
const WRITABLE: usize = 0b00_0010;
/// The read side is gone: the peer's FIN (`EPOLLRDHUP`) or a hang-up (`EPOLLHUP`).
const READ_CLOSED: usize = 0b00_0100;
/// The write side is gone: a hang-up (`EPOLLHUP`) or an error (`EPOLLERR`).
const WRITE_CLOSED: usize = 0b00_1000;
/// Priority data: `EPOLLPRI`.
#[cfg(any(target_os = "linux", target_os = "android"))]
const PRIORITY: usize = 0b01_0000;
/// An error is pending: `EPOLLERR`.
const ERROR: usize = 0b10_0000;

/// Every readiness bit this platform reports.
#[cfg(any(target_os = "linux", target_os = "android"))]
const ALL: usize = READABLE | WRITABLE | READ_CLOSED | WRITE_CLOSED | PRIORITY | ERROR;
#[cfg(not(any(target_os = "linux", target_os = "android")))]
const ALL: usize = READABLE | WRITABLE | READ_CLOSED | WRITE_CLOSED | ERROR;

/// A set of readiness kinds: what `ready(Interest)` and an `AsyncFd` guard report.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Ready(usize);

impl Ready {
    /// No readiness.
    pub const EMPTY: Ready = Ready(0);
    /// Readable.
    pub const READABLE: Ready = Ready(READABLE);
    /// Writable.
    pub const WRITABLE: Ready = Ready(WRITABLE);
    /// The read side is closed: reads return end of stream (or an error) at once.
    pub const READ_CLOSED: Ready = Ready(READ_CLOSED);
    /// The write side is closed: writes fail at once.
    pub const WRITE_CLOSED: Ready = Ready(WRITE_CLOSED);
    /// Priority data is waiting.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    pub const PRIORITY: Ready = Ready(PRIORITY);
    /// An error is pending.
    pub const ERROR: Ready = Ready(ERROR);
    /// Every kind this platform reports.
    pub const ALL: Ready = Ready(ALL);

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether readable readiness is in the set.
    pub fn is_readable(self) -> bool {
        self.0 & READABLE != 0
    }

    /// Whether writable readiness is in the set.
    pub fn is_writable(self) -> bool {
        self.0 & WRITABLE != 0
    }

    /// Whether read-closed readiness is in the set.
    pub fn is_read_closed(self) -> bool {
        self.0 & READ_CLOSED != 0
    }

    /// Whether write-closed readiness is in the set.
    pub fn is_write_closed(self) -> bool {
        self.0 & WRITE_CLOSED != 0
    }

    /// Whether priority readiness is in the set.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    pub fn is_priority(self) -> bool {
        self.0 & PRIORITY != 0
    }

    /// Whether error readiness is in the set.
    pub fn is_error(self) -> bool {
        self.0 & ERROR != 0
    }

    /// The readiness bits of a descriptor's state word (the other bits are dropped).
    pub(crate) const fn from_state(state: usize) -> Ready {
        Ready(state & ALL)
    }

    /// The bits, to store in or clear from a state word.
    pub(crate) const fn bits(self) -> usize {
        self.0
    }
}

impl ops::BitOr for Ready {
    type Output = Ready;

    fn bitor(self, other: Ready) -> Ready {
        Ready(self.0 | other.0)
    }
}

impl ops::BitOrAssign for Ready {
    fn bitor_assign(&mut self, other: Ready) {
        self.0 |= other.0;
    }
}

impl ops::BitAnd for Ready {
    type Output = Ready;

    fn bitand(self, other: Ready) -> Ready {
        Ready(self.0 & other.0)
    }
}

impl ops::Sub for Ready {
    type Output = Ready;

    fn sub(self, other: Ready) -> Ready {
        Ready(self.0 & !other.0)
    }
}

impl fmt::Debug for Ready {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut f = f.debug_struct("Ready");
        f.field("is_readable", &self.is_readable())
            .field("is_writable", &self.is_writable())
            .field("is_read_closed", &self.is_read_closed())
            .field("is_write_closed", &self.is_write_closed())
            .field("is_error", &self.is_error());
        #[cfg(any(target_os = "linux", target_os = "android"))]
        f.field("is_priority", &self.is_priority());
        f.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_operations() {
        let ready = Ready::READABLE | Ready::READ_CLOSED;
        assert!(ready.is_readable() && ready.is_read_closed() && !ready.is_writable());
        assert_eq!(ready - Ready::READ_CLOSED, Ready::READABLE);
        assert_eq!(ready & Ready::WRITABLE, Ready::EMPTY);
        assert!(Ready::EMPTY.is_empty());
        assert_eq!(Ready::from_state(usize::MAX), Ready::ALL);
    }
}
