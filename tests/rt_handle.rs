//! `Handle`: which runtime is current (`try_current`, `enter` guards), flavors, ids, names,
//! `worker_index`, the `Builder`'s thread settings, and `RuntimeMetrics` for known workloads.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use gort::runtime::{Builder, Handle, Runtime, RuntimeFlavor};
use gort::task::yield_now;

use common::{eventually_blocking, panic_text, watchdog};

fn multi_thread(procs: usize) -> Runtime {
    Builder::new_multi_thread()
        .worker_threads(procs)
        .enable_all()
        .build()
        .expect("building a runtime")
}

fn current_thread() -> Runtime {
    Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("building a runtime")
}

/// The id of the runtime `Handle::try_current` finds here, if any.
fn current_id() -> Option<gort::runtime::Id> {
    Handle::try_current().ok().map(|handle| handle.id())
}

// ---------------------------------------------------------------------------------------------
// try_current and enter

#[test]
fn try_current_on_a_plain_thread_reports_missing_context() {
    // A fresh thread serves no runtime, even once the default runtime exists.
    let _ = Handle::current();
    let error = thread::spawn(|| Handle::try_current().expect_err("no runtime on a plain thread"))
        .join()
        .unwrap();
    assert!(error.is_missing_context());
    assert!(!error.is_thread_local_destroyed());
    assert!(!error.to_string().is_empty());
}

#[test]
fn try_current_inside_block_on_tasks_and_blocking_jobs_is_that_runtime() {
    let rt = multi_thread(2);
    let id = rt.handle().id();
    let (in_main, in_task, in_blocking) = rt.block_on(async {
        let in_task = gort::spawn(async { current_id() }).await.unwrap();
        let in_blocking = gort::task::spawn_blocking(current_id).await.unwrap();
        (current_id(), in_task, in_blocking)
    });
    assert_eq!(in_main, Some(id));
    assert_eq!(in_task, Some(id));
    assert_eq!(in_blocking, Some(id));
    assert_eq!(
        current_id(),
        None,
        "block_on returned: no runtime is current"
    );
}

#[test]
fn an_enter_guard_makes_its_runtime_current_until_dropped() {
    let rt = multi_thread(1);
    let id = rt.handle().id();
    assert_eq!(current_id(), None);
    {
        let _guard = rt.enter();
        assert_eq!(current_id(), Some(id));
        assert_eq!(Handle::current().id(), id);
        // Spawns go to the entered runtime, and run there.
        let spawned = gort::spawn(async { current_id() });
        let blocking = gort::task::spawn_blocking(current_id);
        assert_eq!(rt.block_on(spawned).unwrap(), Some(id));
        assert_eq!(rt.block_on(blocking).unwrap(), Some(id));
        // Timers armed here belong to it: its threads fire them.
        rt.block_on(gort::spawn(gort::time::sleep(Duration::from_millis(1))))
            .unwrap();
    }
    assert_eq!(current_id(), None, "the guard is dropped");
}

#[test]
fn enter_guards_nest_and_restore_in_order() {
    let outer = multi_thread(1);
    let inner = current_thread();
    let outer_guard = outer.handle().enter();
    let inner_guard = inner.enter();
    assert_eq!(current_id(), Some(inner.handle().id()));
    drop(inner_guard);
    assert_eq!(current_id(), Some(outer.handle().id()));
    drop(outer_guard);
    assert_eq!(current_id(), None);
}

#[test]
fn enter_guards_dropped_out_of_order_panic() {
    let first = multi_thread(1);
    let second = multi_thread(1);
    let result = thread::spawn(move || {
        let first_guard = first.enter();
        let second_guard = second.enter();
        let dropped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            drop(first_guard);
        }));
        std::mem::forget(second_guard);
        dropped
    })
    .join()
    .unwrap();
    let payload = result.expect_err("dropping the outer guard first panics");
    assert!(panic_text(&*payload).contains("out of order"));
}

#[test]
fn block_on_hides_the_entered_runtime_and_restores_it() {
    let entered = multi_thread(1);
    let blocked_on = current_thread();
    let _guard = entered.enter();
    let inside = blocked_on.block_on(async { current_id() });
    assert_eq!(inside, Some(blocked_on.handle().id()));
    assert_eq!(current_id(), Some(entered.handle().id()));
}

