//! [`Ref`]: a read of a watch channel's current value.

use std::ops::Deref;
use std::sync::RwLockReadGuard;

/// The current value of a watch channel, borrowed: it holds the channel's read lock, so keep
/// it short. While any `Ref` lives, senders wait, and a send from the thread holding it
/// deadlocks.
#[derive(Debug)]
pub struct Ref<'a, T> {
    value: RwLockReadGuard<'a, T>,
    has_changed: bool,
}

impl<'a, T> Ref<'a, T> {
    /// A read of `value`, which was new to the receiver that borrowed it if `has_changed`.
    pub(super) fn new(value: RwLockReadGuard<'a, T>, has_changed: bool) -> Ref<'a, T> {
        Ref { value, has_changed }
    }

    /// Whether the value was new to the receiver when it borrowed it: a version it had not
    /// seen (or [marked changed](super::Receiver::mark_changed)). Always `false` for a
    /// sender's borrow.
    pub fn has_changed(&self) -> bool {
        self.has_changed
    }
}

impl<T> Deref for Ref<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.value
    }
}
