//! The per-thread scheduler context: which runtime this thread serves as an M, which P it holds,
//! and which G it is polling.
//!
//! Everything that has to find "the current P" without being handed it (the schedule function a
//! waker calls, `spawn`, a `JoinHandle` recording its G's wait reason) reads it here. The cells
//! hold raw pointers because the values are borrowed from the M, which sets them when it starts
//! serving a runtime or acquires a P and clears them before the borrow ends.
//!
//! It also holds the runtime the thread *entered* (`Handle::enter`, `enter.rs`), which comes
//! before the one it serves when code asks for the current runtime.

mod enter;
mod main_role;

use std::cell::Cell;
use std::mem::ManuallyDrop;
use std::ptr::{self, NonNull};
use std::sync::Arc;
use std::task::Waker;

use crate::g::{WaitReason, G};
use crate::p::P;
use crate::shared::Shared;
use crate::Task;
use enter::release_entered;
pub(crate) use enter::{enter, leave, with_parked_enter, EnterRecord, ParkedEnter};
pub(crate) use main_role::{
    block_in_place_refusal, enter_main, note_local_set_polled, served_shared, worker_index,
    BlockOnKind,
};

/// The thread's scheduler state.
///
/// # Invariant
///
/// - `shared` is null or the `Arc::as_ptr` of an `Arc<Shared>` that the code which set it keeps
///   alive until it restores the previous value ([`ServeGuard`]).
/// - `p` is null or a P of `shared` that this thread holds (set by `acquirep`, cleared by
///   `releasep`).
/// - `g` is null or the record of the G being polled on this thread (set for the duration of
///   one poll by [`with_current_g`]).
/// - `blocking_g` is null or the record of a G whose poll is running on this thread with `g`
///   set aside for blocking code ([`outside_g`], [`blocking_region`]), for as long as that code
///   runs.
struct Context {
    shared: Cell<*const Shared>,
    p: Cell<*const P>,
    g: Cell<*const G>,
    /// The G that blocking code running here belongs to, so that `task::id()` still answers
    /// inside a `spawn_blocking` closure or a `block_in_place` region, as in tokio.
    blocking_g: Cell<*const G>,
    /// Null, or the waker the runtime polls the current G or `block_on` main with, for the
    /// duration of that poll ([`with_own_waker`]): a `JoinHandle` polled with it needs no
    /// guard against a panicking waker (`join.rs`).
    own_waker: Cell<*const Waker>,
    /// Whether this thread is inside `block_on` (polling the main future or running Gs for it).
    in_block_on: Cell<bool>,
    /// Null, or where Gs of `shared` woken on this thread go while it dispatches netpoller events
    /// ([`collect_wakes`]).
    batch: Cell<*mut Vec<Task>>,
    /// Set when a `block_in_place` on this thread lost the M's P to sysmon; the M clears it
    /// after the poll ([`take_p_lost`]).
    p_lost: Cell<bool>,
    /// Null, or the runtime of the innermost `EnterGuard` alive on this thread, which comes
    /// before `shared` as the thread's current runtime (`runtime/handle.rs`). Owns one strong
    /// count of its `Arc<Shared>` (from `Arc::into_raw`), released by the guard that restores
    /// the previous value, so that a leaked guard leaks a count rather than leaving a dangling
    /// pointer.
    entered: Cell<*const Shared>,
    /// Enter guards alive on this thread, `serve` counting as one: a guard must be the innermost
    /// one when it is dropped ([`leave`]).
    enter_depth: Cell<usize>,
    /// Whether `block_in_place` must panic here: inside a `LocalSet`'s poll (tokio refuses it
    /// there too: the set's other tasks would wait for the blocking call).
    block_in_place_refused: Cell<bool>,
    /// 0, or the goid of the G whose output is being dropped on this thread
    /// ([`with_output_of`]), which `task::id()` reports when no G is polled here.
    output_goid: Cell<u64>,
}