#[test]
fn inside_a_task_an_entered_runtime_takes_the_spawns() {
    let _watchdog = watchdog(Duration::from_secs(60), "entered runtime inside a task");
    let home = multi_thread(2);
    let other = Arc::new(multi_thread(1));
    let other_id = other.handle().id();
    let remote = Arc::clone(&other);
    let spawned_on = home.block_on(gort::spawn(async move {
        let handle = {
            let _guard = remote.enter();
            gort::spawn(async { current_id() })
        };
        // Back to the home runtime once the guard is gone.
        assert_ne!(current_id(), Some(remote.handle().id()));
        handle.await.unwrap()
    }));
    assert_eq!(spawned_on.unwrap(), Some(other_id));
}

#[test]
fn a_guard_main_holds_across_an_await_stays_with_main() {
    let _watchdog = watchdog(Duration::from_secs(60), "a guard held across an await");
    // One P, held by the block_on thread: the task runs there while main awaits.
    let home = multi_thread(1);
    let other = multi_thread(1);
    let home_id = home.handle().id();
    let other_id = other.handle().id();
    let (go_tx, go_rx) = gort::chan::<()>(1);
    let (seen_in_main, seen_in_task) = home.block_on(async {
        let task = gort::spawn(async move {
            go_rx.recv().await.unwrap();
            current_id()
        });
        let _guard = other.enter();
        go_tx.send(()).await.unwrap();
        let seen_in_task = task.await.unwrap();
        (current_id(), seen_in_task)
    });
    assert_eq!(
        seen_in_main,
        Some(other_id),
        "main keeps its guard across the await"
    );
    assert_eq!(seen_in_task, Some(home_id), "the task sees its own runtime");
}

// ---------------------------------------------------------------------------------------------
// Flavor, id, name, worker_index, block_on

#[test]
fn runtime_flavor_id_and_name() {
    let multi = multi_thread(2);
    let current = current_thread();
    assert_eq!(multi.handle().runtime_flavor(), RuntimeFlavor::MultiThread);
    assert_eq!(
        current.handle().runtime_flavor(),
        RuntimeFlavor::CurrentThread
    );
    assert_eq!(multi.handle().id(), multi.handle().clone().id());
    assert_ne!(multi.handle().id(), current.handle().id());
    assert_ne!(
        multi.handle().id().to_string(),
        current.handle().id().to_string()
    );
    assert_eq!(multi.handle().name(), None);
    let named = Builder::new_multi_thread()
        .name("payments")
        .build()
        .unwrap();
    assert_eq!(named.handle().name(), Some("payments"));
    let default_flavor = Handle::current().runtime_flavor();
    assert_eq!(
        default_flavor,
        RuntimeFlavor::MultiThread,
        "the default runtime"
    );
}

#[test]
#[should_panic(expected = "runtime name shouldn't be empty")]
fn an_empty_runtime_name_panics() {
    Builder::new_multi_thread().name(" ");
}

#[test]
fn worker_index_is_the_p_a_task_runs_on() {
    let multi = multi_thread(2);
    let indices = multi.block_on(async {
        let handles: Vec<_> = (0..20)
            .map(|_| gort::spawn(async { gort::runtime::worker_index() }))
            .collect();
        let mut indices = Vec::new();
        for handle in handles {
            indices.push(handle.await.unwrap());
        }
        indices
    });
    assert!(
        indices.iter().all(|index| matches!(index, Some(0 | 1))),
        "{indices:?}"
    );
    assert_eq!(
        gort::runtime::worker_index(),
        None,
        "a plain thread is no worker"
    );
    let blocking = multi.block_on(gort::task::spawn_blocking(gort::runtime::worker_index));
    assert_eq!(blocking.unwrap(), None, "a blocking thread is no worker");
    let current = current_thread();
    assert_eq!(
        current.block_on(async { gort::runtime::worker_index() }),
        Some(0)
    );
}

#[test]
fn handle_block_on_inside_a_task_panics_and_inside_spawn_blocking_works() {
    let rt = multi_thread(2);
    let handle = rt.handle().clone();
    let in_task = rt.block_on(gort::spawn(async move { handle.block_on(async { 1 }) }));
    let error = in_task.expect_err("Handle::block_on inside a task panics");
    let text = panic_text(&*error.into_panic());
    assert!(text.contains("inside a task"), "{text}");
    // tokio's text, which programs and tests match.
    assert!(
        text.starts_with("Cannot start a runtime from within a runtime."),
        "{text}"
    );
    let nested = std::panic::catch_unwind(|| {
        let rt = current_thread();
        rt.block_on(async { Handle::current().block_on(async {}) })
    });
    let text = panic_text(&*nested.expect_err("a block_on inside block_on panics"));
    assert!(
        text.starts_with("Cannot start a runtime from within a runtime."),
        "{text}"
    );
    let handle = rt.handle().clone();
    let in_blocking = rt.block_on(gort::task::spawn_blocking(move || {
        handle.block_on(async { gort::spawn(async { 2 }).await.unwrap() })
    }));
    assert_eq!(in_blocking.unwrap(), 2);
}

