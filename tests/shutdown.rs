//! Shutdown as users rely on it: dropping a runtime drops every future (parked, queued, spawned
//! during the shutdown), terminates whatever destructors do, respects `shutdown_timeout` with a
//! task stuck in a poll, and a `block_on` on a handle of a runtime shut down elsewhere returns
//! (or panics clearly) instead of hanging.

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};

use futures::channel::oneshot;
use gort::runtime::{Handle, Runtime};

use common::{
    count, counter, eventually_blocking, panic_text, parked_forever, runtime, watchdog, DropGuard,
};

// `drop(rt.spawn(..))` detaches a task of `rt` (`go!` would spawn onto the current runtime).

/// Blocks its thread until `release` is set (a task standing in for a stuck poll).
fn block_thread_until(release: &AtomicBool) {
    while !release.load(Ordering::SeqCst) {
        thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn dropping_a_runtime_drops_every_future() {
    const PENDING: usize = 10;
    const ON_CHANNEL: usize = 10;
    const QUEUED: usize = 10;
    const BLOCKERS: usize = 2;
    let _watchdog = watchdog(Duration::from_secs(60), "runtime drop");
    let rt = runtime(2);
    let drops = counter();
    let parked = counter();

    // Tasks parked forever on `pending()` and on channels that never complete.
    let mut senders = Vec::new();
    for i in 0..PENDING + ON_CHANNEL {
        let guard = DropGuard::new(&drops);
        let parked = Arc::clone(&parked);
        if i < PENDING {
            drop(rt.spawn(async move {
                let _guard = guard;
                parked.fetch_add(1, Ordering::SeqCst);
                std::future::pending::<()>().await;
            }));
        } else {
            let (tx, rx) = oneshot::channel::<()>();
            senders.push(tx);
            drop(rt.spawn(async move {
                let _guard = guard;
                parked.fetch_add(1, Ordering::SeqCst);
                let _ = rx.await;
            }));
        }
    }
    assert!(eventually_blocking(
        || count(&parked) == PENDING + ON_CHANNEL
    ));

    // Occupy both Ps, then queue tasks that nobody can run.
    let release = Arc::new(AtomicBool::new(false));
    let blocking = counter();
    for _ in 0..BLOCKERS {
        let guard = DropGuard::new(&drops);
        let release = Arc::clone(&release);
        let blocking = Arc::clone(&blocking);
        drop(rt.spawn(async move {
            let _guard = guard;
            blocking.fetch_add(1, Ordering::SeqCst);
            block_thread_until(&release);
        }));
    }
    assert!(eventually_blocking(|| count(&blocking) == BLOCKERS));
    for _ in 0..QUEUED {
        let guard = DropGuard::new(&drops);
        drop(rt.spawn(async move {
            let _guard = guard;
        }));
    }

    // `drop` waits for the threads, so the blockers are released from another thread once
    // the drop has (almost certainly) begun.
    let releaser = {
        let release = Arc::clone(&release);
        thread::spawn(move || {
            thread::sleep(Duration::from_millis(200));
            release.store(true, Ordering::SeqCst);
        })
    };
    drop(rt);
    assert_eq!(
        count(&drops),
        PENDING + ON_CHANNEL + BLOCKERS + QUEUED,
        "every future was dropped by the time drop(rt) returned"
    );
    releaser.join().unwrap();
    drop(senders);
}

#[test]
fn dropping_an_idle_runtime_with_parked_tasks_from_block_on() {
    // The parked tasks were spawned by block_on's future (into its P's runnext and ring).
    const TASKS: usize = 300; // More than a ring holds.
    let _watchdog = watchdog(Duration::from_secs(60), "runtime drop after block_on");
    let rt = runtime(2);
    let drops = counter();
    rt.block_on(async {
        for _ in 0..TASKS {
            gort::go!(parked_forever(DropGuard::new(&drops)));
        }
        gort::task::yield_now().await;
    });
    drop(rt);
    assert_eq!(count(&drops), TASKS);
}

/// Spawns two children from its destructor, each holding a `SpawnOnDrop` one level shallower.
struct SpawnOnDrop {
    handle: Handle,
    depth: u32,
    spawned: Arc<AtomicUsize>,
    dropped: Arc<AtomicUsize>,
}

impl SpawnOnDrop {
    fn spawn(handle: &Handle, depth: u32, spawned: &Arc<AtomicUsize>, dropped: &Arc<AtomicUsize>) {
        spawned.fetch_add(1, Ordering::SeqCst);
        let guard = SpawnOnDrop {
            handle: handle.clone(),
            depth,
            spawned: Arc::clone(spawned),
            dropped: Arc::clone(dropped),
        };
        drop(handle.spawn(parked_forever(guard)));
    }
}

impl Drop for SpawnOnDrop {
    fn drop(&mut self) {
        if self.depth > 0 {
            for _ in 0..2 {
                SpawnOnDrop::spawn(&self.handle, self.depth - 1, &self.spawned, &self.dropped);
            }
        }
        self.dropped.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn dropping_a_runtime_whose_tasks_spawn_in_their_destructors_terminates() {
    const ROOTS: usize = 4;
    const DEPTH: u32 = 4;
    let _watchdog = watchdog(Duration::from_secs(60), "drop with spawning destructors");
    let rt = runtime(2);
    let spawned = counter();
    let dropped = counter();
    for _ in 0..ROOTS {
        SpawnOnDrop::spawn(rt.handle(), DEPTH, &spawned, &dropped);
    }
    let all_parked = eventually_blocking(|| rt.handle().num_goroutine() == ROOTS);
    assert!(all_parked);
    drop(rt);
    let expected = ROOTS * ((1 << (DEPTH + 1)) - 1);
    assert_eq!(count(&spawned), expected);
    assert_eq!(
        count(&dropped),
        expected,
        "every future, spawned during shutdown too"
    );
}

#[test]
fn dropping_a_runtime_while_tasks_keep_spawning_terminates() {
    const SPAWNERS: usize = 4;
    let _watchdog = watchdog(Duration::from_secs(60), "drop while spawning");
    let rt = runtime(2);
    let drops = counter();
    let children = counter();
    for _ in 0..SPAWNERS {
        let guard = DropGuard::new(&drops);
        let children = Arc::clone(&children);
        drop(rt.spawn(async move {
            let _guard = guard;
            loop {
                let children = Arc::clone(&children);
                gort::go!(async move {
                    gort::task::yield_now().await;
                    children.fetch_add(1, Ordering::Relaxed);
                });
                gort::task::yield_now().await;
            }
        }));
    }
    assert!(eventually_blocking(|| count(&children) > 1000));
    drop(rt);
    assert_eq!(count(&drops), SPAWNERS);
}

#[test]
fn spawning_onto_a_dropped_runtime_drops_the_future() {
    let rt = runtime(1);
    let handle = rt.handle().clone();
    drop(rt);
    let drops = counter();
    let guard = DropGuard::new(&drops);
    let join = handle.spawn(async move {
        let _guard = guard;
        "never runs"
    });
    assert_eq!(count(&drops), 1, "the future was dropped at once");
    let err = runtime(1).block_on(join).expect_err("the task never ran");
    assert!(err.is_cancelled(), "{err:?}");
}

/// Shuts down (with `shutdown`) a 1-P runtime whose only thread is stuck in a 3 s poll, with
/// tasks parked and tasks queued behind the stuck one. `shutdown` must return within `bound`.
fn shutdown_with_a_stuck_task(shutdown: fn(Runtime), bound: Duration) {
    const PARKED: usize = 5;
    const QUEUED: usize = 5;
    let rt = runtime(1);
    let parked_drops = counter();
    let queued_drops = counter();
    let stuck_drops = counter();
    let parked = counter();
    let queued_polls = counter();

    for _ in 0..PARKED {
        let guard = DropGuard::new(&parked_drops);
        let parked = Arc::clone(&parked);
        drop(rt.spawn(async move {
            let _guard = guard;
            parked.fetch_add(1, Ordering::SeqCst);
            std::future::pending::<()>().await;
        }));
    }
    assert!(eventually_blocking(|| count(&parked) == PARKED));

    let (stuck_tx, stuck_rx) = mpsc::channel();
    let guard = DropGuard::new(&stuck_drops);
    drop(rt.spawn(async move {
        let _guard = guard;
        stuck_tx.send(()).unwrap();
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(3) {
            thread::sleep(Duration::from_millis(10));
        }
    }));
    stuck_rx.recv().unwrap();

    for _ in 0..QUEUED {
        let guard = DropGuard::new(&queued_drops);
        let queued_polls = Arc::clone(&queued_polls);
        drop(rt.spawn(async move {
            let _guard = guard;
            queued_polls.fetch_add(1, Ordering::SeqCst);
        }));
    }

    let start = Instant::now();
    shutdown(rt);
    let took = start.elapsed();
    assert!(took < bound, "shutdown took {took:?} (bound {bound:?})");
    assert_eq!(
        count(&parked_drops),
        PARKED,
        "parked tasks are dropped by shutdown"
    );
    assert_eq!(
        count(&queued_drops),
        QUEUED,
        "queued tasks are dropped by shutdown"
    );
    assert_eq!(
        count(&queued_polls),
        0,
        "queued tasks never run after shutdown"
    );
    // The stuck task's thread was left behind; its future is dropped when the poll returns.
    assert!(
        eventually_blocking(|| count(&stuck_drops) == 1),
        "the stuck task's future was never dropped"
    );
    assert_eq!(count(&queued_polls), 0);
}

#[test]
fn shutdown_timeout_returns_while_a_task_is_stuck() {
    let _watchdog = watchdog(Duration::from_secs(60), "shutdown_timeout");
    shutdown_with_a_stuck_task(
        |rt| rt.shutdown_timeout(Duration::from_secs(1)),
        Duration::from_millis(2500),
    );
}

#[test]
fn shutdown_background_returns_while_a_task_is_stuck() {
    let _watchdog = watchdog(Duration::from_secs(60), "shutdown_background");
    shutdown_with_a_stuck_task(Runtime::shutdown_background, Duration::from_millis(2500));
}

// ---------------------------------------------------------------------------------------------
// block_on on a runtime shut down elsewhere

/// Runs the future `make` builds for a runtime with `Handle::block_on` on a thread of its own,
/// shuts the runtime down from this thread once the future is parked, and returns what the
/// `block_on` thread ended with (its value, or its panic's text), which must come within a few
/// seconds.
fn block_on_while_shut_down_elsewhere<T, F>(
    procs: usize,
    make: impl FnOnce(&Handle) -> F + Send + 'static,
) -> Result<T, String>
where
    T: Send + 'static,
    F: std::future::Future<Output = T>,
{
    let _watchdog = watchdog(Duration::from_secs(30), "block_on after shutdown");
    let rt = runtime(procs);
    let handle = rt.handle().clone();
    let (parked_tx, parked_rx) = mpsc::channel();
    let (done_tx, done_rx) = mpsc::channel();
    thread::spawn(move || {
        let (future, parked) = common::record_pending(make(&handle));
        let watcher = thread::spawn(move || {
            while !parked.load(Ordering::SeqCst) {
                thread::sleep(Duration::from_millis(1));
            }
            let _ = parked_tx.send(());
        });
        let ended =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| handle.block_on(future)));
        watcher.join().unwrap();
        let _ = done_tx.send(ended.map_err(|payload| panic_text(&*payload)));
    });
    parked_rx.recv().expect("the future parked");
    let start = Instant::now();
    drop(rt);
    let ended = done_rx
        .recv_timeout(Duration::from_secs(10))
        .expect("block_on never returned after its runtime shut down");
    assert!(start.elapsed() < Duration::from_secs(10));
    ended
}

#[test]
fn block_on_a_sleep_panics_clearly_when_its_runtime_is_shut_down_elsewhere() {
    let ended =
        block_on_while_shut_down_elsewhere(2, |_| gort::time::sleep(Duration::from_secs(3600)));
    let message = ended.expect_err("a sleep of a shut-down runtime can never complete");
    assert!(
        message.contains("runtime shut down"),
        "unclear panic: {message}"
    );
}

#[test]
fn block_on_a_task_returns_cancelled_when_its_runtime_is_shut_down_elsewhere() {
    let ended =
        block_on_while_shut_down_elsewhere(1, |handle| handle.spawn(std::future::pending::<()>()));
    let error = ended
        .expect("block_on returned")
        .expect_err("the task was dropped by the shutdown");
    assert!(error.is_cancelled(), "{error:?}");
}

#[test]
fn block_on_a_channel_whose_sender_task_was_dropped_returns_none() {
    let rt = runtime(1);
    let handle = rt.handle().clone();
    let (tx, rx) = gort::chan::<u32>(0);
    drop(rt.spawn(async move {
        std::future::pending::<()>().await;
        drop(tx);
    }));
    let ended = {
        let _watchdog = watchdog(Duration::from_secs(30), "recv after shutdown");
        let blocker = thread::spawn(move || handle.block_on(async move { rx.recv().await }));
        thread::sleep(Duration::from_millis(50));
        drop(rt);
        blocker.join().expect("block_on returned")
    };
    assert_eq!(ended, None, "the sender went with its task");
}

#[test]
fn block_on_on_a_runtime_already_shut_down_still_runs_a_ready_future() {
    let rt = runtime(1);
    let handle = rt.handle().clone();
    drop(rt);
    assert_eq!(handle.block_on(async { 7 }), 7);
    let slept = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        handle.block_on(gort::time::sleep(Duration::from_millis(1)))
    }));
    let message = panic_text(&*slept.expect_err("no M will ever fire the sleep"));
    assert!(message.contains("runtime shut down"), "{message}");
}