thread_local! {
    static CONTEXT: Context = const {
        Context {
            shared: Cell::new(ptr::null()),
            p: Cell::new(ptr::null()),
            g: Cell::new(ptr::null()),
            blocking_g: Cell::new(ptr::null()),
            own_waker: Cell::new(ptr::null()),
            in_block_on: Cell::new(false),
            batch: Cell::new(ptr::null_mut()),
            p_lost: Cell::new(false),
            entered: Cell::new(ptr::null()),
            enter_depth: Cell::new(0),
            block_in_place_refused: Cell::new(false),
            output_goid: Cell::new(0),
        }
    };
}

/// Marks this thread as an M of `shared` until dropped, then restores the previous state.
pub(crate) struct ServeGuard {
    previous_shared: *const Shared,
    previous_p: *const P,
    previous_in_block_on: bool,
    /// The runtime entered before (owning its count), hidden while the thread serves `shared`.
    previous_entered: *const Shared,
    previous_depth: usize,
    previous_refused: bool,
    /// Timers armed on this thread meanwhile go into a set of `shared` (`acquirep` switches it
    /// to the held P's).
    previous_timers: Option<Arc<gort_timer::Timers>>,
}

/// Makes this thread an M of `shared` (a worker thread, a blocking-pool thread, or a thread in
/// `block_on`). It hides the runtimes entered before, as tokio's `block_on` does, and counts as
/// an enter guard: one made outside and dropped inside is out of order ([`leave`]).
pub(crate) fn serve(shared: &Arc<Shared>, in_block_on: bool) -> ServeGuard {
    CONTEXT.with(|ctx| {
        let depth = ctx.enter_depth.get();
        ctx.enter_depth.set(depth + 1);
        ServeGuard {
            previous_shared: ctx.shared.replace(Arc::as_ptr(shared)),
            previous_p: ctx.p.replace(ptr::null()),
            previous_in_block_on: ctx.in_block_on.replace(in_block_on),
            previous_entered: ctx.entered.replace(ptr::null()),
            previous_depth: depth,
            previous_refused: ctx.block_in_place_refused.replace(false),
            previous_timers: gort_timer::set_current(Some(Arc::clone(&shared.orphan_timers))),
        }
    })
}

impl Drop for ServeGuard {
    fn drop(&mut self) {
        let leaked_entered = CONTEXT.with(|ctx| {
            ctx.shared.set(self.previous_shared);
            ctx.p.set(self.previous_p);
            ctx.in_block_on.set(self.previous_in_block_on);
            ctx.enter_depth.set(self.previous_depth);
            ctx.block_in_place_refused.set(self.previous_refused);
            ctx.entered.replace(self.previous_entered)
        });
        // A guard entered while serving and leaked (`mem::forget`): its count is released here.
        release_entered(leaked_entered);
        gort_timer::set_current(self.previous_timers.take());
    }
}

/// Runs `f` (a `LocalSet`'s poll or drop) with `block_in_place` refused on this thread.
pub(crate) fn refusing_block_in_place<R>(f: impl FnOnce() -> R) -> R {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            CONTEXT.with(|ctx| ctx.block_in_place_refused.set(self.0));
        }
    }
    let _restore = Restore(CONTEXT.with(|ctx| ctx.block_in_place_refused.replace(true)));
    f()
}

/// Records that this thread now holds `p` (or no P, when null).
pub(crate) fn set_p(p: *const P) {
    CONTEXT.with(|ctx| ctx.p.set(p));
}

/// The runtime this thread serves and the P it holds, as the context's own pointers, valid for
/// as long as the thread keeps serving the runtime and holding the P (`block_in_place`).
pub(crate) fn held_p() -> Option<(NonNull<Shared>, NonNull<P>)> {
    CONTEXT.with(|ctx| {
        Some((
            NonNull::new(ctx.shared.get().cast_mut())?,
            NonNull::new(ctx.p.get().cast_mut())?,
        ))
    })
}

/// Records that this thread's M lost its P (`block_in_place`); it holds no P from now on.
pub(crate) fn set_p_lost() {
    CONTEXT.with(|ctx| {
        ctx.p.set(ptr::null());
        ctx.p_lost.set(true);
    });
}