// ---------------------------------------------------------------------------------------------
// Builder: threads

#[test]
fn thread_name_and_callbacks_apply_to_every_runtime_thread() {
    let _watchdog = watchdog(Duration::from_secs(60), "thread callbacks");
    let started = Arc::new(Mutex::new(Vec::new()));
    let stopped = Arc::new(AtomicUsize::new(0));
    let parks = Arc::new(AtomicUsize::new(0));
    let unparks = Arc::new(AtomicUsize::new(0));
    let rt = {
        let (started, stopped) = (Arc::clone(&started), Arc::clone(&stopped));
        let (parks, unparks) = (Arc::clone(&parks), Arc::clone(&unparks));
        Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("named-pool")
            .thread_stack_size(4 * 1024 * 1024)
            .on_thread_start(move || {
                let name = thread::current().name().map(str::to_owned);
                started.lock().unwrap().push(name);
            })
            .on_thread_stop(move || {
                stopped.fetch_add(1, Ordering::SeqCst);
            })
            .on_thread_park(move || {
                parks.fetch_add(1, Ordering::SeqCst);
            })
            .on_thread_unpark(move || {
                unparks.fetch_add(1, Ordering::SeqCst);
            })
            .build()
            .unwrap()
    };
    let in_blocking = rt.block_on(async {
        // Spawning with an idle P starts an M for it.
        for _ in 0..10 {
            gort::spawn(async {}).await.unwrap();
        }
        gort::task::spawn_blocking(|| thread::current().name().map(str::to_owned))
            .await
            .unwrap()
    });
    assert_eq!(
        in_blocking.as_deref(),
        Some("named-pool"),
        "blocking threads are named"
    );
    // The Ms go idle after the burst.
    assert!(eventually_blocking(|| parks.load(Ordering::SeqCst) > 0));
    drop(rt);
    let started = started.lock().unwrap();
    assert!(
        started.len() >= 2,
        "an M and a blocking thread started: {started:?}"
    );
    assert!(
        started
            .iter()
            .all(|name| name.as_deref() == Some("named-pool")),
        "every runtime thread is named: {started:?}"
    );
    assert_eq!(
        stopped.load(Ordering::SeqCst),
        started.len(),
        "every thread that started stopped at shutdown"
    );
    assert!(unparks.load(Ordering::SeqCst) > 0);
}

#[test]
fn thread_name_fn_names_each_new_thread() {
    let names = Arc::new(Mutex::new(Vec::new()));
    let counter = Arc::new(AtomicUsize::new(0));
    let rt = {
        let counter = Arc::clone(&counter);
        Builder::new_current_thread()
            .thread_name_fn(move || format!("job-{}", counter.fetch_add(1, Ordering::SeqCst)))
            .build()
            .unwrap()
    };
    let seen = Arc::clone(&names);
    rt.block_on(async move {
        let name = gort::task::spawn_blocking(|| thread::current().name().map(str::to_owned))
            .await
            .unwrap();
        seen.lock().unwrap().push(name);
    });
    let names = names.lock().unwrap();
    assert_eq!(names.len(), 1);
    assert!(names[0]
        .as_deref()
        .is_some_and(|name| name.starts_with("job-")));
}

#[test]
fn park_callbacks_run_on_a_current_thread_runtime_and_may_spawn() {
    let _watchdog = watchdog(Duration::from_secs(60), "park callback that spawns");
    let spawned = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = gort::chan::<()>(1);
    let rt = {
        let spawned = Arc::clone(&spawned);
        Builder::new_current_thread()
            .on_thread_park(move || {
                // The first park spawns the task main waits for.
                if spawned.fetch_add(1, Ordering::SeqCst) == 0 {
                    let tx = tx.clone();
                    gort::go!(async move { tx.send(()).await.unwrap() });
                }
            })
            .build()
            .unwrap()
    };
    rt.block_on(async move { rx.recv().await.unwrap() });
    assert!(spawned.load(Ordering::SeqCst) >= 1);
}

