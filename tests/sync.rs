//! `gort::sync`: Go's `WaitGroup`, and `Mutex`, `RwLock`, `Semaphore`, `Notify`, `Barrier`,
//! `OnceCell` with tokio's semantics, exercised from tasks on multi-threaded runtimes and from
//! plain threads.

mod common;

use std::panic::{self, AssertUnwindSafe};
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use futures::FutureExt;
use gort::sync::{
    AcquireError, Barrier, Mutex, Notify, OnceCell, RwLock, Semaphore, SetError, TryAcquireError,
    WaitGroup,
};

use common::{
    count, counter, eventually, eventually_blocking, panic_text, record_pending, runtime, within,
};

/// How long an await that must complete may take before the test fails instead of hanging.
const LIMIT: Duration = Duration::from_secs(10);

/// Records `value` in `max` if it is larger than what `max` holds.
fn record_max(max: &AtomicUsize, value: usize) {
    max.fetch_max(value, Ordering::SeqCst);
}

// ----- WaitGroup -----

/// `wait` completes only after every one of 100 tasks called `done`: all 100 increments are
/// visible once it returns. The tasks sleep first, so a `wait` that returned early would see
/// few of them.
#[test]
fn wait_group_waits_for_100_spawned_tasks() {
    const TASKS: usize = 100;
    runtime(2).block_on(async {
        let wg = WaitGroup::new();
        let finished = counter();
        wg.add(TASKS as isize);
        for i in 0..TASKS {
            let wg = wg.clone();
            let finished = Arc::clone(&finished);
            gort::go!(async move {
                gort::time::sleep(Duration::from_millis(1 + (i % 5) as u64)).await;
                finished.fetch_add(1, Ordering::Relaxed);
                wg.done();
            });
        }
        within(LIMIT, "WaitGroup::wait", wg.wait()).await;
        assert_eq!(
            finished.load(Ordering::Relaxed),
            TASKS,
            "wait returned before every task was done"
        );
    });
}

/// Taking the counter below zero panics with Go's message, and leaves the counter usable.
#[test]
fn wait_group_negative_counter_panics_with_gos_message() {
    let wg = WaitGroup::new();
    let payload = panic::catch_unwind(AssertUnwindSafe(|| wg.done()))
        .expect_err("done on a zero counter must panic");
    assert_eq!(panic_text(&*payload), "sync: negative WaitGroup counter");

    wg.add(1);
    let payload = panic::catch_unwind(AssertUnwindSafe(|| wg.add(-2)))
        .expect_err("add(-2) on a counter of 1 must panic");
    assert_eq!(panic_text(&*payload), "sync: negative WaitGroup counter");

    // The failed add was undone: the counter is still 1, so wait is pending until one done.
    assert!(wg.wait().now_or_never().is_none(), "the counter is still 1");
    wg.done();
    assert!(
        wg.wait().now_or_never().is_some(),
        "the counter is back at zero"
    );
}

/// `wait` on a zero counter completes on its first poll, fresh or after add/done pairs; a
/// non-zero counter does not.
#[test]
fn wait_group_wait_on_zero_returns_at_once() {
    let wg = WaitGroup::default();
    assert_eq!(
        wg.wait().now_or_never(),
        Some(()),
        "a new WaitGroup is at zero"
    );
    wg.add(3);
    assert_eq!(wg.wait().now_or_never(), None, "3 tasks outstanding");
    wg.add(-2);
    wg.done();
    assert_eq!(wg.wait().now_or_never(), Some(()), "back at zero");
    wg.wait_blocking();
}

/// A plain thread blocks in `wait_blocking` until the tasks it waits for are done, and sees
/// all their work when it returns.
#[test]
fn wait_group_wait_blocking_from_a_plain_thread() {
    const TASKS: usize = 20;
    let rt = runtime(2);
    let wg = WaitGroup::new();
    let finished = counter();
    wg.add(TASKS as isize);
    let waiter = {
        let wg = wg.clone();
        let finished = Arc::clone(&finished);
        thread::spawn(move || {
            wg.wait_blocking();
            finished.load(Ordering::Relaxed)
        })
    };
    // The tasks cannot finish before they are released, which happens after the thread
    // started waiting (or is about to).
    let release = Arc::new(Semaphore::new(0));
    rt.block_on(async {
        for _ in 0..TASKS {
            let wg = wg.clone();
            let finished = Arc::clone(&finished);
            let release = Arc::clone(&release);
            gort::go!(async move {
                release.acquire().await.expect("open").forget();
                finished.fetch_add(1, Ordering::Relaxed);
                wg.done();
            });
        }
        assert!(!waiter.is_finished(), "the thread waits for the tasks");
        release.add_permits(TASKS);
    });
    assert!(
        eventually_blocking(|| waiter.is_finished()),
        "wait_blocking did not return"
    );
    let seen = waiter.join().expect("the waiting thread");
    assert_eq!(
        seen, TASKS,
        "wait_blocking returned before every task was done"
    );
}