/// Whether [`set_p_lost`] was called since the last call of this (which clears it).
pub(crate) fn take_p_lost() -> bool {
    CONTEXT.with(|ctx| ctx.p_lost.replace(false))
}

/// The P this thread holds, if it belongs to `shared`.
pub(crate) fn current_p_of(shared: &Shared) -> Option<&P> {
    CONTEXT.with(|ctx| {
        let p = ctx.p.get();
        if p.is_null() || !ptr::eq(ctx.shared.get(), shared) {
            return None;
        }
        // SAFETY: by the `Context` invariant, `p` is a P of `shared` held by this thread, and
        // `shared` (which owns it) is alive because the caller borrows it.
        Some(unsafe { &*p })
    })
}

/// [`current_p_of`], and whether this thread is polling a G ([`in_g`]), in one context lookup
/// (`Shared::spawn`'s, on every spawn).
pub(crate) fn current_p_and_g_of(shared: &Shared) -> Option<(&P, bool)> {
    CONTEXT.with(|ctx| {
        let p = ctx.p.get();
        if p.is_null() || !ptr::eq(ctx.shared.get(), shared) {
            return None;
        }
        // SAFETY: as in `current_p_of`.
        Some((unsafe { &*p }, !ctx.g.get().is_null()))
    })
}

/// If this thread holds a P of the runtime at `runtime`, that runtime and P, as the context's own
/// pointers: valid for as long as the thread keeps serving the runtime and holding the P, which
/// the caller must not outlast.
pub(crate) fn held_p_of(runtime: *const Shared) -> Option<(NonNull<Shared>, NonNull<P>)> {
    held_p().filter(|(shared, _)| ptr::eq(shared.as_ptr(), runtime))
}

/// Runs `f` (a netpoller dispatch) with every G of this thread's runtime that it wakes collected
/// into the returned batch instead of scheduled, so that the caller places them all at once
/// (Go's `injectglist`): into its own P's ring, or one idle P, instead of each waking another M.
/// While `f` runs the thread counts as holding no P, which sends wakes down the schedule
/// function's remote path, where the batch is checked. A waker that panics in `f` is caught and
/// reported ([`contain_waker_panics`]: then `None`), and the batch is returned all the same.
pub(crate) fn collect_wakes<R>(f: impl FnOnce() -> R) -> (Option<R>, Vec<Task>) {
    struct Restore {
        p: *const P,
        batch: *mut Vec<Task>,
    }
    impl Drop for Restore {
        fn drop(&mut self) {
            CONTEXT.with(|ctx| {
                ctx.p.set(self.p);
                ctx.batch.set(self.batch);
            });
        }
    }
    let mut batch = Vec::new();
    let result = {
        let _restore = CONTEXT.with(|ctx| Restore {
            p: ctx.p.replace(ptr::null()),
            batch: ctx.batch.replace(&mut batch),
        });
        contain_waker_panics(f)
    };
    (result, batch)
}

/// Runs `f`, which wakes wakers on the runtime's own behalf (due timers, netpoller events): a
/// waker is user code and may panic, and here no caller could take the panic. Without this it
/// unwound out of the M's loop, killing the thread (with a P, or the poller role) and dropping
/// the Gs already collected. The other wakers of the batch are still woken
/// (`gort_context::wake_all`); the panic is reported on stderr and `None` returned.
pub(crate) fn contain_waker_panics<R>(f: impl FnOnce() -> R) -> Option<R> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(result) => Some(result),
        Err(payload) => {
            let message = crate::join::panic_message(&*payload).unwrap_or("a non-string payload");
            eprintln!(
                "gort: a waker panicked when the runtime woke it ({message}); the other tasks \
                 were woken and the runtime goes on"
            );
            None
        }
    }
}

/// Adds `task` to the batch of [`collect_wakes`] if this thread is collecting for the runtime at
/// `runtime`; gives it back otherwise.
pub(crate) fn push_to_batch(runtime: *const Shared, task: Task) -> Result<(), Task> {
    CONTEXT.with(|ctx| {
        let batch = ctx.batch.get();
        if batch.is_null() || !ptr::eq(ctx.shared.get(), runtime) {
            return Err(task);
        }
        // SAFETY: a non-null `batch` points at the vector `collect_wakes` owns on this thread's
        // stack for as long as the pointer is set; nothing else borrows it meanwhile.
        unsafe { (*batch).push(task) };
        Ok(())
    })
}

