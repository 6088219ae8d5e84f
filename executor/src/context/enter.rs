//! The thread's entered runtime (`Handle::enter`): the `EnterGuard` protocol over the
//! context's `entered` and `enter_depth` cells, and how `block_on` keeps a runtime its future
//! entered away from the Gs it runs between the future's polls (`runtime/handle.rs`).

use std::ptr;
use std::sync::Arc;

use super::CONTEXT;
use crate::shared::Shared;

/// What an `EnterGuard` restores when dropped ([`enter`], [`leave`]).
#[derive(Debug)]
pub(crate) struct EnterRecord {
    /// The runtime entered before, owning its count (null: none).
    previous: *const Shared,
    /// The enter depth this guard made; it must be the current one when the guard is dropped.
    depth: usize,
    /// Timers armed on a thread that serves no runtime go to the entered runtime's P-less set;
    /// `Some` if this guard switched them, with the set to restore.
    previous_timers: Option<Option<Arc<gort_timer::Timers>>>,
}

/// Makes `shared` this thread's current runtime (`Handle::enter`) until [`leave`].
pub(crate) fn enter(shared: &Arc<Shared>) -> EnterRecord {
    let entered = Arc::into_raw(Arc::clone(shared));
    let (previous, depth, serving) = CONTEXT.with(|ctx| {
        let depth = ctx.enter_depth.get() + 1;
        ctx.enter_depth.set(depth);
        (
            ctx.entered.replace(entered),
            depth,
            !ctx.shared.get().is_null(),
        )
    });
    // On a thread that serves a runtime, timers go where its P or its runtime puts them (the
    // M machinery keeps that set, and its own runtime fires them); elsewhere they must go to the
    // entered runtime, whose threads fire them.
    let previous_timers =
        (!serving).then(|| gort_timer::set_current(Some(Arc::clone(&shared.orphan_timers))));
    EnterRecord {
        previous,
        depth,
        previous_timers,
    }
}

/// Ends the [`enter`] that made `record`: the previous runtime is current again.
///
/// # Panics
///
/// If guards made after this one are still alive (guards dropped out of order), unless the
/// thread is panicking already (then the context is left as it is, as tokio does).
pub(crate) fn leave(record: &EnterRecord) {
    let current = CONTEXT.with(|ctx| {
        if ctx.enter_depth.get() != record.depth {
            return Err(());
        }
        ctx.enter_depth.set(record.depth - 1);
        Ok(ctx.entered.replace(record.previous))
    });
    match current {
        Ok(current) => {
            release_entered(current);
            if let Some(previous) = &record.previous_timers {
                gort_timer::set_current(previous.clone());
            }
        }
        Err(()) => {
            // The guard's own count of `previous` is leaked: something still refers to the
            // context it would have restored.
            if !std::thread::panicking() {
                panic!(
                    "`EnterGuard` values dropped out of order: guards returned by \
                     `Runtime::enter` and `Handle::enter` must be dropped in the reverse order \
                     of their making (and one made outside a `block_on` must not be dropped \
                     inside it)"
                );
            }
        }
    }
}

/// Releases the count an `entered` pointer owns (null: nothing).
pub(super) fn release_entered(entered: *const Shared) {
    if !entered.is_null() {
        // SAFETY: a non-null `entered` value owns one strong count of an `Arc<Shared>`, made by
        // `Arc::into_raw` in `enter`, and whoever took it out of the context releases it once.
        drop(unsafe { Arc::from_raw(entered) });
    }
}

/// The runtime entered on this thread while a `block_on` future is not being polled
/// ([`park_entered`]), owning its count.
pub(crate) struct ParkedEnter(*const Shared);

impl ParkedEnter {
    pub(crate) fn none() -> ParkedEnter {
        ParkedEnter(ptr::null())
    }
}

impl Drop for ParkedEnter {
    fn drop(&mut self) {
        release_entered(self.0);
    }
}

/// Runs `f` (a poll of `block_on`'s main future) with the runtime that future entered on this
/// thread, if any, as the current one, and puts it aside again afterwards: a guard the future
/// holds across an `.await` belongs to it, not to the Gs this thread runs in between
/// (`runtime/handle.rs`).
pub(crate) fn with_parked_enter<R>(parked: &mut ParkedEnter, f: impl FnOnce() -> R) -> R {
    struct Park<'a>(&'a mut ParkedEnter);
    impl Drop for Park<'_> {
        fn drop(&mut self) {
            let entered = CONTEXT.with(|ctx| ctx.entered.replace(ptr::null()));
            release_entered(std::mem::replace(&mut self.0 .0, entered));
        }
    }
    let restored = std::mem::replace(&mut parked.0, ptr::null());
    // The future entered nothing since its last poll ended, so the slot is null here.
    let left = CONTEXT.with(|ctx| ctx.entered.replace(restored));
    release_entered(left);
    let _park = Park(parked);
    f()
}
