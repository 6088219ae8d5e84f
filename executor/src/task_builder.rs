//! `task::Builder`: spawning a G with a name (tokio's `task::Builder`, which tokio only has with
//! `tokio_unstable`; gort always has it).

use std::future::Future;
use std::io;
use std::panic::Location;

use crate::join::JoinHandle;
use crate::runtime::Handle;

/// Configures one spawn. The name shows up in task dumps, leak reports and blocked-poll
/// warnings.
#[derive(Debug, Default, Clone)]
pub struct Builder<'a> {
    name: Option<&'a str>,
}

impl<'a> Builder<'a> {
    /// A builder with no name.
    pub fn new() -> Builder<'a> {
        Builder { name: None }
    }

    /// Names the task.
    pub fn name(&self, name: &'a str) -> Builder<'a> {
        Builder { name: Some(name) }
    }

    /// Spawns `future` on the current runtime (see `gort::spawn`). Never fails today; the
    /// `io::Result` matches tokio's signature.
    #[track_caller]
    pub fn spawn<Fut>(self, future: Fut) -> io::Result<JoinHandle<Fut::Output>>
    where
        Fut: Future + Send + 'static,
        Fut::Output: Send + 'static,
    {
        self.spawn_on(future, &Handle::current())
    }

    /// Spawns `future` on the runtime of `handle`.
    #[track_caller]
    pub fn spawn_on<Fut>(self, future: Fut, handle: &Handle) -> io::Result<JoinHandle<Fut::Output>>
    where
        Fut: Future + Send + 'static,
        Fut::Output: Send + 'static,
    {
        let name = self.name.map(Box::from);
        Ok(handle.shared.spawn(future, Location::caller(), name, None))
    }

    /// Runs `function` on the current runtime's blocking pool (see `task::spawn_blocking`).
    /// Never fails today.
    #[track_caller]
    pub fn spawn_blocking<Function, Output>(
        self,
        function: Function,
    ) -> io::Result<JoinHandle<Output>>
    where
        Function: FnOnce() -> Output + Send + 'static,
        Output: Send + 'static,
    {
        self.spawn_blocking_on(function, &Handle::current())
    }

    /// Runs `function` on the blocking pool of `handle`'s runtime.
    #[track_caller]
    pub fn spawn_blocking_on<Function, Output>(
        self,
        function: Function,
        handle: &Handle,
    ) -> io::Result<JoinHandle<Output>>
    where
        Function: FnOnce() -> Output + Send + 'static,
        Output: Send + 'static,
    {
        let name = self.name.map(Box::from);
        Ok(handle
            .shared
            .spawn_blocking_named(function, Location::caller(), name))
    }
}
