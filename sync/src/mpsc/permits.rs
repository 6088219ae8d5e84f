//! Permits: slots of a bounded channel reserved ahead of the value (`reserve`,
//! `reserve_many`, `reserve_owned` and their `try_` forms).
//!
//! A permit holds one slot of the channel's capacity. Sending with it cannot fail or wait (the
//! slot is there; if the receiver is gone the value is simply dropped); dropping it unused gives
//! the slot back, to the oldest waiting reservation first. Either way, when it was the last
//! permit out on a closed channel, its receiver is woken to see the channel end.

use std::fmt;
use std::iter::FusedIterator;

use gort_gc::Trace;

use super::bounded::Sender;
use super::chan::Channel;

/// One reserved slot of a bounded channel, borrowing its sender: [`send`](Permit::send) uses
/// it, dropping it gives the slot back.
pub struct Permit<'a, T> {
    chan: &'a Channel<T>,
}

/// Several reserved slots (`reserve_many`), handed out one [`Permit`] at a time; the slots not
/// taken are given back when it is dropped.
pub struct PermitIterator<'a, T> {
    chan: &'a Channel<T>,
    /// Slots not handed out yet.
    left: usize,
}

/// One reserved slot that owns its [`Sender`] (`reserve_owned`), so that it can move into a
/// task; [`send`](OwnedPermit::send) and [`release`](OwnedPermit::release) give the sender
/// back.
pub struct OwnedPermit<T> {
    /// `None` only after `send`/`release` took it (they consume the permit).
    sender: Option<Sender<T>>,
}

impl<'a, T> Permit<'a, T> {
    pub(super) fn new(chan: &'a Channel<T>) -> Permit<'a, T> {
        Permit { chan }
    }

    /// Sends `value` in the reserved slot, without waiting. If the receiver is gone the value
    /// is dropped (there is no error to return it in: tokio's signature).
    pub fn send(self, value: T) {
        let chan = self.chan;
        // The slot is used, not given back.
        std::mem::forget(self);
        chan.send_reserved(value);
    }
}

impl<T> Drop for Permit<'_, T> {
    fn drop(&mut self) {
        self.chan.release(1);
    }
}

impl<'a, T> PermitIterator<'a, T> {
    pub(super) fn new(chan: &'a Channel<T>, n: usize) -> PermitIterator<'a, T> {
        PermitIterator { chan, left: n }
    }
}

impl<'a, T> Iterator for PermitIterator<'a, T> {
    type Item = Permit<'a, T>;

    fn next(&mut self) -> Option<Permit<'a, T>> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        Some(Permit::new(self.chan))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl<T> ExactSizeIterator for PermitIterator<'_, T> {}

impl<T> FusedIterator for PermitIterator<'_, T> {}

impl<T> Drop for PermitIterator<'_, T> {
    fn drop(&mut self) {
        self.chan.release(self.left);
    }
}

impl<T> OwnedPermit<T> {
    pub(super) fn new(sender: Sender<T>) -> OwnedPermit<T> {
        OwnedPermit {
            sender: Some(sender),
        }
    }

    /// Sends `value` in the reserved slot, without waiting, and gives the sender back (to
    /// reserve again). If the receiver is gone the value is dropped.
    pub fn send(mut self, value: T) -> Sender<T> {
        let sender = self.take_sender();
        sender.chan().send_reserved(value);
        sender
    }

    /// Gives the slot back unused, and the sender with it.
    pub fn release(mut self) -> Sender<T> {
        let sender = self.take_sender();
        sender.chan().release(1);
        sender
    }

    /// Whether both permits belong to the same channel.
    pub fn same_channel(&self, other: &OwnedPermit<T>) -> bool {
        match (&self.sender, &other.sender) {
            (Some(a), Some(b)) => a.same_channel(b),
            _ => false,
        }
    }

    /// Whether the permit belongs to `sender`'s channel.
    pub fn same_channel_as_sender(&self, sender: &Sender<T>) -> bool {
        self.sender
            .as_ref()
            .is_some_and(|own| own.same_channel(sender))
    }

    fn take_sender(&mut self) -> Sender<T> {
        match self.sender.take() {
            Some(sender) => sender,
            None => unreachable!("an OwnedPermit's sender is only taken by consuming it"),
        }
    }
}

impl<T> Drop for OwnedPermit<T> {
    fn drop(&mut self) {
        // The slot goes back before the sender (which may be the last one) is dropped.
        if let Some(sender) = self.sender.take() {
            sender.chan().release(1);
        }
    }
}

// SAFETY: an owned permit owns one strong sender, which owns one handle to the channel.
unsafe impl<T> Trace for OwnedPermit<T> {
    fn trace(&self, visitor: &mut dyn gort_gc::Visitor) {
        if let Some(sender) = &self.sender {
            sender.trace(visitor);
        }
    }
}

impl<T> Unpin for OwnedPermit<T> {}

impl<T> fmt::Debug for Permit<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Permit").field("chan", self.chan).finish()
    }
}

impl<T> fmt::Debug for PermitIterator<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PermitIterator")
            .field("chan", self.chan)
            .field("capacity", &self.left)
            .finish()
    }
}

impl<T> fmt::Debug for OwnedPermit<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedPermit")
            .field("chan", &self.sender)
            .finish()
    }
}
