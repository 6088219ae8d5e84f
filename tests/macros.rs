//! `#[gort::test]` and the entry points the attribute macros expand to (`run_test`,
//! `run_main`). `#[gort::main]` itself is exercised by the `main_macro*` test binaries.

mod common;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering;
use std::sync::Arc;

use futures::channel::oneshot;

use common::{count, counter, panic_text, DropGuard};

#[gort::test]
async fn gort_test_runs_an_async_body() {
    assert_eq!(common::sum_of_spawned_squares().await, 285);
}

#[gort::test(flavor = "multi_thread", worker_threads = 1)]
async fn worker_threads_1_gives_one_p() {
    assert_eq!(gort::runtime::gomaxprocs(), 1);
    assert_eq!(
        gort::spawn(async { gort::runtime::gomaxprocs() })
            .await
            .unwrap(),
        1
    );
}

#[gort::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_threads_2_gives_two_ps() {
    assert_eq!(gort::runtime::gomaxprocs(), 2);
    assert_eq!(
        gort::spawn(async { gort::runtime::gomaxprocs() })
            .await
            .unwrap(),
        2
    );
}

/// tokio's default: a test's runtime is current-thread, so its tasks run on the test's thread.
#[gort::test]
async fn gort_test_defaults_to_a_current_thread_runtime() {
    let flavor = gort::runtime::Handle::current().runtime_flavor();
    assert_eq!(flavor, gort::runtime::RuntimeFlavor::CurrentThread);
    let test_thread = std::thread::current().id();
    let task_thread = gort::spawn(async { std::thread::current().id() })
        .await
        .unwrap();
    assert_eq!(task_thread, test_thread);
}

#[gort::test(flavor = "multi_thread")]
async fn flavor_multi_thread_gives_a_multi_thread_runtime() {
    let flavor = gort::runtime::Handle::current().runtime_flavor();
    assert_eq!(flavor, gort::runtime::RuntimeFlavor::MultiThread);
}

/// `name = "..."` names the test's runtime (`Handle::name`).
#[gort::test(name = "named test runtime")]
async fn the_name_option_names_the_runtime() {
    let handle = gort::runtime::Handle::current();
    assert_eq!(handle.name(), Some("named test runtime"));
    let from_task =
        gort::spawn(async { gort::runtime::Handle::current().name().map(str::to_owned) });
    assert_eq!(
        from_task.await.unwrap().as_deref(),
        Some("named test runtime")
    );
}

/// `#[gort::main]` on a function other than `main` (a trait method taking `self`, with
/// arguments) runs its body on a fresh runtime each call, with tokio's `name` option too.
#[test]
fn gort_main_runs_a_method_with_arguments_on_a_fresh_runtime() {
    trait Double {
        fn double(self, extra: u32) -> (u32, Option<String>);
    }
    impl Double for u32 {
        #[gort::main(flavor = "current_thread", name = "method runtime")]
        async fn double(self, extra: u32) -> (u32, Option<String>) {
            let doubled = gort::spawn(async move { self * 2 }).await.unwrap();
            let name = gort::runtime::Handle::current().name().map(str::to_owned);
            (doubled + extra, name)
        }
    }
    assert_eq!(21.double(1), (43, Some("method runtime".to_owned())));
    assert_eq!(2.double(0).0, 4, "a second call gets a runtime of its own");
}

/// `crate = "..."` names gort by another path (here a re-export).
mod renamed {
    pub use gort as runtime_crate;
}

#[gort::test(crate = "renamed::runtime_crate")]
async fn the_crate_option_names_gort_by_another_path() {
    assert_eq!(gort::spawn(async { 5 }).await.unwrap(), 5);
}

#[gort::test]
async fn gort_test_returning_ok_passes() -> Result<(), std::io::Error> {
    // `?` on a JoinError converts it into the test's error type.
    let value = gort::spawn(async { 3 }).await?;
    assert_eq!(value, 3);
    Ok(())
}

#[gort::test]
#[should_panic(expected = "a gort::test body panicked")]
async fn gort_test_passes_other_attributes_through() {
    panic!("a gort::test body panicked");
}

#[gort::test]
async fn each_gort_test_gets_a_fresh_runtime() {
    // Only this test's goroutines are counted: the runtime is not shared with other tests.
    assert_eq!(gort::runtime::num_goroutine(), 0);
    let (tx, rx) = oneshot::channel::<()>();
    let parked = gort::spawn(async move { rx.await.unwrap() });
    gort::task::yield_now().await;
    assert_eq!(gort::runtime::num_goroutine(), 1);
    tx.send(()).unwrap();
    parked.await.unwrap();
}