// ----- Mutex -----

/// 8 tasks on 2 worker threads each increment a counter 1000 times under the lock, with a
/// yield between reading and writing it: without mutual exclusion increments get lost and two
/// tasks are seen inside at once.
#[test]
fn mutex_excludes_8_tasks_times_1000_increments_on_2_workers() {
    const TASKS: usize = 8;
    const INCREMENTS: usize = 1000;
    runtime(2).block_on(async {
        let mutex = Arc::new(Mutex::new(0usize));
        let inside = Arc::new(AtomicUsize::new(0));
        let most_inside = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..TASKS)
            .map(|_| {
                let mutex = Arc::clone(&mutex);
                let inside = Arc::clone(&inside);
                let most_inside = Arc::clone(&most_inside);
                gort::spawn(async move {
                    for _ in 0..INCREMENTS {
                        let mut guard = mutex.lock().await;
                        record_max(&most_inside, inside.fetch_add(1, Ordering::SeqCst) + 1);
                        let read = *guard;
                        gort::task::yield_now().await;
                        *guard = read + 1;
                        inside.fetch_sub(1, Ordering::SeqCst);
                    }
                })
            })
            .collect();
        for task in tasks {
            within(LIMIT, "an incrementing task", task)
                .await
                .expect("task");
        }
        assert_eq!(
            *mutex.lock().await,
            TASKS * INCREMENTS,
            "increments were lost"
        );
        assert_eq!(most_inside.load(Ordering::SeqCst), 1, "two holders at once");
    });
}

/// `try_lock` fails while another holder has the lock (in this task or another), and succeeds
/// once it is released.
#[test]
fn mutex_try_lock_fails_while_held() {
    runtime(2).block_on(async {
        let mutex = Arc::new(Mutex::new(String::from("held")));
        let guard = mutex.lock().await;
        assert!(
            mutex.try_lock().is_err(),
            "try_lock while this task holds it"
        );
        let other = Arc::clone(&mutex);
        let from_other_task = gort::spawn(async move { other.try_lock().is_err() })
            .await
            .expect("task");
        assert!(from_other_task, "try_lock from another task while held");
        let error = mutex.try_lock().expect_err("still held");
        assert_eq!(error.to_string(), "operation would block");
        drop(guard);
        let mut guard = mutex.try_lock().expect("free again");
        guard.push_str(" then freed");
        drop(guard);
        assert_eq!(mutex.lock().await.as_str(), "held then freed");
    });
}

// ----- RwLock -----

/// Readers share the lock: 4 tasks hold read guards at the same time (each waits, guard in hand,
/// until all 4 are in), which would never finish if reads excluded each other.
#[test]
fn rw_lock_lets_many_readers_in_at_once() {
    const READERS: usize = 4;
    runtime(2).block_on(async {
        let lock = Arc::new(RwLock::new(7u32));
        let barrier = Arc::new(Barrier::new(READERS));
        let readers: Vec<_> = (0..READERS)
            .map(|_| {
                let lock = Arc::clone(&lock);
                let barrier = Arc::clone(&barrier);
                gort::spawn(async move {
                    let guard = lock.read().await;
                    barrier.wait().await;
                    *guard
                })
            })
            .collect();
        for reader in readers {
            let value = within(LIMIT, "readers holding the lock together", reader)
                .await
                .expect("reader");
            assert_eq!(value, 7);
        }
    });
}