/// This thread's current runtime (`runtime/handle.rs`): the innermost entered one, else the one
/// it serves, if any.
pub(crate) fn current_shared() -> Option<Arc<Shared>> {
    CONTEXT.with(|ctx| {
        let entered = ctx.entered.get();
        let shared = if entered.is_null() {
            ctx.shared.get()
        } else {
            entered
        };
        if shared.is_null() {
            return None;
        }
        // SAFETY: by the `Context` invariant, `shared` came from `Arc::as_ptr` of an Arc that is
        // alive now (or, for `entered`, owns a count the context holds); bumping the count
        // first makes `from_raw` produce an owned clone.
        unsafe {
            Arc::increment_strong_count(shared);
            Some(Arc::from_raw(shared))
        }
    })
}

/// Runs `f` with this thread's current runtime (if any), borrowed rather than cloned when it
/// is the one the thread serves: `spawn` runs this per call, and a clone would bump the
/// runtime's reference count, a cache line that every M freeing a G also writes. An entered
/// runtime is cloned (a guard dropped inside `f` may release its count).
pub(crate) fn with_current_shared<R>(f: impl FnOnce(Option<&Arc<Shared>>) -> R) -> R {
    let (entered, shared) = CONTEXT.with(|ctx| (ctx.entered.get(), ctx.shared.get()));
    if !entered.is_null() {
        // SAFETY: a non-null `entered` owns a count of a live `Arc<Shared>` (`enter`); the
        // clone made here is released by the `Arc` dropped after `f`.
        let entered = unsafe {
            Arc::increment_strong_count(entered);
            Arc::from_raw(entered)
        };
        return f(Some(&entered));
    }
    if shared.is_null() {
        return f(None);
    }
    // SAFETY: by the `Context` invariant, `shared` is the `Arc::as_ptr` of an Arc that the code
    // which set it keeps alive until it restores the previous value, which cannot happen while
    // this thread runs `f`; `ManuallyDrop` borrows that reference without releasing it.
    let shared = ManuallyDrop::new(unsafe { Arc::from_raw(shared) });
    f(Some(&shared))
}

/// Runs `f` (a poll of a G or of `block_on`'s main) with `waker`, the runtime's own waker for it,
/// recorded as such.
pub(crate) fn with_own_waker<R>(waker: &Waker, f: impl FnOnce() -> R) -> R {
    struct Restore(*const Waker);
    impl Drop for Restore {
        fn drop(&mut self) {
            CONTEXT.with(|ctx| ctx.own_waker.set(self.0));
        }
    }
    let _restore = Restore(CONTEXT.with(|ctx| ctx.own_waker.replace(waker)));
    f()
}

/// Whether `waker` wakes what the runtime's own waker for the current poll wakes (a G, or
/// `block_on`'s main): then it is gort's, and cannot panic.
pub(crate) fn is_own_waker(waker: &Waker) -> bool {
    CONTEXT.with(|ctx| {
        let own = ctx.own_waker.get();
        // SAFETY: a non-null pointer is the waker of the poll running on this thread, alive for
        // as long as the pointer is set (`with_own_waker`).
        !own.is_null() && waker.will_wake(unsafe { &*own })
    })
}

/// Runs `f` with `g` recorded as the G being polled on this thread.
/// `waker` is the runtime's own waker for that poll, recorded as in [`with_own_waker`] (one
/// thread-local access for both: this runs on every poll).
pub(crate) fn with_current_g<R>(g: &G, waker: &Waker, f: impl FnOnce() -> R) -> R {
    struct Restore(*const G, *const Waker);
    impl Drop for Restore {
        fn drop(&mut self) {
            CONTEXT.with(|ctx| {
                ctx.g.set(self.0);
                ctx.own_waker.set(self.1);
            });
        }
    }
    let _restore = CONTEXT.with(|ctx| {
        Restore(
            ctx.g.replace(std::ptr::from_ref(g)),
            ctx.own_waker.replace(waker),
        )
    });
    f()
}

