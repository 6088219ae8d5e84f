//! [`Barrier`]: `n` tasks wait until all `n` have arrived, then go on together.
//!
//! # Design
//!
//! A count of arrivals and a [`WaitQueue`] under one `std` mutex. A round is the `n` arrivals
//! between two releases:
//!
//! 1. An arrival locks, counts itself and, unless it is the `n`-th, queues and parks.
//! 2. The `n`-th arrival is the round's leader: it resets the count (the next arrival starts a
//!    new round), releases every queued waiter, and returns at once.
//! 3. A waiter polled after its release gives its ticket back and returns, not the leader.
//!
//! The barrier is reusable for that reason: the release marks this round's entries, and an
//! arrival of the next round queues behind a fresh count. `n == 0` behaves as `n == 1`, as in
//! tokio. As in tokio, `wait` is not cancel safe: an arrival dropped while parked still counts.
//!
//! # The leak pass
//!
//! The state is an object in the GC arena (a `Gc`, kind `Waits`) and a `Barrier` is
//! [`Trace`]; reached from a traced owner (a `Gc<Barrier>` captured by `go!`), the tasks
//! parked in `wait` are reported with the wait reason `sync.Barrier.wait` once no live task can
//! arrive any more. Held in an `Arc`, which the collector does not look into, they are never
//! reported.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Mutex, MutexGuard, PoisonError, TryLockError};
use std::task::{Context, Poll};

use gort_gc::{Edge, Gc, Kind, Trace, Tracer, Visitor};

use crate::wait_queue::{Status, Ticket, WaitQueue};

/// A rendezvous for `n` tasks: each calls [`wait`](Barrier::wait), and all complete once the
/// `n`-th arrives; then the next `n` calls form a new round. Share it with `Arc<Barrier>`.
pub struct Barrier {
    /// The round's count and its waiters.
    shared: Gc<Shared>,
}

/// What [`Barrier::wait`] tells each task of a round: whether it is the round's leader.
#[derive(Debug, Clone)]
pub struct BarrierWaitResult(bool);

/// The state of a [`Barrier`], in the arena.
struct Shared {
    /// Arrivals per round (at least 1).
    n: usize,
    round: Mutex<Round>,
}

/// What the barrier's lock guards.
struct Round {
    /// Arrivals so far in this round, below `n`.
    arrived: usize,
    /// This round's parked arrivals (and the released ones of earlier rounds not yet polled).
    queue: WaitQueue,
}

/// One arrival (protocol steps 1 to 3); resolves to whether it led the round.
struct Arrival<'a> {
    shared: &'a Shared,
    stage: Stage,
}

/// Where an [`Arrival`] is.
enum Stage {
    /// Not counted yet.
    Coming,
    /// Counted and parked under this ticket.
    Parked(Ticket),
    /// Returned.
    Left,
}

/// How the leak pass sees a barrier's state: the parked arrivals' wakers, no edges.
struct ParkedArrivals;

impl Barrier {
    /// A barrier that releases its waiters in rounds of `n`. `n == 0` behaves as `n == 1`
    /// (every wait completes at once, as the leader), as in tokio.
    pub fn new(n: usize) -> Barrier {
        Barrier {
            shared: Gc::new_traced_by::<ParkedArrivals>(Shared {
                n: n.max(1),
                round: Mutex::new(Round {
                    arrived: 0,
                    queue: WaitQueue::new(),
                }),
            }),
        }
    }

    /// Waits until `n` tasks, this one included, have called `wait` in this round.
    ///
    /// Exactly one task per round (the last to arrive) gets a result whose
    /// [`is_leader`](BarrierWaitResult::is_leader) is true, for work that must happen once per
    /// round. Not cancel safe, as in tokio: a wait dropped after its first poll still counts as
    /// an arrival.
    pub async fn wait(&self) -> BarrierWaitResult {
        let is_leader = Arrival {
            shared: &self.shared,
            stage: Stage::Coming,
        }
        .await;
        BarrierWaitResult(is_leader)
    }
}

impl Shared {
    /// Locks the round. Poisoning is ignored: only a waker's `clone` runs user code under the
    /// lock, before anything changes.
    fn lock(&self) -> MutexGuard<'_, Round> {
        self.round.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl BarrierWaitResult {
    /// Whether this task was the round's leader; exactly one per round is.
    pub fn is_leader(&self) -> bool {
        self.0
    }
}

impl Future for Arrival<'_> {
    type Output = bool;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<bool> {
        let shared = self.shared;
        let mut round = shared.lock();
        match std::mem::replace(&mut self.stage, Stage::Left) {
            Stage::Coming => {
                round.arrived += 1;
                if round.arrived < shared.n {
                    self.stage = Stage::Parked(round.queue.push(Some(cx.waker().clone())));
                    return Poll::Pending;
                }
                round.arrived = 0;
                let released = round.queue.release_all();
                drop(round);
                released.wake();
                Poll::Ready(true)
            }
            Stage::Parked(ticket) => {
                if round.queue.status(&ticket) == Status::Queued {
                    let replaced = round.queue.update_waker(&ticket, cx.waker());
                    self.stage = Stage::Parked(ticket);
                    drop(round);
                    drop(replaced);
                    return Poll::Pending;
                }
                let (_, waker) = round.queue.remove(ticket);
                drop(round);
                drop(waker);
                Poll::Ready(false)
            }
            Stage::Left => Poll::Ready(false),
        }
    }
}

impl Drop for Arrival<'_> {
    /// Leaves the queue; the arrival stays counted (not cancel safe, as in tokio).
    fn drop(&mut self) {
        if let Stage::Parked(ticket) = std::mem::replace(&mut self.stage, Stage::Left) {
            let (_, waker) = self.shared.lock().queue.remove(ticket);
            drop(waker);
        }
    }
}

// SAFETY: reports only wakers (of the tasks parked in `wait`, each under its queue entry's
// address), no object edge, hence `Waits`.
unsafe impl Tracer<Shared> for ParkedArrivals {
    const KIND: Kind = Kind::Waits;
    fn trace(shared: &Shared, visitor: &mut dyn Visitor) {
        // With the world stopped the lock is free, unless a thread outside every pin holds it;
        // reporting nothing then only makes the waiting tasks look reachable.
        let round = match shared.round.try_lock() {
            Ok(round) => round,
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(TryLockError::WouldBlock) => return,
        };
        for (holder, waker) in round.queue.queued_wakers() {
            visitor.visit_waker(holder, waker, "sync.Barrier.wait");
        }
    }
}

// SAFETY: a `Barrier` owns exactly one handle, to its shared state.
unsafe impl Trace for Barrier {
    fn trace(&self, visitor: &mut dyn Visitor) {
        visitor.visit(Edge::to(&self.shared));
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let arrived = self.shared.lock().arrived;
        f.debug_struct("Barrier")
            .field("n", &self.shared.n)
            .field("arrived", &arrived)
            .finish()
    }
}