// ---------------------------------------------------------------------------------------------
// Spawns during shutdown

/// A future whose destructor spawns its successor onto the same runtime, for ever: a shutdown
/// that queued those spawns would drain round after round without end (issue 14). They are
/// refused (dropped at once), and a chain that never ends is cut, so the drop returns.
struct Relay {
    handle: Handle,
    dropped: Arc<AtomicUsize>,
}

impl Relay {
    fn spawn(handle: &Handle, dropped: &Arc<AtomicUsize>) {
        let relay = Relay {
            handle: handle.clone(),
            dropped: Arc::clone(dropped),
        };
        drop(handle.spawn(parked_forever(relay)));
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.dropped.fetch_add(1, Ordering::SeqCst);
        Relay::spawn(&self.handle, &self.dropped);
    }
}

#[test]
fn shutdown_ends_when_every_destructor_spawns_again() {
    let _watchdog = watchdog(Duration::from_secs(60), "endless spawning destructors");
    let rt = runtime(2);
    let dropped = counter();
    for _ in 0..4 {
        Relay::spawn(rt.handle(), &dropped);
    }
    assert!(eventually_blocking(|| rt.handle().num_goroutine() == 4));
    drop(rt);
    // Each of the four parked relays was dropped, and each refused successor too, until the
    // chain was cut.
    assert!(count(&dropped) > 4, "{}", count(&dropped));
}