/// Runs `f` with the context's G pointer set to `g`, restoring it after (also on unwinding).
/// For the drop of a G's future outside its polls (abort, shutdown), so that its destructors
/// run "inside the task" (`task::id()` answers), as they do in tokio.
pub(crate) fn with_g_pointer<R>(g: &G, f: impl FnOnce() -> R) -> R {
    struct Restore(*const G);
    impl Drop for Restore {
        fn drop(&mut self) {
            CONTEXT.with(|ctx| ctx.g.set(self.0));
        }
    }
    let _restore = Restore(CONTEXT.with(|ctx| ctx.g.replace(g)));
    f()
}

/// Sets the G being polled aside for blocking code until dropped, then restores the context
/// (one thread-local access each way: `block_in_place` is meant to cost nanoseconds). `g`
/// becomes null and, if a G was being polled, `blocking_g` (for `task::id()`); `in_block_on`
/// is cleared if asked.
struct SetAside {
    g: *const G,
    blocking_g: *const G,
    in_block_on: bool,
}

impl SetAside {
    fn new(clear_in_block_on: bool) -> SetAside {
        CONTEXT.with(|ctx| {
            let g = ctx.g.replace(ptr::null());
            let blocking_g = if g.is_null() {
                ctx.blocking_g.get()
            } else {
                ctx.blocking_g.replace(g)
            };
            let in_block_on = if clear_in_block_on {
                ctx.in_block_on.replace(false)
            } else {
                ctx.in_block_on.get()
            };
            SetAside {
                g,
                blocking_g,
                in_block_on,
            }
        })
    }
}

impl Drop for SetAside {
    fn drop(&mut self) {
        CONTEXT.with(|ctx| {
            ctx.g.set(self.g);
            ctx.blocking_g.set(self.blocking_g);
            ctx.in_block_on.set(self.in_block_on);
        });
    }
}

/// Runs `f` as if no G were being polled on this thread: blocking code called from a blocking
/// G (`spawn_blocking`) may `block_on`, which is refused inside a task.
pub(crate) fn outside_g<R>(f: impl FnOnce() -> R) -> R {
    let _set_aside = SetAside::new(false);
    f()
}

/// The goid of the task whose code runs on this thread: the G being polled, the G whose
/// blocking code runs here, or the G whose output is being dropped here; `None` outside a task.
pub(crate) fn current_goid() -> Option<u64> {
    CONTEXT.with(|ctx| {
        let g = ctx.g.get();
        let g = if g.is_null() { ctx.blocking_g.get() } else { g };
        // SAFETY: by the `Context` invariant, a non-null `g` or `blocking_g` is the record of a
        // G whose poll is running on this thread, alive until that poll returns.
        match unsafe { g.as_ref() } {
            Some(g) => Some(g.id()),
            None => Some(ctx.output_goid.get()).filter(|&goid| goid != 0),
        }
    })
}

/// Runs `f` (the drop of G `goid`'s output, `task_output.rs`) as code of that task: no G is
/// polled meanwhile, and `task::id()` answers `goid`, as in tokio. Restores the context after,
/// also on unwinding.
pub(crate) fn with_output_of<R>(goid: u64, f: impl FnOnce() -> R) -> R {
    struct Restore(*const G, *const G, u64);
    impl Drop for Restore {
        fn drop(&mut self) {
            CONTEXT.with(|ctx| {
                ctx.g.set(self.0);
                ctx.blocking_g.set(self.1);
                ctx.output_goid.set(self.2);
            });
        }
    }
    let _restore = CONTEXT.with(|ctx| {
        Restore(
            ctx.g.replace(ptr::null()),
            ctx.blocking_g.replace(ptr::null()),
            ctx.output_goid.replace(goid),
        )
    });
    f()
}

