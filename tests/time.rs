//! `gort::time` as users rely on it: sleeps complete at (never before) their deadline, from any
//! P or thread; cancelled sleeps leave nothing behind; `timeout` and `interval` follow tokio's
//! semantics, including the edge cases (zero and maximal durations, ready futures, zero
//! periods); and the test clock pauses, advances and auto-advances.
//!
//! Upper bounds on how late a timer fires are deliberately loose (seconds): they catch a timer
//! that never fires without making the tests depend on the machine's load. Precision is
//! measured by `benches/run.py`, not asserted here.

mod common;

use std::future::Future;
use std::pin::{pin, Pin};
use std::task::{Context, Poll};
use std::time::Duration;

use futures::poll;
use gort::runtime::{Builder, Runtime};
use gort::time::{self, error::Elapsed, Instant, MissedTickBehavior};

use common::{count, counter, panic_text, runtime, watchdog, DropGuard};

/// A runtime whose clock starts paused.
fn paused_runtime(procs: usize) -> Runtime {
    Builder::new()
        .worker_threads(procs)
        .start_paused(true)
        .build()
        .expect("runtime")
}

/// Generous bound for "it did fire": far above any scheduling delay on a loaded CI machine.
const FIRES_WITHIN: Duration = Duration::from_secs(5);

