//! `gort::sync::{Semaphore, Mutex, RwLock}` on gort's own FIFO batch semaphore: the order
//! waiters are served in, what a cancelled or closed acquisition does with its permits, the
//! owned, mapped and downgraded guards, the blocking calls, the auto traits ported code relies
//! on, and the leak pass seeing tasks parked on a lock.
//!
//! Futures are polled by hand where the order of events matters, so that every step is a
//! deterministic assertion rather than a race.

mod common;

use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use gort::sync::{
    MappedMutexGuard, Mutex, MutexGuard, OwnedMutexGuard, OwnedRwLockWriteGuard, RwLock,
    RwLockReadGuard, RwLockWriteGuard, Semaphore, TryAcquireError,
};

use common::{panic_text, watchdog};

/// Polls `future` once with a waker that does nothing.
fn poll_once<F: Future + ?Sized>(future: Pin<&mut F>) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(Waker::noop()))
}

// ----- Semaphore -----

/// A waiter for two permits at the head of the line holds back a waiter for one behind it:
/// one released permit is set aside for the head, not handed to the smaller request.
#[test]
fn semaphore_serves_waiters_in_order() {
    let semaphore = Semaphore::new(0);
    let mut big = pin!(semaphore.acquire_many(2));
    let mut small = pin!(semaphore.acquire());
    assert!(poll_once(big.as_mut()).is_pending());
    assert!(poll_once(small.as_mut()).is_pending());
    semaphore.add_permits(1);
    assert!(
        poll_once(small.as_mut()).is_pending(),
        "the head goes first"
    );
    assert_eq!(semaphore.available_permits(), 0, "set aside for the head");
    assert_eq!(
        semaphore.try_acquire().err(),
        Some(TryAcquireError::NoPermits),
        "try_acquire does not overtake the line"
    );
    semaphore.add_permits(2);
    let Poll::Ready(Ok(big)) = poll_once(big.as_mut()) else {
        panic!("the head has its two");
    };
    let Poll::Ready(Ok(small)) = poll_once(small.as_mut()) else {
        panic!("then the next one");
    };
    assert_eq!((big.num_permits(), small.num_permits()), (2, 1));
    drop((big, small));
    assert_eq!(semaphore.available_permits(), 3);
}

/// Dropping an acquisition that was assigned part of its permits gives them to the next in
/// line, and what that one does not need back to the count.
#[test]
fn cancelled_acquire_gives_its_assigned_permits_on() {
    let semaphore = Semaphore::new(2);
    let mut three = Box::pin(semaphore.acquire_many(3));
    assert!(poll_once(three.as_mut()).is_pending());
    assert_eq!(semaphore.available_permits(), 0, "two assigned to it");
    let mut one = pin!(semaphore.acquire());
    assert!(poll_once(one.as_mut()).is_pending());
    drop(three);
    let Poll::Ready(Ok(permit)) = poll_once(one.as_mut()) else {
        panic!("the next in line got one of the two");
    };
    assert_eq!(semaphore.available_permits(), 1, "the other went back");
    drop(permit);
    assert_eq!(semaphore.available_permits(), 2);
}

/// `close` fails every waiting task and every later acquisition; permits held stay valid and
/// still come back.
#[gort::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_fails_the_waiters() {
    let _watchdog = watchdog(Duration::from_secs(30), "close_fails_the_waiters");
    let semaphore = Arc::new(Semaphore::new(1));
    let held = Arc::clone(&semaphore).acquire_owned().await.unwrap();
    let (parked_tx, mut parked_rx) = gort::sync::mpsc::channel(8);
    let mut waiters = gort::task::JoinSet::new();
    for _ in 0..4 {
        let semaphore = Arc::clone(&semaphore);
        let parked_tx = parked_tx.clone();
        waiters.spawn(async move {
            let mut acquire = pin!(semaphore.acquire_many(2));
            std::future::poll_fn(|cx| {
                let polled = acquire.as_mut().poll(cx);
                if polled.is_pending() {
                    let _ = parked_tx.try_send(());
                }
                polled.map(|result| result.map(|permit| permit.num_permits()))
            })
            .await
        });
    }
    for _ in 0..4 {
        parked_rx.recv().await.unwrap();
    }
    semaphore.close();
    while let Some(result) = waiters.join_next().await {
        assert!(result.unwrap().is_err(), "a waiter got permits after close");
    }
    assert!(semaphore.is_closed());
    assert_eq!(semaphore.try_acquire().err(), Some(TryAcquireError::Closed));
    assert!(semaphore.acquire().await.is_err());
    drop(held);
    assert_eq!(
        semaphore.available_permits(),
        1,
        "the held permit came back"
    );
}