#[test]
fn custom_scheduling_intervals_run_a_mixed_workload() {
    let _watchdog = watchdog(Duration::from_secs(60), "custom intervals");
    for rt in [
        Builder::new_multi_thread()
            .worker_threads(2)
            .global_queue_interval(1)
            .event_interval(1)
            .build()
            .unwrap(),
        Builder::new_current_thread()
            .global_queue_interval(7)
            .event_interval(3)
            .build()
            .unwrap(),
    ] {
        let total = rt.block_on(async {
            let listener = gort::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let server = gort::spawn(async move {
                let (stream, _) = listener.accept().await.unwrap();
                gort::io::copy(&mut &stream, &mut &stream).await.unwrap()
            });
            let yielders: Vec<_> = (0..20u64)
                .map(|i| {
                    gort::spawn(async move {
                        for _ in 0..20 {
                            yield_now().await;
                        }
                        i
                    })
                })
                .collect();
            let mut client = gort::net::TcpStream::connect(addr).await.unwrap();
            common::round_trip(&client, &[5u8; 10_000], "echo").await;
            gort::io::AsyncWriteExt::shutdown(&mut client)
                .await
                .unwrap();
            assert_eq!(server.await.unwrap(), 10_000);
            let mut total = 0;
            for handle in yielders {
                total += handle.await.unwrap();
            }
            total
        });
        assert_eq!(total, (0..20).sum::<u64>());
    }
}

#[test]
#[should_panic(expected = "global_queue_interval must be greater than 0")]
fn a_zero_global_queue_interval_panics() {
    Builder::new_multi_thread().global_queue_interval(0);
}

#[test]
#[should_panic(expected = "event_interval must be greater than 0")]
fn a_zero_event_interval_panics() {
    Builder::new_current_thread().event_interval(0);
}

#[test]
#[should_panic(expected = "max_io_events_per_tick must be non-zero")]
fn zero_io_events_per_tick_panics() {
    Builder::new_multi_thread().max_io_events_per_tick(0);
}

#[test]
#[should_panic(expected = "max_io_events_per_busy_tick must be non-zero")]
fn zero_io_events_per_busy_tick_panics() {
    Builder::new_current_thread().max_io_events_per_busy_tick(0);
}

#[test]
fn one_io_event_per_poll_still_delivers_every_event() {
    use gort::io::{AsyncReadExt, AsyncWriteExt};
    let _watchdog = watchdog(Duration::from_secs(60), "one io event per poll");
    for mut builder in [Builder::new_current_thread(), Builder::new_multi_thread()] {
        let rt = builder
            .worker_threads(1)
            .max_io_events_per_tick(1)
            .max_io_events_per_busy_tick(1)
            .build()
            .unwrap();
        // Always-runnable tasks keep the thread busy, so its polls take one event each.
        for _ in 0..4 {
            drop(rt.spawn(async {
                loop {
                    yield_now().await;
                }
            }));
        }
        rt.block_on(async {
            let listener = gort::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            drop(gort::spawn(async move {
                loop {
                    let (mut stream, _) = listener.accept().await.unwrap();
                    drop(gort::spawn(async move {
                        let mut buf = [0u8; 4];
                        while stream.read_exact(&mut buf).await.is_ok() {
                            stream.write_all(&buf).await.unwrap();
                        }
                    }));
                }
            }));
            let clients: Vec<_> = (0..8)
                .map(|_| {
                    gort::spawn(async move {
                        let mut stream = gort::net::TcpStream::connect(addr).await.unwrap();
                        for _ in 0..8 {
                            stream.write_all(b"ping").await.unwrap();
                            let mut buf = [0u8; 4];
                            stream.read_exact(&mut buf).await.unwrap();
                            assert_eq!(&buf, b"ping");
                        }
                    })
                })
                .collect();
            for client in clients {
                client.await.unwrap();
            }
        });
        rt.shutdown_background();
    }
}

// ---------------------------------------------------------------------------------------------
// Metrics

#[test]
fn metrics_count_workers_and_alive_tasks() {
    let _watchdog = watchdog(Duration::from_secs(60), "alive task metrics");
    let rt = multi_thread(3);
    let metrics = rt.metrics();
    assert_eq!(metrics.num_workers(), 3);
    assert_eq!(current_thread().metrics().num_workers(), 1);
    assert_eq!(metrics.num_alive_tasks(), 0);

    let gates: Vec<_> = (0..4)
        .map(|_| {
            let (gate, wait) = gort::chan::<()>(1);
            (gate, rt.spawn(async move { wait.recv().await }))
        })
        .collect();
    assert_eq!(metrics.num_alive_tasks(), 4);
    // A blocking job is not a task to the metrics.
    let (release, hold) = std::sync::mpsc::channel::<()>();
    let blocking = rt.spawn_blocking(move || hold.recv().ok());
    assert_eq!(metrics.num_alive_tasks(), 4);
    release.send(()).unwrap();
    rt.block_on(blocking).unwrap();

    for (gate, handle) in gates {
        gate.send_blocking(()).unwrap();
        rt.block_on(handle).unwrap();
    }
    assert!(eventually_blocking(|| metrics.num_alive_tasks() == 0));
}

