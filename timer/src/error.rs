//! `Elapsed`, the error of a [`Timeout`](crate::Timeout) whose deadline passed first, and
//! `Error`, tokio's timer error.

use std::fmt;
use std::io;

/// The deadline of a `timeout` passed before its future completed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elapsed(());

impl Elapsed {
    pub(crate) fn new() -> Elapsed {
        Elapsed(())
    }
}

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline has elapsed")
    }
}

impl std::error::Error for Elapsed {}

impl From<Elapsed> for io::Error {
    /// `ErrorKind::TimedOut`, so `?` works in functions returning `io::Result`.
    fn from(elapsed: Elapsed) -> io::Error {
        io::Error::new(io::ErrorKind::TimedOut, elapsed)
    }
}

/// A timer error, in tokio's shape (`time::error::Error`): the timer was shut down, is at
/// capacity, or was given a deadline it cannot represent.
///
/// gort's own timers report none of these through this type (a timer used after its runtime
/// shut down panics, and deadlines saturate), but libraries written for tokio name it in their
/// signatures and build it with these constructors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Error(ErrorKind);

/// Which of [`Error`]'s three cases it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ErrorKind {
    Shutdown,
    AtCapacity,
    Invalid,
}

impl Error {
    /// The timer has shut down.
    pub fn shutdown() -> Error {
        Error(ErrorKind::Shutdown)
    }

    /// Whether this is [`Error::shutdown`].
    pub fn is_shutdown(&self) -> bool {
        self.0 == ErrorKind::Shutdown
    }

    /// The timer can take no more entries.
    pub fn at_capacity() -> Error {
        Error(ErrorKind::AtCapacity)
    }

    /// Whether this is [`Error::at_capacity`].
    pub fn is_at_capacity(&self) -> bool {
        self.0 == ErrorKind::AtCapacity
    }

    /// The deadline is beyond what the timer can represent.
    pub fn invalid() -> Error {
        Error(ErrorKind::Invalid)
    }

    /// Whether this is [`Error::invalid`].
    pub fn is_invalid(&self) -> bool {
        self.0 == ErrorKind::Invalid
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.0 {
            ErrorKind::Shutdown => "the timer is shut down: it must be used inside a runtime",
            ErrorKind::AtCapacity => "the timer is at capacity and cannot take a new entry",
            ErrorKind::Invalid => "the timer's duration exceeds the longest it can represent",
        })
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::Error;

    #[test]
    fn each_constructor_answers_only_its_own_question() {
        let cases = [
            (Error::shutdown(), [true, false, false]),
            (Error::at_capacity(), [false, true, false]),
            (Error::invalid(), [false, false, true]),
        ];
        for (error, expected) in cases {
            let got = [
                error.is_shutdown(),
                error.is_at_capacity(),
                error.is_invalid(),
            ];
            assert_eq!(got, expected, "{error}");
        }
    }
}
