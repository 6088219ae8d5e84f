//! `Interest`: the kinds of readiness a task waits for (tokio's `io::Interest`).
//!
//! A poll descriptor keeps one readiness set per fd ([`Ready`]); an operation names the part of
//! it that matters with an `Interest`. Readable interest is met by readable *or* read-closed
//! readiness (a read then returns end of stream or an error at once), writable interest by
//! writable or write-closed, priority interest by priority data or read-closed, error interest by
//! an error. [`Interest::mask`] is that table.

use std::fmt;
use std::ops;

use crate::ready::Ready;

/// Bits of an `Interest`. They are the same as the matching [`Ready`] bits (`ready.rs`), which
/// keeps [`Interest::mask`] a table lookup and the two types' `Debug` output aligned.
const READABLE: usize = 0b00_0001;
const WRITABLE: usize = 0b00_0010;
#[cfg(any(target_os = "linux", target_os = "android"))]
const PRIORITY: usize = 0b01_0000;
const ERROR: usize = 0b10_0000;

/// The readiness events a task waits for: what `ready`, `AsyncFd::with_interest` and the
/// `try_io` family take. Combine with `|` or [`Interest::add`].
#[derive(Clone, Copy, Eq, PartialEq)]
pub struct Interest(usize);

impl Interest {
    /// Readable: data, a pending connection, end of stream (read-closed readiness meets it too).
    pub const READABLE: Interest = Interest(READABLE);

    /// Writable: buffer space, a completed connect (write-closed readiness meets it too).
    pub const WRITABLE: Interest = Interest(WRITABLE);

    /// An error is pending on the fd (`EPOLLERR`, which epoll reports whatever was asked for).
    pub const ERROR: Interest = Interest(ERROR);

    /// Priority data (`EPOLLPRI`): out-of-band TCP data, a changed `/proc/self/mounts`, a
    /// pseudo-terminal's state change.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    pub const PRIORITY: Interest = Interest(PRIORITY);

    /// Whether readable interest is in the set.
    pub const fn is_readable(self) -> bool {
        self.0 & READABLE != 0
    }

    /// Whether writable interest is in the set.
    pub const fn is_writable(self) -> bool {
        self.0 & WRITABLE != 0
    }

    /// Whether error interest is in the set.
    pub const fn is_error(self) -> bool {
        self.0 & ERROR != 0
    }

    /// Whether priority interest is in the set.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    pub const fn is_priority(self) -> bool {
        self.0 & PRIORITY != 0
    }

    /// Both sets together (usable in `const` items).
    #[must_use = "this returns the result of the operation, without modifying the original"]
    pub const fn add(self, other: Interest) -> Interest {
        Interest(self.0 | other.0)
    }

    /// `self` without `other`; `None` if nothing is left (an empty interest cannot be waited
    /// for).
    #[must_use = "this returns the result of the operation, without modifying the original"]
    pub fn remove(self, other: Interest) -> Option<Interest> {
        let left = self.0 & !other.0;
        (left != 0).then_some(Interest(left))
    }

    /// The readiness that meets this interest (module doc).
    pub(crate) fn mask(self) -> Ready {
        let mut mask = Ready::EMPTY;
        if self.is_readable() {
            mask |= Ready::READABLE | Ready::READ_CLOSED;
        }
        if self.is_writable() {
            mask |= Ready::WRITABLE | Ready::WRITE_CLOSED;
        }
        #[cfg(any(target_os = "linux", target_os = "android"))]
        if self.is_priority() {
            mask |= Ready::PRIORITY | Ready::READ_CLOSED;
        }
        if self.is_error() {
            mask |= Ready::ERROR;
        }
        mask
    }
}

impl ops::BitOr for Interest {
    type Output = Interest;

    fn bitor(self, other: Interest) -> Interest {
        self.add(other)
    }
}

impl ops::BitOrAssign for Interest {
    fn bitor_assign(&mut self, other: Interest) {
        *self = self.add(other);
    }
}

impl fmt::Debug for Interest {
    /// `READABLE | WRITABLE`, as the constants are named.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = [
            (self.is_readable(), "READABLE"),
            (self.is_writable(), "WRITABLE"),
            #[cfg(any(target_os = "linux", target_os = "android"))]
            (self.is_priority(), "PRIORITY"),
            (self.is_error(), "ERROR"),
        ];
        let mut first = true;
        for (_, name) in names.iter().filter(|(present, _)| *present) {
            if !first {
                f.write_str(" | ")?;
            }
            f.write_str(name)?;
            first = false;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_remove_and_debug() {
        const BOTH: Interest = Interest::READABLE.add(Interest::WRITABLE);
        assert!(BOTH.is_readable() && BOTH.is_writable() && !BOTH.is_error());
        assert_eq!(BOTH.remove(Interest::READABLE), Some(Interest::WRITABLE));
        assert_eq!(BOTH.remove(BOTH), None);
        assert_eq!(
            Interest::READABLE.remove(Interest::ERROR),
            Some(Interest::READABLE),
            "removing what is absent changes nothing"
        );
        let mut interest = Interest::ERROR;
        interest |= Interest::READABLE;
        assert_eq!(format!("{interest:?}"), "READABLE | ERROR");
    }

    #[test]
    fn each_interest_is_met_by_its_closed_readiness() {
        let cases = [
            (Interest::READABLE, Ready::READABLE | Ready::READ_CLOSED),
            (Interest::WRITABLE, Ready::WRITABLE | Ready::WRITE_CLOSED),
            (Interest::ERROR, Ready::ERROR),
            #[cfg(any(target_os = "linux", target_os = "android"))]
            (Interest::PRIORITY, Ready::PRIORITY | Ready::READ_CLOSED),
        ];
        for (interest, mask) in cases {
            assert_eq!(interest.mask(), mask, "{interest:?}");
        }
    }
}