/// A task spawned from a destructor while its runtime shuts down never runs: its future is
/// dropped at once, and its handle reports the task cancelled.
#[test]
fn a_spawn_during_shutdown_is_dropped_and_its_handle_cancelled() {
    let _watchdog = watchdog(Duration::from_secs(60), "spawn during shutdown");
    struct SpawnOnce {
        handle: Handle,
        guard: Option<DropGuard>,
        sent: mpsc::Sender<gort::JoinHandle<&'static str>>,
    }
    impl Drop for SpawnOnce {
        fn drop(&mut self) {
            let guard = self.guard.take();
            let join = self.handle.spawn(async move {
                let _guard = guard;
                "ran after shutdown"
            });
            let _ = self.sent.send(join);
        }
    }
    let rt = runtime(1);
    let drops = counter();
    let (sent, joins) = mpsc::channel();
    let spawner = SpawnOnce {
        handle: rt.handle().clone(),
        guard: Some(DropGuard::new(&drops)),
        sent,
    };
    drop(rt.spawn(parked_forever(spawner)));
    assert!(eventually_blocking(|| rt.handle().num_goroutine() == 1));
    drop(rt);
    let join = joins.recv().expect("the destructor spawned");
    assert_eq!(count(&drops), 1, "the refused future was dropped at once");
    let error = runtime(1)
        .block_on(join)
        .expect_err("a task spawned during shutdown never runs");
    assert!(error.is_cancelled(), "{error:?}");
}

