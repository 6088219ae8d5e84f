//! Watch error types.

use std::error::Error;
use std::fmt;

/// The error of [`Sender::send`](super::Sender::send): no receiver is left, so the value was
/// not stored; it comes back here.
#[derive(PartialEq, Eq, Clone, Copy)]
pub struct SendError<T>(pub T);

impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendError").finish_non_exhaustive()
    }
}

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "channel closed")
    }
}

impl<T> Error for SendError<T> {}

/// The error of [`Receiver::changed`](super::Receiver::changed) and friends: every sender is
/// gone (and, for `changed`, the current value is already seen).
#[derive(Debug, Clone)]
pub struct RecvError(pub(super) ());

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "channel closed")
    }
}

impl Error for RecvError {}
