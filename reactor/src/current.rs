//! Which reactor new IO objects register with.
//!
//! The executor marks each thread that serves a runtime with that runtime's reactor
//! ([`enter`]); an IO object created there belongs to that runtime, as in tokio. Anywhere else
//! (a plain thread, `fn main` before any runtime) it belongs to the default runtime, whose
//! reactor is [`default_reactor`], so creating a socket never panics for want of a runtime.

use std::cell::RefCell;
use std::sync::{Arc, RwLock};

use crate::reactor::Reactor;

thread_local! {
    /// The reactor of the runtime this thread serves, if any.
    static CURRENT: RefCell<Option<Arc<Reactor>>> = const { RefCell::new(None) };
}

/// The reactor of the process-wide default runtime, once something asked for it.
static DEFAULT: RwLock<Option<Arc<Reactor>>> = RwLock::new(None);

/// The default runtime's reactor: the one installed with [`set_default_reactor`], or a new one
/// (installed from then on) if none was. The executor builds its default runtime on it.
pub fn default_reactor() -> Arc<Reactor> {
    if let Some(reactor) = &*DEFAULT.read().unwrap_or_else(|e| e.into_inner()) {
        return Arc::clone(reactor);
    }
    let mut default = DEFAULT.write().unwrap_or_else(|e| e.into_inner());
    if let Some(reactor) = &*default {
        return Arc::clone(reactor);
    }
    let reactor = Reactor::new();
    *default = Some(Arc::clone(&reactor));
    reactor
}

/// Makes `reactor` the default runtime's reactor (the executor calls this when a runtime is
/// installed as the default, as `#[gort::main]` does).
pub fn set_default_reactor(reactor: &Arc<Reactor>) {
    *DEFAULT.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::clone(reactor));
}

/// Restores the previous current reactor when dropped.
#[must_use = "the reactor is current only while the guard lives"]
pub struct EnterGuard {
    previous: Option<Arc<Reactor>>,
}

/// Makes `reactor` this thread's current reactor until the guard is dropped.
pub fn enter(reactor: &Arc<Reactor>) -> EnterGuard {
    let previous = CURRENT.with(|current| current.replace(Some(Arc::clone(reactor))));
    EnterGuard { previous }
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        let previous = self.previous.take();
        // `try_with`: a guard dropped during thread teardown has nothing left to restore.
        let _ = CURRENT.try_with(|current| current.replace(previous));
    }
}

/// The reactor new IO objects on this thread register with.
pub(crate) fn current() -> Arc<Reactor> {
    match CURRENT.try_with(|current| current.borrow().clone()) {
        Ok(Some(reactor)) => reactor,
        _ => default_reactor(),
    }
}