/// Runs `f` (the closure of a `block_in_place`) as blocking code: no G is being polled and the
/// thread is not inside `block_on` meanwhile, so `f` may `block_on` a future on any runtime, as
/// tokio allows (`Handle::current().block_on(..)` is its bridge from blocking code back into
/// async code). Restores both after, also on unwinding.
pub(crate) fn blocking_region<R>(f: impl FnOnce() -> R) -> R {
    let _set_aside = SetAside::new(true);
    f()
}

/// Sets the state of the G being polled on this thread, if any.
/// Returns whether there is one.
pub(crate) fn set_current_g_state(state: crate::g::GState) -> bool {
    CONTEXT.with(|ctx| {
        let g = ctx.g.get();
        if !g.is_null() {
            // SAFETY: as in `set_current_wait_reason`.
            unsafe { &*g }.set_state(state);
        }
        !g.is_null()
    })
}

/// Records why the G being polled on this thread is about to return `Pending`.
pub(crate) fn set_current_wait_reason(reason: WaitReason) {
    CONTEXT.with(|ctx| {
        let g = ctx.g.get();
        if !g.is_null() {
            // SAFETY: by the `Context` invariant, `g` is the record of the G being polled, which
            // lives at least until its poll returns.
            unsafe { &*g }.set_wait_reason(reason);
        }
    });
}

/// Adds `delta` to `shared`'s goroutine count: on the held P's counter when this thread holds a
/// P of `shared` (no shared cache line), on the runtime-wide one otherwise.
pub(crate) fn count_goroutines(shared: &Shared, delta: i64) {
    match current_p_of(shared) {
        // SAFETY: `current_p_of` only returns a P this thread holds.
        Some(p) => unsafe { p.add_goroutines(delta) },
        None => shared.count_goroutines_off_p(delta),
    }
}

/// Panics with a clear message if this thread may not block on a future: it is polling a G, or
/// it is already inside `block_on`. Blocking there would stop the M (and its P's queue) until
/// the future completes, and deadlock if that future needs this P.
///
/// Returns `true` if the thread is polling a G that is inside `block_in_place` (its state is
/// `Syscall`): `block_on` is allowed there, as tokio's bridge from blocking code back into async
/// code, and must run as a [`blocking_region`]. (`block_in_place` sets the region up itself only
/// outside a G, so that its fast path inside one costs no thread-local writes.)
#[track_caller]
pub(crate) fn assert_may_block_on() -> bool {
    let (g, in_block_on) = CONTEXT.with(|ctx| (ctx.g.get(), ctx.in_block_on.get()));
    // SAFETY: by the `Context` invariant, a non-null `g` is the record of the G being polled.
    if let Some(g) = unsafe { g.as_ref() } {
        if g.state() == crate::g::GState::Syscall {
            return true;
        }
        nested_block_on("inside a task: this would block the thread that runs the task's P");
    }
    if in_block_on {
        nested_block_on("inside another block_on: its thread would stop running tasks");
    }
    false
}

/// The panic of a `block_on` where it may not run (`assert_may_block_on`): tokio's message,
/// which programs and tests match, then where gort found the thread.
#[cold]
#[track_caller]
fn nested_block_on(where_: &str) -> ! {
    panic!(
        "Cannot start a runtime from within a runtime. This happens because a function (like \
         `block_on`) attempted to block the current thread while the thread is being used to \
         drive asynchronous tasks. If you are in an async function, use `.await` on the future \
         instead of blocking on it. (gort: block_on was called {where_}, which can deadlock.)"
    )
}

/// Whether this thread runs asynchronous code now: it polls a G, or it is inside `block_on`
/// (polling main or running Gs for it), and not in blocking code (`block_in_place`,
/// `spawn_blocking`) that set those aside.
/// (A G inside `block_in_place` keeps its pointer set, with its state `Syscall`.)
pub(crate) fn in_async_code() -> bool {
    CONTEXT.with(|ctx| {
        // SAFETY: by the `Context` invariant, a non-null `g` is the record of the G being polled.
        match unsafe { ctx.g.get().as_ref() } {
            // On a `block_on` thread too: the G's `block_in_place` leaves `in_block_on` set.
            Some(g) => g.state() != crate::g::GState::Syscall,
            None => ctx.in_block_on.get(),
        }
    })
}
