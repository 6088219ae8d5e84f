//! The errors of a oneshot receive, with tokio's names and messages.

use std::fmt;

/// The sender was dropped without sending (awaiting the [`Receiver`](super::Receiver)).
#[derive(Debug, Eq, PartialEq, Clone)]
pub struct RecvError(pub(super) ());

/// Why [`try_recv`](super::Receiver::try_recv) returned no value.
#[derive(Debug, Eq, PartialEq, Clone)]
pub enum TryRecvError {
    /// Nothing sent yet, and the sender is still there.
    Empty,
    /// The sender was dropped without sending, the receiver closed the channel before a value
    /// came, or the value was already received.
    Closed,
}

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("channel closed")
    }
}

impl std::error::Error for RecvError {}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TryRecvError::Empty => "channel empty",
            TryRecvError::Closed => "channel closed",
        })
    }
}

impl std::error::Error for TryRecvError {}