/// Permits split and merged keep their count; forgotten ones are gone for good, and
/// `add_permits` past `MAX_PERMITS` panics.
#[test]
fn permits_split_merge_and_forget() {
    let semaphore = Arc::new(Semaphore::new(5));
    let mut four = Arc::clone(&semaphore).try_acquire_many_owned(4).unwrap();
    let one = four.split(1).unwrap();
    assert!(four.split(4).is_none(), "only three left in it");
    assert_eq!((four.num_permits(), one.num_permits()), (3, 1));
    four.merge(one);
    assert_eq!(four.num_permits(), 4);
    assert!(Arc::ptr_eq(four.semaphore(), &semaphore));
    four.forget();
    assert_eq!(semaphore.available_permits(), 1);
    assert_eq!(semaphore.forget_permits(3), 1);
    let overflow = std::panic::catch_unwind(|| {
        let full = Semaphore::new(Semaphore::MAX_PERMITS);
        full.add_permits(1);
    });
    assert!(panic_text(&*overflow.unwrap_err()).contains("MAX_PERMITS"));
}

/// The blocking calls work from a plain thread, waiting for a permit a task releases.
#[test]
fn blocking_acquire_from_a_plain_thread() {
    let semaphore = Arc::new(Semaphore::new(0));
    let waiter = {
        let semaphore = Arc::clone(&semaphore);
        std::thread::spawn(move || {
            let permit = semaphore.blocking_acquire_many(2).unwrap();
            permit.num_permits()
        })
    };
    gort::block_on({
        let semaphore = Arc::clone(&semaphore);
        async move { gort::spawn(async move { semaphore.add_permits(2) }).await }
    })
    .unwrap();
    assert_eq!(waiter.join().unwrap(), 2);
    assert_eq!(semaphore.available_permits(), 2);
}

// ----- Mutex -----

/// Tasks get the mutex in the order they asked for it.
#[test]
fn mutex_is_fair() {
    let mutex = Mutex::new(Vec::new());
    let held = mutex.try_lock().unwrap();
    let mut first = pin!(async {
        mutex.lock().await.push(1);
    });
    let mut second = pin!(async {
        mutex.lock().await.push(2);
    });
    assert!(poll_once(first.as_mut()).is_pending());
    assert!(poll_once(second.as_mut()).is_pending());
    drop(held);
    assert!(mutex.try_lock().is_err(), "handed to the first waiter");
    assert!(poll_once(second.as_mut()).is_pending(), "not its turn");
    assert!(poll_once(first.as_mut()).is_ready());
    assert!(poll_once(second.as_mut()).is_ready());
    assert_eq!(*mutex.try_lock().unwrap(), [1, 2]);
}

/// An owned guard moves into a spawned task; mapped guards reach a part of the data and keep
/// the lock until they drop; `try_map` that declines gives the guard back.
#[gort::test]
async fn owned_and_mapped_mutex_guards() {
    let mutex = Arc::new(Mutex::new((0u32, String::from("a"))));
    let guard = Arc::clone(&mutex).lock_owned().await;
    assert!(Arc::ptr_eq(OwnedMutexGuard::mutex(&guard), &mutex));
    gort::spawn(async move {
        let mut name = OwnedMutexGuard::map(guard, |pair| &mut pair.1);
        name.push('b');
    })
    .await
    .unwrap();
    let guard = mutex.lock().await;
    let guard = match MutexGuard::try_map(guard, |_| None::<&mut u32>) {
        Ok(_) => panic!("the closure declined"),
        Err(guard) => guard,
    };
    let mut number: MappedMutexGuard<'_, u32> = MutexGuard::map(guard, |pair| &mut pair.0);
    *number += 7;
    assert!(mutex.try_lock().is_err(), "the mapped guard holds the lock");
    drop(number);
    let owned = Arc::clone(&mutex).try_lock_owned().unwrap();
    assert_eq!(*owned, (7, String::from("ab")));
    assert_eq!(format!("{mutex:?}"), "Mutex { data: <locked> }");
}