#[test]
fn shutdown_timeout_accepts_duration_max() {
    // `Instant::now() + Duration::MAX` overflows: such a timeout means no deadline.
    let rt = runtime(2);
    rt.block_on(async { gort::spawn(async { 1 }).await.unwrap() });
    rt.shutdown_timeout(Duration::MAX);
}

#[test]
fn a_spawn_blocking_started_before_shutdown_keeps_going_and_returns_its_value() {
    for rt in [
        gort::runtime::Builder::new_current_thread()
            .build()
            .unwrap(),
        runtime(2),
    ] {
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let job = rt.spawn_blocking(move || {
            release_rx.recv().unwrap();
            42
        });
        // The job is handed a thread at once, likely before that thread took it from the
        // queue: the shutdown lets it run and waits for it (within its timeout), whenever the
        // other thread releases it.
        let releaser = thread::spawn(move || release_tx.send(()).unwrap());
        rt.shutdown_timeout(Duration::from_secs(1000));
        releaser.join().unwrap();
        let value = futures::executor::block_on(job).expect("not cancelled");
        assert_eq!(value, 42);
    }
}

#[test]
fn futures_dropped_by_a_shutdown_see_their_runtime_as_current() {
    /// Records, when dropped, whether a runtime is current and which.
    struct SeesRuntime(mpsc::Sender<Option<gort::runtime::Id>>);
    impl Drop for SeesRuntime {
        fn drop(&mut self) {
            let current = Handle::try_current().ok().map(|handle| handle.id());
            self.0.send(current).unwrap();
        }
    }
    for how in ["drop", "shutdown_timeout", "shutdown_background"] {
        let rt = gort::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let id = rt.handle().id();
        let (tx, rx) = mpsc::channel();
        drop(rt.spawn(parked_forever(SeesRuntime(tx))));
        match how {
            "drop" => drop(rt),
            "shutdown_timeout" => rt.shutdown_timeout(Duration::from_secs(10)),
            _ => rt.shutdown_background(),
        }
        assert_eq!(rx.recv().unwrap(), Some(id), "{how}");
    }
}

