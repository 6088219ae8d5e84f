//! `JoinSet`: a set of spawned Gs whose outputs are taken in completion order.
//!
//! Built on `futures::stream::FuturesUnordered`, which already polls only the members that were
//! woken; each member is a `JoinHandle`, so the set adds no state of its own. As in tokio,
//! dropping the set aborts every G still in it.

use std::future::Future;

use futures::stream::{FuturesUnordered, StreamExt};

use crate::join::{JoinError, JoinHandle};

/// A collection of Gs spawned on the current runtime, joined in the order they finish.
pub struct JoinSet<T> {
    members: FuturesUnordered<JoinHandle<T>>,
}

impl<T: Send + 'static> JoinSet<T> {
    /// An empty set.
    pub fn new() -> JoinSet<T> {
        JoinSet {
            members: FuturesUnordered::new(),
        }
    }

    /// Spawns `future` on the current runtime (as `gort::spawn` does) and adds it to the set.
    #[track_caller]
    pub fn spawn<F>(&mut self, future: F)
    where
        F: Future<Output = T> + Send + 'static,
    {
        self.members.push(crate::spawn(future));
    }

    /// Adds an already spawned G to the set.
    pub fn push(&mut self, handle: JoinHandle<T>) {
        self.members.push(handle);
    }

    /// Waits for the next G to finish and returns its result, or `None` if the set is empty.
    pub async fn join_next(&mut self) -> Option<Result<T, JoinError>> {
        self.members.next().await
    }

    /// Waits for every G and returns their outputs in completion order. Panics (re-raising the
    /// G's panic) if one of them panicked, as tokio's `JoinSet::join_all` does.
    pub async fn join_all(mut self) -> Vec<T> {
        let mut outputs = Vec::with_capacity(self.len());
        while let Some(result) = self.join_next().await {
            match result {
                Ok(output) => outputs.push(output),
                Err(err) if err.is_panic() => std::panic::resume_unwind(err.into_panic()),
                Err(err) => panic!("{err}"),
            }
        }
        outputs
    }

    /// Aborts every G in the set. They stay in the set until joined (yielding `Cancelled`
    /// unless they had already finished).
    pub fn abort_all(&mut self) {
        for handle in self.members.iter() {
            handle.abort();
        }
    }

    /// Aborts every G and waits until all of them have finished.
    pub async fn shutdown(&mut self) {
        self.abort_all();
        while self.join_next().await.is_some() {}
    }

    /// Removes every G from the set without aborting it (they keep running, detached).
    pub fn detach_all(&mut self) {
        self.members = FuturesUnordered::new();
    }

    /// Number of Gs in the set (finished but not yet joined ones included).
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }
}

impl<T: Send + 'static> Default for JoinSet<T> {
    fn default() -> JoinSet<T> {
        JoinSet::new()
    }
}

impl<T> Drop for JoinSet<T> {
    fn drop(&mut self) {
        for handle in self.members.iter() {
            handle.abort();
        }
    }
}

impl<T> std::fmt::Debug for JoinSet<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JoinSet")
            .field("len", &self.members.len())
            .finish()
    }
}
