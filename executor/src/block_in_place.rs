//! `task::block_in_place`: runs blocking code on the current thread without stalling the Gs
//! queued behind it (Go's `entersyscall` / `exitsyscall`).
//!
//! Entering marks the P as "in a syscall" with one atomic store (`syscall.rs`) and clears the
//! thread's current P, so that anything the blocking code spawns or wakes goes through the
//! global queue and never touches the P. Nothing else happens on the way in: no lock, no
//! thread started. If the call returns quickly, leaving is one CAS and the M goes on with its
//! P. If it outlasts ~20 µs, sysmon (`sysmon.rs`) retakes the P with the competing CAS and
//! hands it, with its queue, to another M, so the P's other Gs keep running. The M that comes
//! back then finds the CAS failed: it finishes the current poll of its G without a P, and then
//! takes an idle P or parks (`M::after_poll`, `find_runnable`). This works with one P too:
//! the P moves to a second thread while the first blocks.
//!
//! Outside a G (a plain thread, a blocking-pool thread) or nested inside another
//! `block_in_place`, it simply calls the closure.
//!
//! Either way the closure runs as blocking code (`context::blocking_region`, entered by the
//! nested `block_on` itself when the caller is a G, whose `Syscall` state says so): it may
//! `Handle::current().block_on(fut)`, tokio's bridge from blocking code back into async code,
//! which is refused inside a task's poll. That nested `block_on` makes the thread an M again
//! for its duration: it takes an idle P if there is one (possibly the very P this call gave
//! up, once sysmon has retaken it) and runs Gs around its future, then gives the P back. The
//! outer call's CAS then decides, as always, whether its M still has its old P.

use crate::context;
use crate::g::GState;
use crate::p::P;
use crate::syscall::InSyscall;

/// Runs `func`, which may block, on this thread; if it blocks for more than ~20 µs, the rest of
/// this thread's queue moves to another thread meanwhile (module doc). Unlike
/// `spawn_blocking`, `func` need not be `'static` or `Send`, and the calling task resumes on
/// the same thread.
///
/// # Panics
///
/// On the thread of a current-thread runtime's `block_on` (its tasks and, unless it is a
/// `Handle::block_on`, its future), and inside a `LocalSet`: no other thread may run what this
/// one would leave waiting, so the call would block all of it (tokio panics there too). Use
/// `spawn_blocking` instead.
#[track_caller]
pub fn block_in_place<F, R>(func: F) -> R
where
    F: FnOnce() -> R,
{
    let Some((shared, p)) = context::held_p() else {
        refuse_if_pinned_to_thread();
        return context::blocking_region(func);
    };
    // SAFETY: `held_p` returns the context's pointers, valid while this thread serves the
    // runtime, which it does for the whole poll this call is part of.
    let (shared, p) = unsafe { (shared.as_ref(), p.as_ref()) };
    refuse_if_pinned_to_thread();
    if shared.is_current_thread() {
        // Allowed here only in the future of a `Handle::block_on` (`context/main_role.rs`).
        return in_handle_block_on(p, func);
    }
    let entered = p.syscall.enter();
    context::set_p(std::ptr::null());
    let in_g = context::set_current_g_state(GState::Syscall);
    shared.sysmon.watch(shared);
    let _leave = Leave { p, entered };
    // Blocking code must not hold off a collection (`gort_gc::safepoint`). Inside a G, the
    // G's `Syscall` state is what lets the closure `block_on` (`context::assert_may_block_on`
    // sets up the blocking region then); elsewhere (`block_on`'s main) the region is set here.
    // The closure is blocking code, not a poll: it runs without the task's coop budget (tokio
    // stops the budget there too), so the `blocking_*` channel calls, which refuse to block
    // inside a budgeted poll, work in it, and what it takes is not charged to the task.
    gort_gc::unpinned(|| {
        gort_context::with_unconstrained(|| {
            if in_g {
                func()
            } else {
                context::blocking_region(func)
            }
        })
    })
}

/// `block_in_place` in the future of a current-thread runtime's `Handle::block_on`, on the
/// thread holding the runtime's P: the P goes back to the runtime for the call (another thread
/// inside `block_on` takes it, and so may a `block_on` in `func`), and the M finds it lost
/// after the poll, as after a retake, and takes it again when it is idle.
fn in_handle_block_on<R>(p: &P, func: impl FnOnce() -> R) -> R {
    /// Tells the M, once `func` is over (also on unwinding), that it no longer holds the P. Not
    /// before: a `block_on` inside `func` is an M of its own and would take the flag as its.
    struct MarkLost;
    impl Drop for MarkLost {
        fn drop(&mut self) {
            context::set_p_lost();
        }
    }
    let shared = context::served_shared()
        .unwrap_or_else(|| unreachable!("a thread holding a P serves its runtime"));
    context::set_p(std::ptr::null());
    shared.handoff_p(p);
    let _lost = MarkLost;
    gort_gc::unpinned(|| gort_context::with_unconstrained(|| context::blocking_region(func)))
}

/// Panics if the work this thread runs may not move to another thread (see
/// [`block_in_place`]).
#[track_caller]
fn refuse_if_pinned_to_thread() {
    if let Some(place) = context::block_in_place_refusal() {
        refused(place);
    }
}

#[cold]
#[track_caller]
fn refused(place: &str) -> ! {
    panic!(
        "can call blocking only when running on the multi-threaded runtime: `block_in_place` \
         was called {place}, where no other thread can run the tasks it would leave waiting; \
         use `spawn_blocking`"
    )
}

/// Leaves the syscall state when `block_in_place` returns or unwinds.
struct Leave<'a> {
    p: &'a P,
    entered: InSyscall,
}

impl Drop for Leave<'_> {
    fn drop(&mut self) {
        context::set_current_g_state(GState::Running);
        if self.p.syscall.exit(self.entered) {
            context::set_p(self.p);
        } else {
            context::set_p_lost();
        }
    }
}