/// `blocking_lock` waits on a plain thread for a task to unlock; inside a task it panics.
#[test]
fn blocking_lock_from_a_thread_and_not_from_a_task() {
    let mutex = Arc::new(Mutex::new(0u32));
    let guard = mutex.try_lock().unwrap();
    let locker = {
        let mutex = Arc::clone(&mutex);
        std::thread::spawn(move || *mutex.blocking_lock() += 1)
    };
    drop(guard);
    locker.join().unwrap();
    assert_eq!(*Arc::clone(&mutex).blocking_lock_owned(), 1);
    let refused = gort::block_on(gort::spawn(async move {
        let _guard = mutex.blocking_lock();
    }));
    let panic = refused.unwrap_err().into_panic();
    assert!(
        panic_text(&*panic).contains("Cannot block the current thread from within a runtime"),
        "blocking_lock inside a task must refuse"
    );
}

/// A lock taken while the task's budget is spent still takes its turn: the future holds the
/// lock through its yield, and dropping it then unlocks.
#[test]
fn an_exhausted_budget_keeps_the_place_in_line() {
    let mutex = Mutex::new(());
    let mut lock = pin!(mutex.lock());
    gort_budget_spent(|| assert!(poll_once(lock.as_mut()).is_pending()));
    assert!(mutex.try_lock().is_err(), "taken, held through the yield");
    assert!(poll_once(lock.as_mut()).is_ready());
}

/// Runs `f` inside a poll whose coop budget is spent: in a task that first drains it.
fn gort_budget_spent(f: impl FnOnce()) {
    gort::block_on(async {
        while gort::task::coop::has_budget_remaining() {
            gort::task::coop::consume_budget().await;
        }
        f();
    });
}

// ----- RwLock -----

/// A waiting writer holds back the readers that come after it; a downgrade lets the readers
/// queued behind it in at once while a waiting writer stays out.
#[test]
fn rwlock_writers_are_not_starved_and_downgrade_admits_readers() {
    let lock = RwLock::new(0u32);
    let reader = lock.try_read().unwrap();
    let mut writer = pin!(lock.write());
    assert!(poll_once(writer.as_mut()).is_pending());
    assert!(
        lock.try_read().is_err(),
        "a writer waits: readers queue behind"
    );
    drop(reader);
    let Poll::Ready(mut written) = poll_once(writer.as_mut()) else {
        panic!("the writer is next");
    };
    *written = 5;
    let mut late_reader = pin!(lock.read());
    let mut late_writer = pin!(lock.write());
    assert!(poll_once(late_reader.as_mut()).is_pending());
    assert!(poll_once(late_writer.as_mut()).is_pending());
    let read = RwLockWriteGuard::downgrade(written);
    let Poll::Ready(late) = poll_once(late_reader.as_mut()) else {
        panic!("the queued reader is let in by the downgrade");
    };
    assert_eq!((*read, *late), (5, 5));
    assert!(poll_once(late_writer.as_mut()).is_pending());
    drop((read, late));
    assert!(poll_once(late_writer.as_mut()).is_ready());
}

/// `with_max_readers` bounds the readers at once; a writer takes them all; 0 is refused.
#[test]
fn rwlock_with_max_readers() {
    let lock = RwLock::with_max_readers(String::from("x"), 2);
    let (a, b) = (lock.try_read().unwrap(), lock.try_read().unwrap());
    assert!(lock.try_read().is_err(), "two readers at most");
    let mapped = RwLockReadGuard::map(a, |s| s.as_str());
    assert_eq!(&*mapped, "x");
    drop((mapped, b));
    assert!(lock.try_write().is_ok());
    let zero = std::panic::catch_unwind(|| RwLock::with_max_readers((), 0));
    assert!(panic_text(&*zero.unwrap_err()).contains("0 readers"));
}

