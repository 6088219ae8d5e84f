//! `task::Builder`: spawning a G with a name (tokio's `task::Builder`).

use std::future::Future;
use std::io;
use std::panic::Location;

use crate::join::JoinHandle;
use crate::runtime::Handle;

/// Configures one spawn. The name shows up in `JoinError` messages and (later) task dumps.
#[derive(Debug, Default, Clone)]
pub struct Builder<'a> {
    name: Option<&'a str>,
}

impl<'a> Builder<'a> {
    /// A builder with no name.
    pub fn new() -> Builder<'a> {
        Builder { name: None }
    }

    /// Names the G.
    pub fn name(self, name: &'a str) -> Builder<'a> {
        Builder { name: Some(name) }
    }

    /// Spawns `future` on the current runtime (see `gort::spawn`). Never fails today; the
    /// `io::Result` matches tokio's signature.
    #[track_caller]
    pub fn spawn<F>(self, future: F) -> io::Result<JoinHandle<F::Output>>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.spawn_on(future, &Handle::current())
    }

    /// Spawns `future` on the runtime of `handle`.
    #[track_caller]
    pub fn spawn_on<F>(self, future: F, handle: &Handle) -> io::Result<JoinHandle<F::Output>>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let name = self.name.map(Box::from);
        Ok(handle.shared.spawn(future, Location::caller(), name, None))
    }
}
