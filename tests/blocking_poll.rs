//! A future that blocks its thread inside a plain poll (no `block_in_place`, no
//! `spawn_blocking`) does not stall the other Gs of its P: after 10 ms sysmon replaces the P
//! with a spare, which another thread runs with the stuck P's queue and timers, and the stuck
//! thread retires the P when its poll returns. On one P as on two; for spawned Gs and for the
//! `block_on` future; with Gs queued before and during the stuck poll; reported once per spawn
//! location under `GORT_DEBUG=blockwarn=1`.

mod common;

use std::panic::Location;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use gort::task::JoinHandle;

use common::{rerun_in_child, runtime, tick_while, watchdog};

/// How long the blocking poll in these tests lasts.
const BLOCK: Duration = Duration::from_millis(200);

/// Spawns `future` and returns the location the spawn is recorded at (the caller's).
#[track_caller]
fn spawn_here<F>(future: F) -> (JoinHandle<F::Output>, &'static Location<'static>)
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    (gort::spawn(future), Location::caller())
}

/// Blocks this thread for [`BLOCK`] with `during` set around it.
fn block_thread(during: &AtomicBool) {
    during.store(true, Ordering::SeqCst);
    thread::sleep(BLOCK);
    during.store(false, Ordering::SeqCst);
}

/// With `procs` Ps: a G sleeps its thread for 200 ms inside a plain poll while a 1 ms ticker
/// shares the runtime. Without the rescue the ticker would stop for 200 ms on one P (its P's
/// only thread is blocked) and on two whenever it sits on the stuck P.
fn a_blocking_poll_does_not_stall_the_ticker(procs: usize) {
    let _watchdog = watchdog(Duration::from_secs(60), "blocking poll ticker");
    let runtime = runtime(procs);
    let handle = runtime.handle().clone();
    // Twice on one runtime: the first rescue's spare P must be back in the pool (the stuck
    // thread retires its P when the poll returns) for the second to happen.
    for round in 1..=2 {
        let blocker_location = block_and_tick(&runtime);
        assert!(
            handle.blocked_polls(Some(blocker_location)) >= round,
            "sysmon did not rescue the stuck P in round {round}"
        );
    }
    runtime.block_on(async {
        let sum: u64 = common::sum_of_spawned_squares().await;
        assert_eq!(sum, 285);
    });
}

/// One round of [`a_blocking_poll_does_not_stall_the_ticker`]; returns the blocker's spawn
/// location.
fn block_and_tick(runtime: &gort::runtime::Runtime) -> &'static Location<'static> {
    runtime.block_on(async move {
        let during = Arc::new(AtomicBool::new(false));
        let stop = Arc::new(AtomicBool::new(false));
        let ticker = gort::spawn(tick_while(Arc::clone(&during), Arc::clone(&stop)));
        gort::time::sleep(Duration::from_millis(5)).await;
        let (blocker, location) = {
            let (during, stop) = (Arc::clone(&during), Arc::clone(&stop));
            spawn_here(async move {
                block_thread(&during);
                stop.store(true, Ordering::SeqCst);
                // The G goes on after its thread gave the P up.
                gort::task::yield_now().await;
                7
            })
        };
        assert_eq!(blocker.await.expect("blocker"), 7);
        let ticks = ticker.await.expect("ticker");
        assert!(
            ticks.count >= 20,
            "only {} ticks while another G blocked: {ticks:?}",
            ticks.count
        );
        assert!(
            ticks.longest_gap <= common::MAX_TICK_GAP,
            "the ticker stalled while another G blocked: {ticks:?}"
        );
        location
    })
}

#[test]
fn a_blocking_poll_on_one_p_does_not_stall_the_ticker() {
    a_blocking_poll_does_not_stall_the_ticker(1);
}

#[test]
fn a_blocking_poll_on_two_ps_does_not_stall_the_ticker() {
    a_blocking_poll_does_not_stall_the_ticker(2);
}

/// Gs queued on the stuck P run while it is stuck: one spawned into its `runnext` just before
/// the blocking call, and ten spawned from inside the stuck poll after the rescue (they land on
/// the detached P, which its thread empties into the global queue when the poll returns).
#[test]
fn gs_queued_on_a_stuck_p_run_and_none_is_lost() {
    let _watchdog = watchdog(Duration::from_secs(60), "queued on a stuck P");
    let runtime = runtime(1);
    runtime.block_on(async {
        let blocked = Arc::new(AtomicBool::new(false));
        let seen_blocked = Arc::new(AtomicBool::new(false));
        let late_ran = Arc::new(AtomicUsize::new(0));
        let blocker = {
            let (blocked, seen_blocked, late_ran) = (
                Arc::clone(&blocked),
                Arc::clone(&seen_blocked),
                Arc::clone(&late_ran),
            );
            gort::spawn(async move {
                let (blocked_now, seen) = (Arc::clone(&blocked), Arc::clone(&seen_blocked));
                let early = gort::spawn(async move {
                    seen.store(blocked_now.load(Ordering::SeqCst), Ordering::SeqCst);
                });
                blocked.store(true, Ordering::SeqCst);
                thread::sleep(Duration::from_millis(100));
                let late: Vec<_> = (0..10)
                    .map(|_| {
                        let late_ran = Arc::clone(&late_ran);
                        gort::spawn(async move {
                            late_ran.fetch_add(1, Ordering::SeqCst);
                        })
                    })
                    .collect();
                thread::sleep(Duration::from_millis(50));
                blocked.store(false, Ordering::SeqCst);
                early.await.expect("early");
                for late in late {
                    late.await.expect("late");
                }
            })
        };
        blocker.await.expect("blocker");
        assert!(
            seen_blocked.load(Ordering::SeqCst),
            "the G in the stuck P's runnext waited for the blocking call"
        );
        assert_eq!(late_ran.load(Ordering::SeqCst), 10);
    });
}