/// A writer excludes everyone: it gets the lock only once every reader left, `try_read` and
/// `try_write` fail while it holds it, and its write is what later readers see.
#[test]
fn rw_lock_writer_is_exclusive() {
    runtime(2).block_on(async {
        let lock = Arc::new(RwLock::new(0u32));
        let readers_inside = Arc::new(AtomicUsize::new(0));

        let first = lock.read().await;
        let second = lock.read().await;
        readers_inside.store(2, Ordering::SeqCst);
        assert!(
            lock.try_write().is_err(),
            "try_write while readers hold the lock"
        );

        let (writer, writer_parked) = record_pending({
            let lock = Arc::clone(&lock);
            let readers_inside = Arc::clone(&readers_inside);
            async move {
                let mut guard = lock.write().await;
                let readers_seen = readers_inside.load(Ordering::SeqCst);
                *guard = 1;
                // Still no other writer can get in between: the value stays ours.
                let held = guard.downgrade();
                (*held, readers_seen)
            }
        });
        let writer = gort::spawn(writer);
        assert!(
            eventually(|| writer_parked.load(Ordering::SeqCst)).await,
            "the writer waits for the readers"
        );
        readers_inside.store(1, Ordering::SeqCst);
        drop(first);
        readers_inside.store(0, Ordering::SeqCst);
        drop(second);
        let (written, readers_seen) = within(LIMIT, "the writer", writer).await.expect("writer");
        assert_eq!(
            readers_seen, 0,
            "the writer got in while readers were inside"
        );
        assert_eq!(written, 1);

        let guard = lock.write().await;
        assert!(
            lock.try_read().is_err(),
            "try_read while a writer holds the lock"
        );
        assert!(
            lock.try_write().is_err(),
            "try_write while a writer holds the lock"
        );
        drop(guard);
        assert_eq!(*lock.read().await, 1, "the write is visible");
    });
}

// ----- Semaphore -----

/// At most `permits` of 24 tasks hold a permit at any time, every task gets one eventually, and
/// all permits come back.
#[test]
fn semaphore_bounds_concurrency() {
    const PERMITS: usize = 3;
    const TASKS: usize = 24;
    runtime(2).block_on(async {
        let semaphore = Arc::new(Semaphore::new(PERMITS));
        let holders = Arc::new(AtomicUsize::new(0));
        let most_holders = Arc::new(AtomicUsize::new(0));
        let served = counter();
        let tasks: Vec<_> = (0..TASKS)
            .map(|i| {
                let semaphore = Arc::clone(&semaphore);
                let holders = Arc::clone(&holders);
                let most_holders = Arc::clone(&most_holders);
                let served = Arc::clone(&served);
                gort::spawn(async move {
                    // Half borrow the semaphore, half take owned permits.
                    let _permit = if i % 2 == 0 {
                        Some(semaphore.acquire().await.expect("open"))
                    } else {
                        None
                    };
                    let _owned = if i % 2 == 1 {
                        Some(Arc::clone(&semaphore).acquire_owned().await.expect("open"))
                    } else {
                        None
                    };
                    record_max(&most_holders, holders.fetch_add(1, Ordering::SeqCst) + 1);
                    gort::time::sleep(Duration::from_millis(1)).await;
                    holders.fetch_sub(1, Ordering::SeqCst);
                    served.fetch_add(1, Ordering::SeqCst);
                })
            })
            .collect();
        for task in tasks {
            within(LIMIT, "a task taking a permit", task)
                .await
                .expect("task");
        }
        let most = most_holders.load(Ordering::SeqCst);
        assert!(
            most <= PERMITS,
            "{most} tasks held a permit at once, with {PERMITS} permits"
        );
        assert_eq!(count(&served), TASKS);
        assert_eq!(
            semaphore.available_permits(),
            PERMITS,
            "every permit came back"
        );
    });
}

/// Releasing `n` permits at once wakes `n` parked single-permit waiters: waking only one would
/// leave the other permits free while their waiters sleep.
#[test]
fn semaphore_release_of_n_permits_wakes_n_waiters() {
    const WAITERS: usize = 4;
    runtime(2).block_on(async {
        let semaphore = Arc::new(Semaphore::new(0));
        let mut parked_flags = Vec::new();
        let waiters: Vec<_> = (0..WAITERS)
            .map(|_| {
                let semaphore = Arc::clone(&semaphore);
                let (acquire, parked) =
                    record_pending(async move { semaphore.acquire_owned().await.expect("open") });
                parked_flags.push(parked);
                gort::spawn(acquire)
            })
            .collect();
        for parked in &parked_flags {
            let parked = Arc::clone(parked);
            assert!(eventually(move || parked.load(Ordering::SeqCst)).await);
        }
        semaphore.add_permits(WAITERS);
        let mut permits = Vec::new();
        for waiter in waiters {
            permits.push(
                within(LIMIT, "a woken waiter", waiter)
                    .await
                    .expect("waiter"),
            );
        }
        assert_eq!(semaphore.available_permits(), 0);
        drop(permits);
        assert_eq!(semaphore.available_permits(), WAITERS);
    });
}

