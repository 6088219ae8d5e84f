//! Unit tests of the locks' guards, small enough for Miri (`cargo +nightly miri test -p
//! gort-sync --lib primitives::lock_tests`), which checks the `unsafe` of `mutex.rs` and
//! `rw_lock/`: every guard kind derefs, maps, downgrades and gives its permits back, and two
//! threads writing through a mutex do not race.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use super::*;

/// Polls `future` once with a waker that does nothing.
fn poll_once<F: Future>(future: std::pin::Pin<&mut F>) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(Waker::noop()))
}

#[test]
fn mutex_guards_map_and_unlock() {
    let mutex = Arc::new(Mutex::new((1u32, vec![String::from("a")])));
    {
        let guard = mutex.try_lock().unwrap();
        let mut mapped = MutexGuard::map(guard, |pair| &mut pair.1);
        mapped.push(String::from("b"));
        let mut first = MappedMutexGuard::map(mapped, |names| &mut names[0]);
        first.push('!');
        let declined = MappedMutexGuard::try_map(first, |_| None::<&mut u8>);
        let Err(first) = declined else {
            panic!("the closure declined");
        };
        assert!(mutex.try_lock().is_err());
        drop(first);
    }
    {
        let owned = Arc::clone(&mutex).try_lock_owned().unwrap();
        let Err(owned) = OwnedMutexGuard::try_map(owned, |_| None::<&mut u8>) else {
            panic!("the closure declined");
        };
        let mut number = OwnedMutexGuard::map(owned, |pair| &mut pair.0);
        *number += 1;
        let number = OwnedMappedMutexGuard::map(number, |n| n);
        assert_eq!(*number, 2);
    }
    let guard = mutex.try_lock().unwrap();
    assert_eq!(guard.1, ["a!", "b"]);
    drop(guard);
    let mutex = Arc::try_unwrap(mutex).expect("no guard left");
    assert_eq!(mutex.into_inner().0, 2);
}

#[test]
fn two_threads_write_through_a_mutex() {
    let mutex = Arc::new(Mutex::new(Vec::new()));
    let other = {
        let mutex = Arc::clone(&mutex);
        std::thread::spawn(move || {
            for i in 0..3 {
                mutex.blocking_lock().push(i);
            }
        })
    };
    for i in 10..13 {
        mutex.blocking_lock().push(i);
    }
    other.join().unwrap();
    assert_eq!(mutex.blocking_lock().len(), 6);
}

#[test]
fn rwlock_guards_map_downgrade_and_unlock() {
    let lock = RwLock::with_max_readers(vec![1, 2, 3], 4);
    let write = lock.try_write().unwrap();
    let Err(write) = RwLockWriteGuard::try_map(write, |_| None::<&mut u8>) else {
        panic!("the closure declined");
    };
    let mut mapped = RwLockWriteGuard::map(write, |v| &mut v[0]);
    *mapped = 10;
    let mapped = RwLockMappedWriteGuard::map(mapped, |n| n);
    drop(mapped);
    let write = lock.try_write().unwrap();
    let read = RwLockWriteGuard::downgrade_map(write, |v| &v[0]);
    let other = lock.try_read().unwrap();
    assert_eq!((*read, other.len()), (10, 3));
    let read = RwLockReadGuard::map(read, |n| n);
    drop((read, other));
    let write = lock.try_write().unwrap();
    let Err(write) = RwLockWriteGuard::try_downgrade_map(write, |v| v.get(9)) else {
        panic!("the closure declined");
    };
    let mut whole = RwLockWriteGuard::into_mapped(write);
    whole.push(4);
    drop(whole);
    assert_eq!(*lock.try_read().unwrap(), [10, 2, 3, 4]);
}

#[test]
fn owned_rwlock_guards_map_downgrade_and_unlock() {
    let lock = Arc::new(RwLock::new(String::from("ab")));
    let write = Arc::clone(&lock).try_write_owned().unwrap();
    let Err(write) = OwnedRwLockWriteGuard::try_map(write, |_| None::<&mut u8>) else {
        panic!("the closure declined");
    };
    let mut mapped = OwnedRwLockWriteGuard::map(write, |s| s);
    mapped.push('c');
    let mapped = OwnedRwLockMappedWriteGuard::try_map(mapped, |s| Some(s)).expect("kept");
    assert!(Arc::ptr_eq(
        OwnedRwLockMappedWriteGuard::rwlock(&mapped),
        &lock
    ));
    drop(mapped);
    let read = Arc::clone(&lock).try_write_owned().unwrap().downgrade();
    let read = OwnedRwLockReadGuard::map(read, |s| s.as_str());
    let read = OwnedRwLockReadGuard::try_map(read, |s| s.get(1..)).expect("kept");
    assert_eq!(&*read, "bc");
    assert!(Arc::clone(&lock).try_write_owned().is_err());
    drop(read);
    let write = Arc::clone(&lock).try_write_owned().unwrap();
    let first = OwnedRwLockWriteGuard::downgrade_map(write, |s| &s[..1]);
    assert_eq!(&*first, "a");
    drop(first);
    let mut whole = OwnedRwLockWriteGuard::into_mapped(lock.clone().try_write_owned().unwrap());
    whole.clear();
    drop(whole);
    assert!(lock.try_read().unwrap().is_empty());
}

/// A writer queued behind a reader is granted on the release, and its guard is the only way
/// to the data until it drops.
#[test]
fn a_queued_writer_gets_the_lock() {
    let lock = RwLock::new(0u64);
    let read = lock.try_read().unwrap();
    let mut write = pin!(lock.write());
    assert!(poll_once(write.as_mut()).is_pending());
    drop(read);
    let Poll::Ready(mut guard) = poll_once(write.as_mut()) else {
        panic!("granted");
    };
    *guard += 1;
    drop(guard);
    assert_eq!(*lock.try_read().unwrap(), 1);
}
