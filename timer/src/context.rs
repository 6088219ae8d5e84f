//! Which timer set a timer armed on this thread goes into, and whose clock `Instant::now` reads.
//!
//! The executor keeps this current (DESIGN.md §1: the timer crate never imports the executor):
//! a thread holding a P has that P's set ([`set_current`] in `acquirep`); a thread serving a
//! runtime without a P has the runtime's set for such threads; any other thread (plain `fn main`,
//! a thread the user started) uses the default runtime's set ([`default_timers`]), so a timer
//! never panics for want of a runtime. A timer armed in one P's set stays there when its task
//! moves to another P: it fires when that P, a thief, or the idle M in the poller runs the set.

use std::cell::RefCell;
use std::sync::{Arc, RwLock};

use crate::timers::Timers;

thread_local! {
    /// The set timers armed on this thread go into, if the executor set one.
    static CURRENT: RefCell<Option<Arc<Timers>>> = const { RefCell::new(None) };
}

/// The default runtime's set for threads that serve no runtime.
static DEFAULT: RwLock<Option<Arc<Timers>>> = RwLock::new(None);

/// The default runtime's set for threads that serve no runtime: the one installed with
/// [`set_default_timers`], or a new one (with a new driver) that is installed from then on. The
/// executor builds its default runtime on it.
pub fn default_timers() -> Arc<Timers> {
    if let Some(timers) = &*DEFAULT.read().unwrap_or_else(|e| e.into_inner()) {
        return Arc::clone(timers);
    }
    let mut default = DEFAULT.write().unwrap_or_else(|e| e.into_inner());
    if let Some(timers) = &*default {
        return Arc::clone(timers);
    }
    let timers = Arc::new(Timers::new());
    *default = Some(Arc::clone(&timers));
    timers
}

/// Makes `timers` the default runtime's set (when a runtime is installed as the default).
pub fn set_default_timers(timers: &Arc<Timers>) {
    *DEFAULT.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::clone(timers));
}

/// Makes `timers` the set for timers armed on this thread (`None`: the default runtime's), and
/// returns the previous one.
pub fn set_current(timers: Option<Arc<Timers>>) -> Option<Arc<Timers>> {
    // `try_with`: during thread teardown there is nothing left to set.
    CURRENT
        .try_with(|current| current.replace(timers))
        .unwrap_or(None)
}

/// Whether this thread has a set of its own (it serves a runtime).
pub fn has_current() -> bool {
    CURRENT
        .try_with(|current| current.borrow().is_some())
        .unwrap_or(false)
}

/// Whether a timer armed on this thread would fire: its set's driver was adopted by a runtime
/// (the thread's, or the default runtime once it started). Crates below the executor, which
/// cannot start the default runtime, check it before they wait on a timer (`mpsc`'s
/// `send_timeout`), so that they fail instead of waiting for ever.
pub fn is_driven() -> bool {
    with_current(|timers| timers.driver().is_adopted())
}

/// Runs `f` with the set for timers armed on this thread.
pub(crate) fn with_current<R>(f: impl FnOnce(&Arc<Timers>) -> R) -> R {
    let mut f = Some(f);
    let borrowed = CURRENT.try_with(|current| {
        (*current.borrow())
            .as_ref()
            .map(|timers| (f.take().expect("called once"))(timers))
    });
    match borrowed {
        Ok(Some(result)) => result,
        _ => (f.take().expect("called once"))(&default_timers()),
    }
}

/// The current runtime's clock time.
pub(crate) fn now() -> std::time::Instant {
    with_current(|timers| timers.driver().clock.now())
}
