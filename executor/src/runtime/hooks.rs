//! What a runtime does with the threads it starts (its Ms and its blocking pool's threads): their
//! names and stack size, and the callbacks tokio's `Builder` lets a program hang on them
//! (`on_thread_start`, `on_thread_stop`, `on_thread_park`, `on_thread_unpark`).
//!
//! The thread inside `block_on` is the caller's, not the runtime's: it gets no name and no
//! start or stop callback, but it does call the park callbacks around its waits, since it is the
//! runtime's only thread on a current-thread runtime (tokio does the same there). sysmon is
//! gort's own monitor, not a worker, and none of this applies to it.

use std::fmt;
use std::io;
use std::sync::Arc;
use std::thread;

/// A callback run on a runtime thread (tokio's `Callback`).
pub(crate) type Callback = Arc<dyn Fn() + Send + Sync>;

/// Makes the name of each new runtime thread (`Builder::thread_name_fn`).
pub(crate) type NameFn = Arc<dyn Fn() -> String + Send + Sync>;

/// Default name of a runtime's M threads.
pub(crate) const DEFAULT_M_NAME: &str = "gort-m";

/// Default name of a runtime's blocking-pool threads.
pub(crate) const DEFAULT_BLOCKING_NAME: &str = "gort-blocking";

/// The thread settings of one runtime. Read by whoever starts or parks one of its threads.
#[derive(Clone, Default)]
pub(crate) struct ThreadHooks {
    /// `None`: gort's names ([`DEFAULT_M_NAME`], [`DEFAULT_BLOCKING_NAME`]); a name given to
    /// the builder (`thread_name`, `thread_name_fn`) names every thread, as in tokio.
    pub(crate) name: Option<NameFn>,
    /// `None`: std's default (2 MiB).
    pub(crate) stack_size: Option<usize>,
    /// Run first thing on every new thread.
    pub(crate) on_start: Option<Callback>,
    /// Run last thing on every thread that exits normally (before shutdown stops waiting for
    /// it).
    pub(crate) on_stop: Option<Callback>,
    /// Run before a thread goes idle (an M parking or blocking in the netpoller, the `block_on`
    /// thread waiting for its future).
    pub(crate) on_park: Option<Callback>,
    /// Run when such a thread comes back from its wait.
    pub(crate) on_unpark: Option<Callback>,
}

impl ThreadHooks {
    /// Starts a thread running `body` after the start callback, named by the builder's name
    /// function or else `default_name`. `body` calls [`ThreadHooks::stopping`] before it ends,
    /// where its shutdown protocol needs it.
    pub(crate) fn spawn(
        &self,
        default_name: &str,
        body: impl FnOnce() + Send + 'static,
    ) -> io::Result<thread::JoinHandle<()>> {
        let name = match &self.name {
            Some(name) => name(),
            None => default_name.to_owned(),
        };
        let mut builder = thread::Builder::new().name(name);
        if let Some(size) = self.stack_size {
            builder = builder.stack_size(size);
        }
        let on_start = self.on_start.clone();
        builder.spawn(move || {
            if let Some(on_start) = on_start {
                on_start();
            }
            body();
        })
    }

    /// Runs the stop callback: a thread of the runtime is about to exit.
    pub(crate) fn stopping(&self) {
        if let Some(on_stop) = &self.on_stop {
            on_stop();
        }
    }

    /// Runs `wait` (a thread going idle) between the park and unpark callbacks.
    pub(crate) fn parked<R>(&self, wait: impl FnOnce() -> R) -> R {
        if let Some(on_park) = &self.on_park {
            on_park();
        }
        let woken = wait();
        if let Some(on_unpark) = &self.on_unpark {
            on_unpark();
        }
        woken
    }
}

impl fmt::Debug for ThreadHooks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let set = |hook: bool| if hook { "Some(..)" } else { "None" };
        f.debug_struct("ThreadHooks")
            .field("name", &set(self.name.is_some()))
            .field("stack_size", &self.stack_size)
            .field("on_start", &set(self.on_start.is_some()))
            .field("on_stop", &set(self.on_stop.is_some()))
            .field("on_park", &set(self.on_park.is_some()))
            .field("on_unpark", &set(self.on_unpark.is_some()))
            .finish()
    }
}
