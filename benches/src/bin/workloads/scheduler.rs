//! The scheduler workloads: spawning from a task (`spawn200k`), chained spawns (`chained100k`)
//! and yields (`yield1000x200`), generic over [`Rt`].

use super::*;

/// Tasks spawned by `spawn200k`.
pub(super) const SPAWN_TASKS: usize = 200_000;

/// Tasks in the chain of `chained100k`: each spawns the next.
pub(super) const CHAIN_DEPTH: usize = 100_000;

/// Tasks in `yield1000x200`.
pub(super) const YIELD_TASKS: usize = 1_000;

/// Yields each task of `yield1000x200` performs.
pub(super) const YIELDS_PER_TASK: usize = 200;

/// `spawn200k`: one task spawns [`SPAWN_TASKS`] tasks that each decrement a countdown; timed from
/// before the first spawn until the driver has received the last task's signal.
pub(super) fn spawn200k<R: Rt>() -> Vec<Metric> {
    let elapsed = in_spawned_task::<R, _>(async {
        let done = COUNTDOWN.arm(SPAWN_TASKS);
        let start = Instant::now();
        for _ in 0..SPAWN_TASKS {
            R::spawn_detached(async { COUNTDOWN.tick() });
        }
        done.await.unwrap();
        start.elapsed()
    });
    per_op(elapsed, SPAWN_TASKS, 1.0, "ns/task")
}

/// Spawns the rest of the `chained100k` chain: a task that continues with `remaining - 1`, or,
/// when nothing remains, sends the completion signal.
pub(super) fn chain<R: Rt>(remaining: usize, done: oneshot::Sender<()>) {
    if remaining == 0 {
        done.send(()).unwrap();
    } else {
        R::spawn_detached(async move { chain::<R>(remaining - 1, done) });
    }
}

/// `chained100k`: [`CHAIN_DEPTH`] strictly sequential spawns, each task spawning the next; timed
/// from the first spawn until the driver has received the last task's signal.
pub(super) fn chained100k<R: Rt>() -> Vec<Metric> {
    let elapsed = in_spawned_task::<R, _>(async {
        let (tx, rx) = oneshot::channel();
        let start = Instant::now();
        chain::<R>(CHAIN_DEPTH, tx);
        rx.await.unwrap();
        start.elapsed()
    });
    per_op(elapsed, CHAIN_DEPTH, 1.0, "ns/task")
}

/// `yield1000x200`: one task spawns [`YIELD_TASKS`] tasks that each yield [`YIELDS_PER_TASK`]
/// times and then decrement a countdown; timed from before the first spawn (spawning is included)
/// until the driver has received the last task's signal.
pub(super) fn yield1000x200<R: Rt>() -> Vec<Metric> {
    let elapsed = in_spawned_task::<R, _>(async {
        let done = COUNTDOWN.arm(YIELD_TASKS);
        let start = Instant::now();
        for _ in 0..YIELD_TASKS {
            R::spawn_detached(async {
                for _ in 0..YIELDS_PER_TASK {
                    R::yield_now().await;
                }
                COUNTDOWN.tick();
            });
        }
        done.await.unwrap();
        start.elapsed()
    });
    per_op(elapsed, YIELD_TASKS * YIELDS_PER_TASK, 1.0, "ns/yield")
}
