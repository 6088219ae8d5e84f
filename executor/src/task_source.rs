//! The runtime as a [`gort_gc::TaskSource`]: what the GC arena's leak pass learns about the
//! runtime's parked Gs.
//!
//! Only Gs spawned with `go!` captures are nodes: they alone count their wakers, and they
//! alone can be found leaked. Any other G is a root of the pass, and a root with no traced
//! edges (its future is opaque) changes nothing, so it is simply left out.
//!
//! The parked-task registry (`registry.rs`) already holds a counted waker for every such G
//! whose future is alive and has been polled, so it is the list; the waker's data pointer is
//! the G record. For each G the pass reads, in this order:
//!
//! 1. the counted wakers alive (`Acquire`), less the registry's own;
//! 2. `notified`, `aborted` and `state`: a G is blocked only if none says it can run.
//!
//! A wake sets `notified` before it takes its waker off the count (`gwaker.rs`), so a pass that
//! saw the count without that waker also sees the flag.

use std::sync::atomic::Ordering;
use std::task::RawWakerVTable;

use gort_gc::{TaskInfo, TaskSource};

use crate::g::{GState, G};
use crate::gwaker;
use crate::shared::Shared;

impl TaskSource for Shared {
    fn waker_vtable(&self) -> &'static RawWakerVTable {
        &gwaker::VTABLE
    }

    fn for_each_task(&self, visit: &mut dyn FnMut(TaskInfo)) {
        self.registry.for_each_counted(|g| {
            let wakers = g.counting().wakers.load(Ordering::Acquire) as usize;
            let can_run = g.counting().notified.load(Ordering::Acquire)
                || g.is_aborted()
                || g.state() != GState::Waiting;
            visit(TaskInfo {
                key: std::ptr::from_ref(g).cast(),
                blocked: !can_run,
                // The registry's own waker is accounted for here.
                wakers: wakers.saturating_sub(1),
                captures: g.captures(),
                id: g.id(),
                location: g.location(),
                name: g.name().map(str::to_owned),
            });
        });
    }

    fn cancel(&self, key: *const ()) {
        // SAFETY: `key` is a G `for_each_task` just listed, with the world still stopped: its
        // registry entry (a counted waker) keeps the record alive.
        let g = unsafe { &*key.cast::<G>() };
        if let Some(waker) = g.begin_abort() {
            waker.wake();
        }
    }
}
