//! [`Barrier`]: `n` tasks wait until all `n` have arrived, then go on together.
//!
//! `async-lock`'s barrier does the work (a count and a generation under its async mutex, an
//! `event-listener` event the last arrival notifies), and is reusable: once a round releases,
//! the next `n` waits form a new round. The newtype gives tokio's result type, so that code
//! asking `is_leader()` ports unchanged, and reads `n == 0` as tokio does.

/// A rendezvous for `n` tasks: each calls [`wait`](Barrier::wait), and all complete once the
/// `n`-th arrives. Share it with `Arc<Barrier>`.
#[derive(Debug)]
pub struct Barrier {
    /// The count, the round and the waiters.
    inner: async_lock::Barrier,
}

/// What [`Barrier::wait`] tells each task of a round: whether it is the round's leader.
#[derive(Debug, Clone)]
pub struct BarrierWaitResult(bool);

impl Barrier {
    /// A barrier that releases its waiters in rounds of `n`. `n == 0` behaves as `n == 1`
    /// (every wait completes at once, as the leader), as in tokio.
    pub fn new(n: usize) -> Barrier {
        Barrier {
            inner: async_lock::Barrier::new(n.max(1)),
        }
    }

    /// Waits until `n` tasks, this one included, have called `wait` in this round.
    ///
    /// Exactly one task per round (the last to arrive) gets a result whose
    /// [`is_leader`](BarrierWaitResult::is_leader) is true, for work that must happen once per
    /// round. Not cancel safe, as in tokio: a dropped wait may still count as an arrival.
    pub async fn wait(&self) -> BarrierWaitResult {
        BarrierWaitResult(self.inner.wait().await.is_leader())
    }
}

impl BarrierWaitResult {
    /// Whether this task was the round's leader; exactly one per round is.
    pub fn is_leader(&self) -> bool {
        self.0
    }
}