/// `acquire_many` waits until all its permits are free at once, and `try_acquire_many`, `split`
/// and `forget` account for permits exactly.
#[test]
fn semaphore_acquire_many_waits_for_all_its_permits() {
    runtime(2).block_on(async {
        let semaphore = Arc::new(Semaphore::new(3));
        let one = semaphore.try_acquire().expect("free");
        let (many, parked) = record_pending({
            let semaphore = Arc::clone(&semaphore);
            async move { semaphore.acquire_many_owned(3).await.expect("open") }
        });
        let many = gort::spawn(many);
        assert!(
            eventually(|| parked.load(Ordering::SeqCst)).await,
            "2 of 3 free"
        );
        assert_eq!(
            semaphore.try_acquire_many(3).err(),
            Some(TryAcquireError::NoPermits)
        );
        drop(one);
        let mut three = within(LIMIT, "acquire_many(3)", many).await.expect("task");
        assert_eq!(three.num_permits(), 3);
        assert_eq!(semaphore.available_permits(), 0);
        let two = three.split(2).expect("holds 3");
        assert!(three.split(2).is_none(), "holds 1");
        two.forget();
        drop(three);
        assert_eq!(semaphore.available_permits(), 1, "2 forgotten, 1 returned");
    });
}

/// `close` fails the acquirers parked at that moment and every later one, while a permit held
/// across the close stays valid and still comes back.
#[test]
fn semaphore_close_fails_acquirers() {
    const WAITERS: usize = 3;
    runtime(2).block_on(async {
        let semaphore = Arc::new(Semaphore::new(1));
        let held = semaphore.try_acquire().expect("free");
        let mut parked_flags = Vec::new();
        let waiters: Vec<_> = (0..WAITERS)
            .map(|i| {
                let semaphore = Arc::clone(&semaphore);
                let (acquire, parked) = record_pending(async move {
                    let n = if i == 0 { 1 } else { 2 };
                    semaphore.acquire_many(n).await.map(drop)
                });
                parked_flags.push(parked);
                gort::spawn(acquire)
            })
            .collect();
        for parked in &parked_flags {
            let parked = Arc::clone(parked);
            assert!(eventually(move || parked.load(Ordering::SeqCst)).await);
        }
        semaphore.close();
        assert!(semaphore.is_closed());
        for waiter in waiters {
            let result = within(LIMIT, "a parked acquirer after close", waiter)
                .await
                .expect("task");
            let error: AcquireError = result.expect_err("a parked acquirer must fail on close");
            assert_eq!(error.to_string(), "semaphore closed");
        }
        assert_eq!(semaphore.try_acquire().err(), Some(TryAcquireError::Closed));
        drop(held);
        assert_eq!(
            semaphore.available_permits(),
            1,
            "the held permit came back"
        );
        let late = semaphore.acquire().await;
        assert_eq!(
            late.err().map(|e| e.to_string()).as_deref(),
            Some("semaphore closed")
        );
    });
}

// ----- Notify -----

/// A `notify_one` with nobody waiting stores one permit: the next `notified()` completes on its
/// first poll, and only that one (permits do not add up).
#[test]
fn notify_one_before_notified_stores_one_permit() {
    let notify = Notify::new();
    assert!(notify.notified().now_or_never().is_none(), "no permit yet");
    notify.notify_one();
    notify.notify_one();
    assert!(
        notify.notified().now_or_never().is_some(),
        "the stored permit"
    );
    assert!(
        notify.notified().now_or_never().is_none(),
        "only one permit is stored"
    );
}

/// `notify_waiters` completes every `Notified` registered before it (here 5 parked tasks), and
/// neither stores a permit nor completes one created after it.
#[test]
fn notify_waiters_wakes_all_current_waiters_not_future_ones() {
    const WAITERS: usize = 5;
    runtime(2).block_on(async {
        let notify = Arc::new(Notify::new());
        let registered = counter();
        let woken = counter();
        for _ in 0..WAITERS {
            let notify = Arc::clone(&notify);
            let registered = Arc::clone(&registered);
            let woken = Arc::clone(&woken);
            gort::go!(async move {
                let mut notified = pin!(notify.notified());
                notified.as_mut().enable();
                registered.fetch_add(1, Ordering::SeqCst);
                notified.await;
                woken.fetch_add(1, Ordering::SeqCst);
            });
        }
        assert!(eventually(|| count(&registered) == WAITERS).await);
        let before = notify.notified();
        notify.notify_waiters();
        assert!(
            eventually(|| count(&woken) == WAITERS).await,
            "{} of {WAITERS} waiters woken",
            count(&woken)
        );
        assert!(
            before.now_or_never().is_some(),
            "a Notified created before the call completes even if never polled"
        );
        assert!(
            notify.notified().now_or_never().is_none(),
            "a Notified created after notify_waiters must not complete"
        );
        // Give a wrongly stored permit or a late wake every chance to show.
        let late = Arc::new(AtomicBool::new(false));
        let late_task = {
            let notify = Arc::clone(&notify);
            let late = Arc::clone(&late);
            gort::spawn(async move {
                notify.notified().await;
                late.store(true, Ordering::SeqCst);
            })
        };
        for _ in 0..100 {
            gort::task::yield_now().await;
        }
        assert!(!late.load(Ordering::SeqCst), "a later waiter was woken");
        notify.notify_one();
        within(LIMIT, "the later waiter, notified", late_task)
            .await
            .expect("task");
        assert_eq!(count(&woken), WAITERS);
    });
}