#[test]
fn dropping_a_runtime_in_async_code_panics_and_shuts_it_down() {
    let outer = runtime(2);
    let dropped = counter();
    let guard = DropGuard::new(&dropped);
    let inner = gort::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    drop(inner.spawn(parked_forever(guard)));
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        outer.block_on(async move { drop(inner) })
    }));
    let payload = caught.expect_err("dropping a runtime inside block_on panics, as tokio's");
    assert!(panic_text(&*payload).contains("Cannot drop a runtime"));
    assert_eq!(count(&dropped), 1, "the runtime was shut down all the same");
    // The explicit shutdowns are allowed there, and so is a drop in blocking code.
    outer.block_on(async {
        let rt = gort::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.shutdown_background();
        let rt = gort::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.shutdown_timeout(Duration::ZERO);
        let rt = gort::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        gort::task::block_in_place(move || drop(rt));
        let rt = gort::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        gort::task::spawn_blocking(move || drop(rt)).await.unwrap();
    });
}

#[test]
fn dropping_a_runtime_joins_every_thread_it_started() {
    // An M started by another M while the runtime shut down used to be missed by the join,
    // and ran its stop callback after `drop` returned.
    for _ in 0..200 {
        let started = counter();
        let stopped = counter();
        let (on_start, on_stop) = (Arc::clone(&started), Arc::clone(&stopped));
        let rt = gort::runtime::Builder::new_multi_thread()
            .on_thread_start(move || {
                on_start.fetch_add(1, Ordering::SeqCst);
            })
            .on_thread_stop(move || {
                on_stop.fetch_add(1, Ordering::SeqCst);
            })
            .build()
            .unwrap();
        drop(rt.spawn(std::future::pending::<()>()));
        drop(rt);
        assert_eq!(count(&started), count(&stopped));
    }
}

/// Writing to stdout or stderr through a runtime that has shut down fails at once with the
/// runtime-shutdown error (the blocking job that would write is refused), not at a later flush.
#[test]
fn stdout_and_stderr_writes_on_a_shut_down_runtime_report_the_shutdown() {
    use gort::io::AsyncWriteExt;
    let rt = runtime(1);
    let _enter = rt.enter();
    rt.shutdown_timeout(Duration::from_secs(60));
    let handle = gort::runtime::Handle::current();
    let err = handle
        .block_on(async { gort::io::stdout().write_all(b"x").await })
        .unwrap_err();
    assert!(gort::runtime::is_rt_shutdown_err(&err), "{err}");
    let err = handle
        .block_on(async { gort::io::stderr().write_all(b"x").await })
        .unwrap_err();
    assert!(gort::runtime::is_rt_shutdown_err(&err), "{err}");
}
