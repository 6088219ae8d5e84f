//! A channel's handle count: its `Sender`s and `Receiver`s in one word, and the abandon hooks.
//!
//! The last `Sender` to go closes the channel; the last `Receiver` to go runs the channel's
//! *abandon hook*, if it has one: nobody can receive any more, so whatever was going to send
//! can stop (the timer behind `after`, `after.rs`). Both counts live in one 64-bit word, with
//! a flag for "has a hook", so that counting receivers costs a channel no bytes: every parked
//! task's channel pays for each one (`parked200k` in BENCHMARKS.md grew 31 B a task when the
//! count and the hook were fields of their own).
//!
//! Only `after`'s channels have a hook, so hooks are kept beside the channels, in a table
//! keyed by the channel's address, not in each channel: installed once, taken by the last
//! receiver, or removed when a channel that still has one is freed (a channel held only by a
//! collected cycle, whose receivers never get to run it). A channel's address is stable for
//! its life and no other channel has it meanwhile.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::loom::{AtomicU64, Ordering};

/// One `Sender` in the word: the low 32 bits.
const SENDER: u64 = 1;
/// The senders' bits.
const SENDERS: u64 = (1 << 32) - 1;
/// One `Receiver`: bits 32 to 62.
const RECEIVER: u64 = 1 << 32;
/// The receivers' bits.
const RECEIVERS: u64 = ((1 << 31) - 1) << 32;
/// Set while the channel has an abandon hook in [`HOOKS`].
const HOOKED: u64 = 1 << 63;

/// What an abandon hook is.
pub(crate) type AbandonHook = Box<dyn FnOnce() + Send>;

/// The live handles of one channel (module doc). Read-modify-writes are `AcqRel`: the last
/// sender's decrement sees every other sender's, as `Arc`'s does, and the last receiver's sees
/// the hook's installation.
pub(crate) struct Handles(AtomicU64);

impl Handles {
    /// One sender and one receiver, no hook.
    pub(crate) fn new() -> Handles {
        Handles(AtomicU64::new(SENDER | RECEIVER))
    }

    /// A `Sender` was cloned.
    pub(crate) fn add_sender(&self) {
        let before = self.0.fetch_add(SENDER, Ordering::Relaxed);
        if before & SENDERS == SENDERS {
            // 2^32 senders: the next one would carry into the receivers' count.
            std::process::abort();
        }
    }

    /// A `Sender` went: whether it was the last.
    pub(crate) fn drop_sender(&self) -> bool {
        self.0.fetch_sub(SENDER, Ordering::AcqRel) & SENDERS == SENDER
    }

    /// A `Receiver` was cloned.
    pub(crate) fn add_receiver(&self) {
        let before = self.0.fetch_add(RECEIVER, Ordering::Relaxed);
        if before & RECEIVERS == RECEIVERS {
            std::process::abort();
        }
    }

    /// A `Receiver` went: whether it was the last of a channel with an abandon hook.
    pub(crate) fn drop_receiver(&self) -> bool {
        self.0.fetch_sub(RECEIVER, Ordering::AcqRel) & (RECEIVERS | HOOKED) == HOOKED | RECEIVER
    }

    /// Marks the channel hooked ([`install_hook`] has its hook).
    fn set_hooked(&self) {
        self.0.fetch_or(HOOKED, Ordering::AcqRel);
    }

    /// Whether the channel has (or had, until its last receiver took it) a hook.
    pub(crate) fn hooked(&self) -> bool {
        self.0.load(Ordering::Acquire) & HOOKED != 0
    }
}

/// The abandon hooks by channel address.
static HOOKS: Mutex<Option<HashMap<usize, AbandonHook>>> = Mutex::new(None);

fn hooks() -> std::sync::MutexGuard<'static, Option<HashMap<usize, AbandonHook>>> {
    // Inserts and removals only: a panic cannot leave the table inconsistent.
    HOOKS.lock().unwrap_or_else(|e| e.into_inner())
}

/// Installs `hook` for the channel at `addr`, whose handle count is `handles`. Called while one
/// of its receivers exists, once per channel.
pub(crate) fn install_hook(addr: usize, handles: &Handles, hook: AbandonHook) {
    let earlier = hooks().get_or_insert_with(HashMap::new).insert(addr, hook);
    assert!(earlier.is_none(), "a channel got a second abandon hook");
    handles.set_hooked();
}

/// Takes the hook of the channel at `addr`, if it still has one (for its last receiver, or
/// when it is freed). Dropped or run by the caller, outside the table's lock.
pub(crate) fn take_hook(addr: usize) -> Option<AbandonHook> {
    hooks().as_mut()?.remove(&addr)
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn senders_and_receivers_are_counted_apart_in_one_word() {
        let handles = Handles::new();
        handles.add_sender();
        handles.add_receiver();
        handles.add_receiver();
        assert!(!handles.drop_sender(), "one sender is left");
        assert!(!handles.drop_receiver(), "no hook: nothing to run");
        assert!(handles.drop_sender(), "the last sender");
        install_hook(0x10, &handles, Box::new(|| {}));
        assert!(handles.hooked());
        assert!(!handles.drop_receiver(), "one receiver is left");
        assert!(
            handles.drop_receiver(),
            "the last receiver of a hooked channel"
        );
        assert!(take_hook(0x10).is_some());
        assert!(take_hook(0x10).is_none(), "a hook is taken once");
    }
}
