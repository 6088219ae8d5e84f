//! Broadcast error types: what `send`, `recv` and `try_recv` return when they cannot deliver.

use std::fmt;

/// The error of [`Sender::send`](super::Sender::send): no receiver is subscribed, so nobody
/// could ever see the value, which it gives back.
#[derive(Debug)]
pub struct SendError<T>(pub T);

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "channel closed")
    }
}

impl<T: fmt::Debug> std::error::Error for SendError<T> {}

/// The error of [`Receiver::recv`](super::Receiver::recv).
#[derive(Debug, PartialEq, Eq, Clone)]
pub enum RecvError {
    /// Every sender is gone and this receiver has seen every retained value: nothing more will
    /// come.
    Closed,
    /// The receiver fell so far behind that this many values were overwritten before it read
    /// them. It stays subscribed: its next receive returns the oldest value still retained.
    Lagged(u64),
}

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecvError::Closed => write!(f, "channel closed"),
            RecvError::Lagged(missed) => write!(f, "channel lagged by {missed}"),
        }
    }
}

impl std::error::Error for RecvError {}

/// The error of [`Receiver::try_recv`](super::Receiver::try_recv).
#[derive(Debug, PartialEq, Eq, Clone)]
pub enum TryRecvError {
    /// No value this receiver has not seen yet, and senders remain: one may still come.
    Empty,
    /// Every sender is gone and this receiver has seen every retained value.
    Closed,
    /// This many values were overwritten before the receiver read them; its next receive
    /// returns the oldest value still retained (as [`RecvError::Lagged`]).
    Lagged(u64),
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => write!(f, "channel empty"),
            TryRecvError::Closed => write!(f, "channel closed"),
            TryRecvError::Lagged(missed) => write!(f, "channel lagged by {missed}"),
        }
    }
}

impl std::error::Error for TryRecvError {}