#[test]
fn a_paused_clock_does_not_advance_while_a_blocking_task_runs() {
    for procs in [1, 2] {
        let rt = paused_runtime(procs);
        let current = Builder::new_current_thread()
            .start_paused(true)
            .build()
            .unwrap();
        for rt in [&rt, &current] {
            rt.block_on(async {
                // The job blocks for 20 ms of real time; meanwhile every task is idle, yet the
                // clock must stay: the job may still wake somebody, as in tokio.
                let job = gort::task::spawn_blocking(|| {
                    std::thread::sleep(Duration::from_millis(20));
                    7
                });
                let before = Instant::now();
                let got = gort::time::timeout(Duration::from_millis(1), job).await;
                assert_eq!(got.expect("the timeout fired").unwrap(), 7);
                assert!(Instant::now() - before < Duration::from_millis(1));
                // With nothing blocking, idle time is skipped again.
                gort::time::sleep(Duration::from_secs(3600)).await;
                assert!(Instant::now() - before >= Duration::from_secs(3600));
            });
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Sleep

#[test]
fn sleep_zero_completes_on_the_first_poll() {
    runtime(2).block_on(async {
        let mut sleep = Box::pin(time::sleep(Duration::ZERO));
        assert!(poll!(sleep.as_mut()).is_ready());
        assert!(sleep.is_elapsed());
        // A past deadline too, and a completed sleep stays completed.
        let mut past = Box::pin(time::sleep_until(Instant::now() - Duration::from_millis(5)));
        assert!(poll!(past.as_mut()).is_ready());
        assert!(poll!(past.as_mut()).is_ready());
    });
}

#[test]
fn sleeps_never_complete_before_their_deadline() {
    let _watchdog = watchdog(Duration::from_secs(60), "1000 sleeps");
    runtime(2).block_on(async {
        let handles: Vec<_> = (0..1_000u64)
            .map(|i| {
                gort::spawn(async move {
                    let requested = Duration::from_micros(100 + (i * 7919) % 20_000);
                    let start = Instant::now();
                    time::sleep(requested).await;
                    (requested, start.elapsed())
                })
            })
            .collect();
        for handle in handles {
            let (requested, actual) = handle.await.expect("task");
            assert!(
                actual >= requested,
                "woke after {actual:?}, asked {requested:?}"
            );
            assert!(actual < requested + FIRES_WITHIN);
        }
    });
}

#[test]
fn extreme_durations_and_deadlines_neither_panic_nor_overflow() {
    runtime(1).block_on(async {
        let mut forever = Box::pin(time::sleep(Duration::MAX));
        assert!(poll!(forever.as_mut()).is_pending());
        assert!(forever.deadline() > Instant::now() + Duration::from_secs(86_400 * 365));
        let near_limit = Instant::now() + Duration::from_secs(u64::MAX / 4);
        let mut far = Box::pin(time::sleep_until(near_limit));
        assert!(poll!(far.as_mut()).is_pending());
        // An interval and a timeout built on the same limits.
        let mut ticks = time::interval_at(Instant::now(), Duration::MAX);
        assert!(poll!(pin!(ticks.tick())).is_ready());
        assert!(poll!(pin!(ticks.tick())).is_pending());
        assert_eq!(time::timeout(Duration::MAX, async { 7 }).await, Ok(7));
        // The runtime keeps working with these armed.
        time::sleep(Duration::from_millis(1)).await;
    });
}

#[test]
fn a_million_dropped_sleeps_leave_the_timer_heaps_empty() {
    let runtime = runtime(2);
    let handle = runtime.handle().clone();
    runtime.block_on(async move {
        gort::spawn(async move {
            // An earlier timer stays armed at the heap's head, so the cancelled records are
            // buried below it: only the zombie count can trigger their removal.
            let mut anchor = Box::pin(time::sleep(Duration::from_secs(30)));
            assert!(poll!(anchor.as_mut()).is_pending());
            let mut largest = 0;
            for i in 0..1_000_000u64 {
                let mut sleep = Box::pin(time::sleep(
                    Duration::from_secs(60) + Duration::from_nanos(i),
                ));
                assert!(poll!(sleep.as_mut()).is_pending());
                drop(sleep);
                if i % 1024 == 0 {
                    largest = largest.max(handle.timer_heap_records());
                }
            }
            assert!(largest <= 16, "cancelled records piled up: {largest}");
            assert!(handle.timer_heap_records() <= 16);
        })
        .await
        .expect("task");
    });
}

#[test]
fn resetting_to_an_earlier_deadline_wakes_at_the_new_one() {
    runtime(2).block_on(async {
        let start = Instant::now();
        let mut sleep = Box::pin(time::sleep(Duration::from_secs(3600)));
        assert!(poll!(sleep.as_mut()).is_pending());
        sleep.as_mut().reset(start + Duration::from_millis(20));
        sleep.await;
        let waited = start.elapsed();
        assert!(waited >= Duration::from_millis(20));
        assert!(waited < FIRES_WITHIN, "woke after {waited:?}");
    });
}

/// A sleep reset to a deadline that has already passed is due at once: its next poll completes
/// it, even on a paused clock, where the heap fires nothing until the runtime idles.
#[test]
fn a_sleep_reset_into_the_past_completes_on_its_next_poll() {
    paused_runtime(1).block_on(async {
        let start = Instant::now();
        let mut sleep = Box::pin(time::sleep_until(start + Duration::from_millis(100)));
        assert!(poll!(sleep.as_mut()).is_pending());
        time::sleep(Duration::from_millis(50)).await;
        sleep.as_mut().reset(start + Duration::from_millis(40));
        assert!(poll!(sleep.as_mut()).is_ready());
        assert!(sleep.is_elapsed());
    });
}

/// A timeout still fires around a future that never waits (every poll of it makes progress):
/// the future spends the coop budget, and the deadline is then checked without one.
#[test]
fn a_timeout_fires_around_a_future_that_never_waits() {
    use gort::io::AsyncReadExt;
    runtime(1).block_on(async {
        let never_waits = async {
            let mut byte = [0u8; 1];
            loop {
                let _ = gort::io::empty().read(&mut byte).await;
            }
        };
        let result: Result<(), Elapsed> =
            time::timeout(Duration::from_millis(5), never_waits).await;
        assert!(result.is_err());
    });
}

#[test]
fn resetting_to_a_later_deadline_does_not_fire_at_the_old_one() {
    runtime(2).block_on(async {
        let start = Instant::now();
        let mut sleep = Box::pin(time::sleep(Duration::from_millis(5)));
        assert!(poll!(sleep.as_mut()).is_pending());
        sleep.as_mut().reset(start + Duration::from_millis(60));
        sleep.await;
        assert!(start.elapsed() >= Duration::from_millis(60));
    });
}

/// A reset re-arms with the waker the sleep already has: the task is woken at the new deadline
/// even though it does not poll the sleep between the reset and the wake.
#[test]
fn a_reset_sleep_wakes_its_task_without_another_poll() {
    struct ResetOnce {
        sleep: Pin<Box<time::Sleep>>,
        reset: bool,
    }
    impl Future for ResetOnce {
        type Output = ();
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            if !self.reset {
                assert!(self.sleep.as_mut().poll(cx).is_pending());
                let soon = Instant::now() + Duration::from_millis(10);
                self.sleep.as_mut().reset(soon);
                self.reset = true;
                return Poll::Pending;
            }
            self.sleep.as_mut().poll(cx)
        }
    }
    runtime(2).block_on(async {
        let task = gort::spawn(ResetOnce {
            sleep: Box::pin(time::sleep(Duration::from_secs(3600))),
            reset: false,
        });
        let done = time::timeout(FIRES_WITHIN, task).await;
        assert!(done.is_ok(), "the reset sleep never woke its task");
    });
}

/// The sleep is armed in the heap of the P that `block_on`'s thread holds, then awaited by a
/// task on the other P while that thread is stuck in a blocking call and never looks at its
/// timers: the other M (stealing, or waiting in the poller) must run that heap.
#[test]
fn a_timer_armed_on_one_p_fires_while_that_p_is_stuck() {
    let _watchdog = watchdog(Duration::from_secs(60), "timer on a stuck P");
    runtime(2).block_on(async {
        let start = Instant::now();
        let mut sleep = Box::pin(time::sleep(Duration::from_millis(30)));
        assert!(poll!(sleep.as_mut()).is_pending());
        let task = gort::spawn(async move {
            sleep.await;
            start.elapsed()
        });
        // Keep this thread (and its P) busy well past the deadline.
        std::thread::sleep(Duration::from_millis(600));
        assert!(
            task.is_finished(),
            "the timer armed on the stuck P did not fire"
        );
        let waited = task.await.expect("task");
        assert!(waited >= Duration::from_millis(30));
    });
}

/// As above, but the other M never runs dry either (a yielding G keeps it busy), so no thief
/// and no poller looks at the stuck P's timers: sysmon fires them, and the woken G reaches the
/// busy M through the global queue.
#[test]
fn a_timer_on_a_stuck_p_fires_while_every_other_m_is_busy() {
    let _watchdog = watchdog(Duration::from_secs(60), "timer on a stuck P, busy Ms");
    runtime(2).block_on(async {
        let start = Instant::now();
        let mut sleep = Box::pin(time::sleep(Duration::from_millis(30)));
        assert!(poll!(sleep.as_mut()).is_pending());
        let sleeper = gort::spawn(sleep);
        // Let the sleeper register (it runs on this thread's P, from `runnext`).
        gort::task::yield_now().await;
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let yielder = {
            let stop = std::sync::Arc::clone(&stop);
            gort::spawn(async move {
                while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                    gort::task::yield_now().await;
                }
            })
        };
        // Keep this thread (and its P, with the sleeper's timer) busy well past the deadline.
        std::thread::sleep(Duration::from_millis(600));
        let fired_in_time = sleeper.is_finished();
        stop.store(true, std::sync::atomic::Ordering::SeqCst);
        yielder.await.expect("yielder");
        sleeper.await.expect("sleeper");
        assert!(fired_in_time, "the stuck P's timer waited for its M");
        assert!(start.elapsed() >= Duration::from_millis(30));
    });
}

#[test]
fn sleeps_work_on_threads_outside_any_runtime() {
    let _watchdog = watchdog(Duration::from_secs(60), "a sleep off any runtime");
    let start = std::time::Instant::now();
    futures::executor::block_on(time::sleep(Duration::from_millis(20)));
    let waited = start.elapsed();
    assert!(waited >= Duration::from_millis(20));
    assert!(waited < FIRES_WITHIN);
}

#[test]
fn after_delivers_the_time_it_fired() {
    runtime(2).block_on(async {
        let start = Instant::now();
        let fired = time::after(Duration::from_millis(15))
            .recv()
            .await
            .expect("after sends once");
        assert!(fired >= start + Duration::from_millis(15));
        assert!(fired <= Instant::now());
    });
}

/// `after` is a channel, so it is a `select!` case: a timeout around a receive, Go-style.
#[test]
fn after_is_a_select_case() {
    runtime(2).block_on(async {
        let (_keep, never) = gort::chan::<u32>(0);
        let timeout = time::after(Duration::from_millis(5));
        let picked = gort::select! {
            Some(v) = never.recv() => Some(v),
            Some(_) = timeout.recv() => None,
        };
        assert_eq!(picked, None);
    });
}

/// Go's `select { case v := <-ch: ...; case <-time.After(time.Hour): ... }` in a loop: every
/// iteration abandons an `after(1h)`. Nothing may pile up: no goroutine waits for the timers
/// (issue 14: the first `after` spawned one per call) and their heap records are cleaned as
/// a dropped sleep's are.
#[test]
fn a_million_abandoned_afters_in_a_select_loop_leave_no_goroutines_or_timers() {
    let runtime = runtime(2);
    let handle = runtime.handle().clone();
    runtime.block_on(async move {
        gort::spawn(async move {
            let goroutines_before = handle.num_goroutine();
            let records_before = handle.timer_heap_records();
            let (tx, rx) = gort::chan::<u64>(1);
            let (mut received, mut largest_heap, mut most_goroutines) = (0u64, 0, 0);
            for i in 0..1_000_000u64 {
                tx.try_send(i)
                    .expect("the slot was emptied by the last iteration");
                gort::select! {
                    Some(v) = rx.recv() => received += v,
                    Some(_) = time::after(Duration::from_secs(3600)).recv() => {
                        panic!("an hour passed")
                    }
                }
                if i % 4096 == 0 {
                    largest_heap = largest_heap.max(handle.timer_heap_records());
                    most_goroutines = most_goroutines.max(handle.num_goroutine());
                }
            }
            assert_eq!(received, (0..1_000_000u64).sum::<u64>());
            assert!(
                most_goroutines <= goroutines_before,
                "goroutines grew to {most_goroutines} from {goroutines_before}"
            );
            assert!(
                largest_heap <= 16,
                "abandoned timers piled up: {largest_heap}"
            );
            assert_eq!(handle.num_goroutine(), goroutines_before);
            assert!(handle.timer_heap_records() <= records_before + 16);
        })
        .await
        .expect("task");
    });
}

/// Dropping an `after`'s receiver before it fires cancels the timer at once: its record turns
/// into a zombie that is cleaned like a dropped sleep's, and nothing fires later.
#[test]
fn dropping_an_afters_receiver_cancels_its_timer() {
    let runtime = runtime(1);
    let handle = runtime.handle().clone();
    runtime.block_on(async move {
        // In short polls: a poll of over 10 ms (a slow machine) would have sysmon move the P's
        // timers to the runtime's P-less set, whose zombie count a later cancel does not reach.
        let mut receivers = Vec::new();
        for _ in 0..10 {
            receivers.extend((0..100).map(|_| time::after(Duration::from_secs(3600))));
            gort::task::yield_now().await;
        }
        assert!(handle.timer_heap_records() >= 1000);
        drop(receivers);
        // Zombies are cleaned once they are over a quarter of the heap, or at its head.
        assert!(handle.timer_heap_records() <= 16);
    });
}

/// A clone keeps an `after` alive: the timer is cancelled only with the last receiver.
#[test]
fn an_after_fires_while_any_clone_of_its_receiver_lives() {
    runtime(2).block_on(async {
        let first = time::after(Duration::from_millis(5));
        let second = first.clone();
        drop(first);
        let fired = second.recv().await.expect("the clone still receives");
        assert!(fired.elapsed() < FIRES_WITHIN);
        assert_eq!(second.recv().await, None, "it sends once, then is closed");
    });
}

/// `after` from a thread that serves no runtime: the default runtime fires it.
#[test]
fn after_works_off_any_runtime() {
    let _watchdog = watchdog(Duration::from_secs(20), "after off any runtime");
    let start = Instant::now();
    let fired = time::after(Duration::from_millis(10))
        .recv_blocking()
        .expect("after sends once");
    assert!(fired >= start + Duration::from_millis(10));
}

/// `after(0)` is ready at once, as Go's `time.After(0)` fires immediately.
#[test]
fn after_zero_is_ready_at_once() {
    runtime(1).block_on(async {
        let ready = time::after(Duration::ZERO).try_recv();
        assert!(ready.is_ok(), "{ready:?}");
    });
}

#[test]
fn shutdown_drops_sleeping_tasks() {
    let drops = counter();
    let runtime = runtime(2);
    runtime.block_on(async {
        for _ in 0..100 {
            let guard = DropGuard::new(&drops);
            gort::go!(async move {
                let _guard = guard;
                time::sleep(Duration::from_secs(3600)).await;
            });
        }
        // Let them all arm their timers.
        time::sleep(Duration::from_millis(20)).await;
    });
    let start = std::time::Instant::now();
    drop(runtime);
    assert_eq!(count(&drops), 100);
    assert!(start.elapsed() < FIRES_WITHIN);
}

// ---------------------------------------------------------------------------------------------
// Timeout

#[test]
fn timeout_over_a_ready_future_returns_its_value() {
    runtime(1).block_on(async {
        assert_eq!(time::timeout(Duration::ZERO, async { 42 }).await, Ok(42));
        let past = Instant::now() - Duration::from_secs(1);
        assert_eq!(time::timeout_at(past, async { "ready" }).await, Ok("ready"));
    });
}

#[test]
fn timeout_elapses_and_drops_the_future() {
    let drops = counter();
    runtime(2).block_on(async {
        let guard = DropGuard::new(&drops);
        let start = Instant::now();
        let result = time::timeout(Duration::from_millis(20), common::parked_forever(guard)).await;
        assert_eq!(result, Err::<(), _>(elapsed()));
        assert!(start.elapsed() >= Duration::from_millis(20));
        assert_eq!(count(&drops), 1, "the timed-out future was not dropped");
    });
}

/// An `Elapsed` value, obtained the only way users can.
fn elapsed() -> Elapsed {
    futures::executor::block_on(time::timeout(Duration::ZERO, std::future::pending::<()>()))
        .expect_err("a pending future with a zero timeout elapses")
}

#[test]
fn elapsed_converts_to_a_timed_out_io_error() {
    let error = std::io::Error::from(elapsed());
    assert_eq!(error.kind(), std::io::ErrorKind::TimedOut);
    assert_eq!(elapsed().to_string(), "deadline has elapsed");
}

// ---------------------------------------------------------------------------------------------
// Interval

#[test]
fn interval_with_a_zero_period_is_refused() {
    let refused = std::panic::catch_unwind(|| time::interval(Duration::ZERO))
        .expect_err("a zero period must panic");
    assert_eq!(panic_text(&*refused), "`period` must be non-zero.");
}

#[test]
fn interval_ticks_at_once_then_every_period() {
    paused_runtime(1).block_on(async {
        let start = Instant::now();
        let mut ticks = time::interval(Duration::from_millis(10));
        for n in 0..5u32 {
            assert_eq!(ticks.tick().await, start + Duration::from_millis(10) * n);
        }
        assert_eq!(Instant::now(), start + Duration::from_millis(40));
    });
}

/// After a 35 ms stall of an interval with a 10 ms period (last tick due at 0): which ticks come
/// next, for each behaviour (tokio's documented schedules).
#[test]
fn missed_ticks_follow_the_chosen_behavior() {
    let cases = [
        (MissedTickBehavior::Burst, [10, 20, 30, 40]),
        (MissedTickBehavior::Delay, [10, 45, 55, 65]),
        (MissedTickBehavior::Skip, [10, 40, 50, 60]),
    ];
    for (behavior, expected) in cases {
        paused_runtime(1).block_on(async move {
            let start = Instant::now();
            let mut ticks = time::interval(Duration::from_millis(10));
            ticks.set_missed_tick_behavior(behavior);
            assert_eq!(ticks.tick().await, start);
            time::advance(Duration::from_millis(35)).await;
            let mut due = Vec::new();
            for _ in 0..expected.len() {
                due.push((ticks.tick().await - start).as_millis());
            }
            assert_eq!(due, expected, "{behavior:?}");
        });
    }
}

// ---------------------------------------------------------------------------------------------
// Test clock

#[test]
fn a_paused_clock_auto_advances_when_every_task_is_idle() {
    let real = std::time::Instant::now();
    paused_runtime(2).block_on(async {
        let start = Instant::now();
        let sleepers: Vec<_> = (1..=10u32)
            .map(|hours| gort::spawn(time::sleep(Duration::from_secs(3600) * hours)))
            .collect();
        for sleeper in sleepers {
            sleeper.await.expect("sleeper");
        }
        assert_eq!(Instant::now(), start + Duration::from_secs(36_000));
    });
    assert!(real.elapsed() < FIRES_WITHIN, "the clock was not advanced");
}

#[test]
fn advance_fires_exactly_the_timers_that_became_due() {
    paused_runtime(2).block_on(async {
        let start = Instant::now();
        let woken_at = gort::spawn(async {
            time::sleep(Duration::from_secs(10)).await;
            Instant::now()
        });
        // Let the task arm its timer (main stays awake meanwhile, so the clock cannot move).
        let handle = gort::runtime::Handle::current();
        while handle.timer_heap_records() == 0 {
            gort::task::yield_now().await;
        }
        time::advance(Duration::from_secs(4)).await;
        assert!(!woken_at.is_finished());
        time::advance(Duration::from_secs(6)).await;
        // Paused: the clock shows exactly what was advanced, so the task must have been woken
        // by the second advance and not by an auto-advance past it.
        assert_eq!(
            woken_at.await.expect("task"),
            start + Duration::from_secs(10)
        );
    });
}

#[test]
fn resume_lets_a_paused_clock_run_again() {
    paused_runtime(1).block_on(async {
        let frozen = Instant::now();
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(Instant::now(), frozen);
        time::resume();
        let start = Instant::now();
        time::sleep(Duration::from_millis(5)).await;
        assert!(start.elapsed() >= Duration::from_millis(5));
        time::pause();
        let frozen = Instant::now();
        std::thread::sleep(Duration::from_millis(2));
        assert_eq!(Instant::now(), frozen);
    });
}

#[test]
fn pausing_a_paused_clock_panics_clearly() {
    let runtime = paused_runtime(1);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        runtime.block_on(async { time::pause() })
    }));
    assert_eq!(
        panic_text(&*result.expect_err("must panic")),
        "time is already frozen"
    );
}