/// The owned write guard maps, downgrades to a mapped read guard, and gives the guard back
/// when `try_downgrade_map` declines.
#[gort::test]
async fn owned_rwlock_guards_map_and_downgrade() {
    let lock = Arc::new(RwLock::new(vec![1, 2, 3]));
    let write = Arc::clone(&lock).write_owned().await;
    let write = match OwnedRwLockWriteGuard::try_downgrade_map(write, |v| v.get(10)) {
        Ok(_) => panic!("no element 10"),
        Err(write) => write,
    };
    let second = OwnedRwLockWriteGuard::downgrade_map(write, |v| &v[1]);
    assert_eq!(*second, 2);
    let other = Arc::clone(&lock).try_read_owned().unwrap();
    assert_eq!(other.len(), 3, "readers share with the downgraded guard");
    assert!(Arc::clone(&lock).try_write_owned().is_err());
    drop((second, other));
    let mut whole = OwnedRwLockWriteGuard::into_mapped(lock.clone().write_owned().await);
    whole.push(4);
    drop(whole);
    assert_eq!(*lock.read().await, [1, 2, 3, 4]);
    let reader = lock.read().await;
    let writer = {
        let lock = Arc::clone(&lock);
        std::thread::spawn(move || lock.blocking_write().len())
    };
    drop(reader);
    assert_eq!(writer.join().unwrap(), 4);
}

// ----- auto traits -----

/// Compile-time checks of the auto traits a port relies on (tokio's): the lock futures are
/// `Send` when the data is, the guards `Sync` only when it is.
#[test]
fn auto_traits_are_tokios() {
    fn send_sync<T: Send + Sync>(_: &T) {}
    fn send<T: Send>(_: &T) {}
    /// Ambiguous (a compile error) exactly when `T: Sync`.
    trait NotSync<A> {
        fn check(&self) {}
    }
    impl<T: ?Sized> NotSync<()> for T {}
    impl<T: ?Sized + Sync> NotSync<u8> for T {}
    /// Ambiguous exactly when `T: Send`.
    trait NotSend<A> {
        fn check(&self) {}
    }
    impl<T: ?Sized> NotSend<()> for T {}
    impl<T: ?Sized + Send> NotSend<u8> for T {}

    // `Cell` is Send, not Sync.
    let mutex = Arc::new(Mutex::new(std::cell::Cell::new(0)));
    send_sync(&mutex);
    send_sync(&mutex.lock());
    send_sync(&Arc::clone(&mutex).lock_owned());
    let guard = mutex.try_lock().unwrap();
    send(&guard);
    NotSync::check(&guard);
    drop(guard);
    let rwlock = RwLock::new(std::cell::Cell::new(0));
    send(&rwlock);
    NotSync::check(&rwlock);
    NotSend::check(&rwlock.read());
    let semaphore = Semaphore::new(1);
    send_sync(&semaphore.acquire());
    send_sync(&semaphore.try_acquire().unwrap());
}

// ----- the leak pass -----

/// Two tasks share a mutex in the arena: one holds it and waits on a channel only the other
/// could send on; the other waits for the mutex. Nothing else can reach either: both are
/// leaked, the second with Go's wait reason for a mutex.
#[gort::test]
async fn tasks_deadlocked_on_a_mutex_are_leaked() {
    let _watchdog = watchdog(Duration::from_secs(60), "mutex leak");
    let mutex = gort::gc::Gc::new(Mutex::new(0u32));
    let (tx, rx) = gort::chan![u32];
    let (locked_tx, locked_rx) = gort::sync::oneshot::channel();
    let (m1, m2) = (mutex.clone(), mutex);
    gort::go!([m1, rx] async move {
        let _guard = m1.lock().await;
        let _ = locked_tx.send(());
        let _ = rx.recv().await;
    });
    locked_rx.await.unwrap();
    let line = line!() + 1;
    gort::go!([m2, tx] async move {
        let mut guard = m2.lock().await;
        *guard += 1;
        let _ = tx.send(*guard).await;
    });
    let mut leaks = Vec::new();
    for _ in 0..500 {
        leaks = gort::gc::leaks();
        if leaks.len() >= 2 {
            break;
        }
        gort::time::sleep(Duration::from_millis(10)).await;
    }
    let on_mutex = leaks
        .iter()
        .find(|leak| leak.location.line() == line)
        .unwrap_or_else(|| panic!("the task waiting for the mutex is leaked: {leaks:?}"));
    assert_eq!(on_mutex.wait_reason, "sync.Mutex.Lock");
    assert!(leaks.iter().any(|leak| leak.wait_reason == "chan receive"));
    assert_eq!(gort::gc::reclaim_leaks().len(), 2);
}