/// A waiter chosen by `notify_one` but dropped before it saw the notification passes it on,
/// here into the permit: the notification is not lost to the cancellation.
#[test]
fn notify_one_to_a_dropped_waiter_is_not_lost() {
    let notify = Notify::new();
    let mut chosen = Box::pin(notify.notified());
    assert!(!chosen.as_mut().enable(), "registered, not notified");
    notify.notify_one();
    drop(chosen);
    assert!(
        notify.notified().now_or_never().is_some(),
        "the dropped waiter's notification became the permit"
    );
}

// ----- Barrier -----

/// A barrier of 8 releases its 8 tasks only once all have arrived, and exactly one of them is
/// the leader; the same barrier then serves a second round the same way.
#[test]
fn barrier_releases_all_n_with_exactly_one_leader() {
    const N: usize = 8;
    const ROUNDS: usize = 2;
    runtime(2).block_on(async {
        let barrier = Arc::new(Barrier::new(N));
        let arrived: Arc<[AtomicUsize; ROUNDS]> = Arc::new(Default::default());
        let tasks: Vec<_> = (0..N)
            .map(|_| {
                let barrier = Arc::clone(&barrier);
                let arrived = Arc::clone(&arrived);
                gort::spawn(async move {
                    let mut leaders = [false; ROUNDS];
                    for round in 0..ROUNDS {
                        arrived[round].fetch_add(1, Ordering::SeqCst);
                        leaders[round] = barrier.wait().await.is_leader();
                        assert_eq!(
                            arrived[round].load(Ordering::SeqCst),
                            N,
                            "released before all {N} arrived in round {round}"
                        );
                    }
                    leaders
                })
            })
            .collect();
        let mut leaders = [0usize; ROUNDS];
        for task in tasks {
            let led = within(LIMIT, "a task at the barrier", task)
                .await
                .expect("task");
            for round in 0..ROUNDS {
                leaders[round] += usize::from(led[round]);
            }
        }
        assert_eq!(leaders, [1; ROUNDS], "one leader per round");
    });
}

// ----- OnceCell -----

/// Of 16 concurrent `get_or_init` callers on an empty cell, exactly one initialiser runs (it
/// sleeps, so the others arrive while it runs) and all get its value.
#[test]
fn once_cell_get_or_init_runs_the_initialiser_once_under_16_callers() {
    const CALLERS: usize = 16;
    runtime(2).block_on(async {
        let cell = Arc::new(OnceCell::<usize>::new());
        let inits = counter();
        let callers: Vec<_> = (0..CALLERS)
            .map(|i| {
                let cell = Arc::clone(&cell);
                let inits = Arc::clone(&inits);
                gort::spawn(async move {
                    *cell
                        .get_or_init(|| async move {
                            inits.fetch_add(1, Ordering::SeqCst);
                            gort::time::sleep(Duration::from_millis(5)).await;
                            100 + i
                        })
                        .await
                })
            })
            .collect();
        let mut values = Vec::new();
        for caller in callers {
            values.push(
                within(LIMIT, "a get_or_init caller", caller)
                    .await
                    .expect("task"),
            );
        }
        assert_eq!(count(&inits), 1, "the initialiser ran more than once");
        assert!(
            values.iter().all(|&v| v == values[0]),
            "callers saw different values: {values:?}"
        );
        assert_eq!(cell.get(), Some(&values[0]));
    });
}

/// `set` stores a value once and says why it fails after; a failing `get_or_try_init` leaves
/// the cell empty for the next initialiser.
#[test]
fn once_cell_set_and_failed_initialisers() {
    runtime(1).block_on(async {
        let cell = OnceCell::new();
        let failed: Result<&u32, &str> = cell.get_or_try_init(|| async { Err("no") }).await;
        assert_eq!(failed, Err("no"));
        assert!(
            !cell.initialized(),
            "a failed initialiser leaves the cell empty"
        );
        assert_eq!(cell.set(1), Ok(()));
        assert_eq!(cell.set(2), Err(SetError::AlreadyInitializedError(2)));
        assert_eq!(cell.get_or_init(|| async { 3 }).await, &1);
        assert_eq!(cell.into_inner(), Some(1));
    });
}