/// The `block_on` future blocking inside its poll, on a runtime of one P, does not stall the
/// spawned Gs queued on the P it holds.
#[test]
fn a_blocking_block_on_future_does_not_stall_spawned_gs() {
    let _watchdog = watchdog(Duration::from_secs(60), "blocking main");
    let runtime = runtime(1);
    let handle = runtime.handle().clone();
    runtime.block_on(async {
        let during = Arc::new(AtomicBool::new(false));
        let stop = Arc::new(AtomicBool::new(false));
        let ticker = gort::spawn(tick_while(Arc::clone(&during), Arc::clone(&stop)));
        gort::time::sleep(Duration::from_millis(5)).await;
        block_thread(&during);
        stop.store(true, Ordering::SeqCst);
        let ticks = ticker.await.expect("ticker");
        assert!(
            ticks.count >= 20,
            "only {} ticks while main blocked: {ticks:?}",
            ticks.count
        );
    });
    assert!(handle.blocked_polls(None) >= 1);
}

/// As many Gs as there are Ps can be stuck at once and the queue still moves: each stuck P is
/// replaced by a spare.
#[test]
fn every_p_stuck_at_once_is_replaced() {
    let _watchdog = watchdog(Duration::from_secs(60), "every P stuck");
    let procs = 2;
    let runtime = runtime(procs);
    let handle = runtime.handle().clone();
    runtime.block_on(async move {
        let during = Arc::new(AtomicBool::new(false));
        let stop = Arc::new(AtomicBool::new(false));
        let started = Arc::new(AtomicUsize::new(0));
        let ticker = gort::spawn(tick_while(Arc::clone(&during), Arc::clone(&stop)));
        let blockers: Vec<_> = (0..procs)
            .map(|_| {
                let (during, started) = (Arc::clone(&during), Arc::clone(&started));
                gort::spawn(async move {
                    started.fetch_add(1, Ordering::SeqCst);
                    // Both block at once: the first to start waits for the second.
                    while started.load(Ordering::SeqCst) < procs {
                        thread::yield_now();
                    }
                    block_thread(&during);
                })
            })
            .collect();
        for blocker in blockers {
            blocker.await.expect("blocker");
        }
        stop.store(true, Ordering::SeqCst);
        let ticks = ticker.await.expect("ticker");
        assert!(
            ticks.count >= 20,
            "only {} ticks while every P was stuck: {ticks:?}",
            ticks.count
        );
    });
    assert!(handle.blocked_polls(None) >= procs);
}

/// `GORT_DEBUG=blockwarn=1` names the stuck G's id and spawn location, once per location: two
/// stuck polls of Gs spawned at the same line give one report. The setting is read once per
/// process, so the test runs itself in a child process with it set.
#[test]
fn blockwarn_reports_each_spawn_location_once() {
    if std::env::var_os("GORT_TEST_BLOCKWARN_CHILD").is_some() {
        let runtime = runtime(1);
        let handle = runtime.handle().clone();
        let location = runtime.block_on(async {
            let mut location = None;
            for _ in 0..2 {
                let (blocker, at) = spawn_here(async { thread::sleep(Duration::from_millis(60)) });
                location = Some(at);
                blocker.await.expect("blocker");
            }
            location.expect("spawned")
        });
        assert_eq!(handle.blocked_polls(Some(location)), 2);
        println!("SPAWNED_AT {location}");
        return;
    }
    let child = rerun_in_child(
        "blockwarn_reports_each_spawn_location_once",
        &[
            ("GORT_TEST_BLOCKWARN_CHILD", "1"),
            ("GORT_DEBUG", "blockwarn=1"),
        ],
    );
    let (stdout, stderr) = (&child.stdout, &child.stderr);
    let location = stdout
        .lines()
        .find_map(|line| line.split_once("SPAWNED_AT ").map(|(_, at)| at.trim()))
        .unwrap_or_else(|| panic!("the child prints its spawn location:\n{stdout}\n{stderr}"));
    let reports: Vec<&str> = stderr
        .lines()
        .filter(|line| line.contains("gort: blockwarn:"))
        .collect();
    assert_eq!(reports.len(), 1, "one report per location: {reports:?}");
    let report = reports[0];
    assert!(
        report.contains(&format!("spawned at {location}")),
        "{report}"
    );
    let id = report
        .split("G ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|id| id.parse::<u64>().ok());
    assert!(id.is_some_and(|id| id > 0), "no G id in {report}");
}
