//! Where crates below the executor send blocking work: the runtime's blocking pool when the
//! calling thread serves a runtime, a thread of its own otherwise.
//!
//! The reactor resolves host names with `getaddrinfo`, which blocks for as long as DNS takes.
//! It cannot import the executor that owns the pool (DESIGN.md §1), so the executor installs a
//! [`BlockingSpawner`] for each thread it serves ([`set_blocking_spawner`]) and the reactor
//! calls [`spawn_blocking_job`]. Through the pool, resolver threads are bounded by
//! `max_blocking_threads` and reused while warm, as tokio's are.

use std::cell::RefCell;
use std::io;
use std::sync::Arc;
use std::thread;

/// A blocking job: runs once, on a thread that may block.
pub type BlockingJob = Box<dyn FnOnce() + Send + 'static>;

/// Runs blocking jobs for one runtime (implemented by the executor).
pub trait BlockingSpawner: Send + Sync {
    /// Queues `job` on the runtime's blocking pool. The job runs even if nobody waits for it.
    fn spawn_blocking_job(self: Arc<Self>, job: BlockingJob);
}

thread_local! {
    /// The spawner of the runtime this thread serves, if any.
    static SPAWNER: RefCell<Option<Arc<dyn BlockingSpawner>>> = const { RefCell::new(None) };
}

/// Installs `spawner` for this thread and returns the previous one (for the caller to restore).
pub fn set_blocking_spawner(
    spawner: Option<Arc<dyn BlockingSpawner>>,
) -> Option<Arc<dyn BlockingSpawner>> {
    SPAWNER
        .try_with(|cell| cell.replace(spawner))
        .ok()
        .flatten()
}

/// Runs `job` on the current runtime's blocking pool, or on a new thread named `gort-blocking`
/// when this thread serves no runtime. Fails only if that thread cannot be started.
pub fn spawn_blocking_job(job: BlockingJob) -> io::Result<()> {
    let spawner = SPAWNER
        .try_with(|cell| cell.borrow().clone())
        .ok()
        .flatten();
    match spawner {
        Some(spawner) => {
            spawner.spawn_blocking_job(job);
            Ok(())
        }
        None => thread::Builder::new()
            .name("gort-blocking".into())
            .spawn(job)
            .map(drop),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::mpsc;

    use super::*;

    /// Counts the jobs it is given and runs them inline.
    struct Counting(AtomicUsize);

    impl BlockingSpawner for Counting {
        fn spawn_blocking_job(self: Arc<Self>, job: BlockingJob) {
            self.0.fetch_add(1, Ordering::SeqCst);
            job();
        }
    }

    #[test]
    fn jobs_go_to_the_installed_spawner_and_to_a_thread_without_one() {
        let (done, finished) = mpsc::channel();
        let counting = Arc::new(Counting(AtomicUsize::new(0)));
        let previous = set_blocking_spawner(Some(counting.clone()));
        assert!(previous.is_none());
        let done_in_pool = done.clone();
        spawn_blocking_job(Box::new(move || done_in_pool.send("pool").unwrap())).unwrap();
        assert_eq!(counting.0.load(Ordering::SeqCst), 1);
        assert_eq!(finished.recv().unwrap(), "pool");

        let restored = set_blocking_spawner(previous);
        assert!(restored.is_some());
        spawn_blocking_job(Box::new(move || {
            let name = thread::current().name().map(str::to_owned);
            done.send(if name.as_deref() == Some("gort-blocking") {
                "thread"
            } else {
                "elsewhere"
            })
            .unwrap();
        }))
        .unwrap();
        assert_eq!(finished.recv().unwrap(), "thread");
        assert_eq!(counting.0.load(Ordering::SeqCst), 1);
    }
}
