//! Sweeping: dropping the values of the objects a collection found unreachable, after the
//! world has resumed, and making an explicit collection wait for the sweeps before it.
//!
//! A collection releases the collector lock before it sweeps, so destructors (which close
//! channels and wake tasks) run neither in the pause nor under the lock: a destructor may
//! allocate, or call [`collect`](crate::collect) itself. The cost is that a second collection
//! can start, find nothing (the first one already took the garbage out of the registry) and
//! return while the first is still running destructors. A caller of `collect()` expects what
//! was unreachable when it called to be gone when it returns, so every explicit collection
//! waits for the sweeps of the collections numbered before it. Automatic collections do not
//! wait: nobody is looking. A sweep's own thread does not wait for itself (a destructor that
//! collects), which would deadlock.
//!
//! What is left to the user: a destructor that blocks on a lock held by a thread waiting in
//! `collect()` deadlocks with it, as holding a lock that a destructor needs across
//! `collect()` would in any collector that runs destructors before returning.

use std::cell::Cell;
use std::ptr::NonNull;
use std::sync::atomic::{fence, Ordering};
use std::sync::{Condvar, Mutex};

use crate::object::Header;
use crate::safepoint::pin;

/// A header pointer held by the collector, with a count it took on the object.
pub(crate) struct ObjectPtr(pub(crate) NonNull<Header>);

// SAFETY: the collector owns a count on each object it holds this way.
unsafe impl Send for ObjectPtr {}

/// The numbers of the collections whose sweeps are running.
static SWEEPING: Mutex<Vec<u64>> = Mutex::new(Vec::new());
/// Signalled when a sweep ends.
static SWEEP_ENDED: Condvar = Condvar::new();

thread_local! {
    /// Whether this thread is running a sweep's destructors.
    static IN_SWEEP: Cell<bool> = const { Cell::new(false) };
}

/// Announces the sweep of collection `number`; called under the collector lock, so a later
/// collection sees it.
pub(crate) fn announce(number: u64) {
    crate::lock(&SWEEPING).push(number);
}

/// Drops the values of unreachable objects, then gives back the counts the collector took,
/// then ends the sweep of collection `number` (announced by [`announce`]).
pub(crate) fn sweep(number: u64, garbage: Vec<ObjectPtr>) {
    let was_sweeping = IN_SWEEP.with(|flag| flag.replace(true));
    drop_values_and_counts(garbage);
    IN_SWEEP.with(|flag| flag.set(was_sweeping));
    crate::lock(&SWEEPING).retain(|&sweeping| sweeping != number);
    SWEEP_ENDED.notify_all();
}

/// Waits until every sweep of a collection numbered below `number` has ended, unless this
/// thread is inside one of them.
pub(crate) fn wait_for_sweeps_before(number: u64) {
    if IN_SWEEP.with(Cell::get) {
        return;
    }
    let mut sweeping = crate::lock(&SWEEPING);
    while sweeping.iter().any(|&sweeping| sweeping < number) {
        sweeping = SWEEP_ENDED
            .wait(sweeping)
            .unwrap_or_else(|poisoned| poisoned.into_inner());
    }
}

/// Destructors run unpinned, as user code that may block should: the values are dead and
/// unreachable, so no collection traces them, and every handle they clone or drop pins itself.
/// Giving the counts back frees objects, which needs the pin.
fn drop_values_and_counts(garbage: Vec<ObjectPtr>) {
    for object in &garbage {
        let header = object.0;
        // A destructor that dereferences another object of its cycle panics (`Gc::try_get`);
        // that must not unwind into whichever poll or thread happened to collect.
        let dropped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            // SAFETY: garbage is unreachable from outside, marked dead (so no handle can see
            // the value again) and counted by us, so the value is alive and ours to drop.
            unsafe { (header.as_ref().vtable.drop_value)(header) };
        }));
        if dropped.is_err() {
            eprintln!(
                "gort: a destructor panicked while the collector freed an unreachable object"
            );
        }
    }
    let _pin = pin();
    for object in garbage {
        // SAFETY: we hold a count, so the allocation is alive.
        let header = unsafe { object.0.as_ref() };
        if header.strong.fetch_sub(1, Ordering::Release) == 1 {
            fence(Ordering::Acquire);
            // SAFETY: that was the last count; we are pinned.
            unsafe { crate::gc::free(object.0) };
        }
    }
}