#[test]
fn run_test_returns_the_body_output() {
    let output = gort::__private::run_test(
        gort::__private::EntryFlavor::MultiThread,
        Some(2),
        false,
        async {
            gort::spawn(async { gort::runtime::gomaxprocs() })
                .await
                .unwrap()
        },
    );
    assert_eq!(output, 2);
}

/// A task that parks forever holding a guard, spawned from inside a `run_main` future; resolves
/// once the task has been polled (so it is parked, not just queued).
async fn spawn_parked_task(drops: &Arc<std::sync::atomic::AtomicUsize>) {
    let guard = DropGuard::new(drops);
    let (parked_tx, parked_rx) = oneshot::channel();
    gort::go!(async move {
        let _guard = guard;
        parked_tx.send(()).unwrap();
        std::future::pending::<()>().await;
    });
    parked_rx.await.unwrap();
}

#[test]
fn run_main_shuts_its_runtime_down_when_main_returns() {
    let drops = counter();
    let output =
        gort::__private::run_main(gort::__private::EntryFlavor::MultiThread, Some(2), false, {
            let drops = Arc::clone(&drops);
            async move {
                spawn_parked_task(&drops).await;
                assert_eq!(count(&drops), 0, "the task is parked while main runs");
                gort::runtime::gomaxprocs()
            }
        });
    assert_eq!(output, 2, "run_main honours worker_threads");
    assert_eq!(
        drops.load(Ordering::SeqCst),
        1,
        "the parked task's future was dropped before run_main returned"
    );
}

#[test]
fn run_main_propagates_a_panic_after_shutting_down() {
    let drops = counter();
    let caught = catch_unwind(AssertUnwindSafe(|| {
        gort::__private::run_main(gort::__private::EntryFlavor::MultiThread, Some(2), false, {
            let drops = Arc::clone(&drops);
            async move {
                spawn_parked_task(&drops).await;
                panic!("main failed on purpose");
            }
        })
    }));
    // Read before anything else can run: the shutdown happened before the panic reached us.
    let dropped_when_caught = count(&drops);
    let payload = caught.expect_err("the panic propagates out of run_main");
    assert_eq!(panic_text(payload.as_ref()), "main failed on purpose");
    assert_eq!(
        dropped_when_caught, 1,
        "the runtime was shut down (the parked task dropped) before the panic propagated"
    );
}

#[gort::test(start_paused = true)]
async fn start_paused_true_auto_advances_a_long_sleep() {
    let real_start = std::time::Instant::now();
    let start = gort::time::Instant::now();
    // The only task sleeps, so every P is idle and the paused clock jumps to the timer.
    gort::time::sleep(std::time::Duration::from_secs(3600)).await;
    let slept = start.elapsed();
    assert!(
        slept >= std::time::Duration::from_secs(3600),
        "the paused clock advanced past the deadline (elapsed {slept:?})"
    );
    let real = real_start.elapsed();
    assert!(
        real < std::time::Duration::from_secs(5),
        "the sleep did not wait in real time (took {real:?})"
    );
}

#[gort::test(start_paused = false)]
#[should_panic(expected = "time is not frozen")]
async fn start_paused_false_leaves_the_clock_running() {
    gort::time::resume();
}

#[gort::test]
#[should_panic(expected = "time is not frozen")]
async fn the_clock_runs_by_default() {
    gort::time::resume();
}

/// `flavor = "local"`: a `LocalRuntime`, so the body spawns `!Send` futures, also into a
/// `JoinSet`, and they run on the test's thread.
#[gort::test(flavor = "local")]
async fn flavor_local_runs_not_send_tasks() {
    let shared = std::rc::Rc::new(std::cell::Cell::new(0));
    let mut set = gort::task::JoinSet::new();
    for i in 1..=3 {
        let shared = std::rc::Rc::clone(&shared);
        set.spawn_local(async move {
            gort::task::yield_now().await;
            shared.set(shared.get() + i);
        });
    }
    while let Some(done) = set.join_next().await {
        done.unwrap();
    }
    let direct = gort::task::spawn_local(async { std::thread::current().id() });
    assert_eq!(direct.await.unwrap(), std::thread::current().id());
    assert_eq!(shared.get(), 6);
}