#[test]
fn global_queue_depth_counts_tasks_spawned_from_outside() {
    let rt = current_thread();
    let metrics = rt.metrics();
    let handle = rt.handle().clone();
    let spawned = thread::spawn(move || (0..5).map(|_| handle.spawn(async {})).collect::<Vec<_>>())
        .join()
        .unwrap();
    assert_eq!(
        metrics.global_queue_depth(),
        5,
        "nothing runs them between block_on calls"
    );
    rt.block_on(async {
        for handle in spawned {
            handle.await.unwrap();
        }
    });
    assert_eq!(metrics.global_queue_depth(), 0);
}

#[test]
fn park_counts_and_busy_time_of_a_current_thread_runtime() {
    let rt = current_thread();
    let metrics = rt.metrics();
    // A new runtime's P is idle: its first park.
    assert_eq!(metrics.worker_park_count(0), 1);
    assert_eq!(metrics.worker_park_unpark_count(0), 1);
    assert_eq!(metrics.worker_total_busy_duration(0), Duration::ZERO);
    let inside = {
        let metrics = metrics.clone();
        rt.block_on(async move {
            for _ in 0..5 {
                gort::spawn(async { yield_now().await }).await.unwrap();
            }
            metrics.worker_park_unpark_count(0)
        })
    };
    assert_eq!(inside % 2, 0, "busy while block_on runs tasks");
    assert_eq!(
        metrics.worker_park_unpark_count(0) % 2,
        1,
        "parked after block_on"
    );
    assert!(metrics.worker_park_count(0) >= 2);
    let busy = metrics.worker_total_busy_duration(0);
    assert!(busy > Duration::ZERO);
    thread::sleep(Duration::from_millis(5));
    assert_eq!(
        metrics.worker_total_busy_duration(0),
        busy,
        "no busy time while parked"
    );
    drop(rt);
    assert_eq!(
        metrics.worker_park_unpark_count(0) % 2,
        0,
        "woken for shutdown"
    );
}

#[test]
fn park_counts_of_a_multi_thread_runtime() {
    let _watchdog = watchdog(Duration::from_secs(60), "multi-thread park counts");
    let rt = multi_thread(2);
    let metrics = rt.metrics();
    assert_eq!(metrics.worker_park_unpark_count(0), 1);
    assert_eq!(metrics.worker_park_unpark_count(1), 1);
    rt.block_on(async {
        let handles: Vec<_> = (0..20).map(|_| gort::spawn(yield_now())).collect();
        for handle in handles {
            handle.await.unwrap();
        }
    });
    assert!(eventually_blocking(|| {
        (0..2).all(|worker| metrics.worker_park_unpark_count(worker) % 2 == 1)
    }));
    assert!((0..2).any(|worker| metrics.worker_park_count(worker) >= 2));
    drop(rt);
    for worker in 0..2 {
        assert_eq!(metrics.worker_park_unpark_count(worker) % 2, 0);
    }
}

#[test]
#[should_panic(expected = "worker index 2 out of range")]
fn a_worker_index_out_of_range_panics() {
    multi_thread(2).metrics().worker_park_count(2);
}

#[test]
fn metrics_from_inside_see_the_running_task() {
    let rt = current_thread();
    let metrics = rt.metrics();
    let seen = rt.block_on(rt.spawn(async move {
        let inside = Handle::current().metrics().num_alive_tasks();
        (inside, metrics.num_alive_tasks())
    }));
    assert_eq!(seen.unwrap(), (1, 1));
    assert_eq!(rt.metrics().num_alive_tasks(), 0);
}

/// As in tokio, a runtime may be shut down while one of its enter guards lives: the guard
/// borrows the runtime only in name, and a spawn meanwhile is refused, not lost in a dead queue.
#[test]
fn a_runtime_shuts_down_while_entered() {
    let rt = Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    let _enter = rt.enter();
    rt.shutdown_timeout(std::time::Duration::from_secs(5));
    let handle = gort::spawn(async { 1 });
    let outcome = gort::block_on(handle);
    assert!(outcome.is_err_and(|err| err.is_cancelled()));
}
