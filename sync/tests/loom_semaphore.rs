//! loom models of the locks' batch semaphore (`src/batch_semaphore.rs`) on the real code
//! (`src/loom.rs` swaps in loom's mutex and atomics): the lock-free release racing a waiter's
//! registration (two acquirers and one permit), a cancelled acquire that was assigned part of
//! its permits giving them on, and `close` racing an acquire. A lost wakeup shows as a
//! deadlock of `loom::future::block_on`; a lost or doubled permit as a wrong final count.
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test -p gort-sync --test loom_semaphore --release
//! --target-dir target/loom`.
#![cfg(loom)]

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use gort_sync::batch_semaphore::{BatchSemaphore, Closed};
use loom::future::block_on;
use loom::sync::Arc;
use loom::thread;

fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(3);
    builder.check(f);
}

/// Two acquirers of one permit and a release on a third thread: each gets the permit in
/// turn (whether it parked or took it on the fast path), and it ends back in the count.
#[test]
fn two_acquirers_share_one_released_permit() {
    model(|| {
        let semaphore = Arc::new(BatchSemaphore::new(0));
        let acquirers: Vec<_> = (0..2)
            .map(|_| {
                let semaphore = Arc::clone(&semaphore);
                thread::spawn(move || {
                    block_on(semaphore.acquire(1)).expect("never closed");
                    semaphore.release(1);
                })
            })
            .collect();
        semaphore.release(1);
        for acquirer in acquirers {
            acquirer.join().unwrap();
        }
        assert_eq!(semaphore.available_permits(), 1);
    });
}

/// An acquire of two that was assigned one is dropped while a release and another acquirer
/// race it: the permits it had go on to the acquirer behind it or back to the count, never
/// lost, and the other acquirer is not left asleep.
#[test]
fn a_cancelled_partial_acquire_gives_its_permits_on() {
    model(|| {
        let semaphore = Arc::new(BatchSemaphore::new(1));
        let mut cx = Context::from_waker(Waker::noop());
        let mut first = Box::pin(semaphore.acquire(2));
        assert!(first.as_mut().poll(&mut cx).is_pending(), "one of two");
        let releaser = {
            let semaphore = Arc::clone(&semaphore);
            thread::spawn(move || semaphore.release(1))
        };
        let second = {
            let semaphore = Arc::clone(&semaphore);
            thread::spawn(move || {
                block_on(semaphore.acquire(1)).expect("never closed");
                semaphore.release(1);
            })
        };
        drop(first);
        releaser.join().unwrap();
        second.join().unwrap();
        assert_eq!(semaphore.available_permits(), 2);
    });
}

/// `close` racing a parked (or parking) acquire of two, with a release of one in between:
/// the acquire fails, and the permit it may have been assigned comes back to the count.
#[test]
fn close_racing_an_acquire_fails_it_and_keeps_the_permits() {
    model(|| {
        let semaphore = Arc::new(BatchSemaphore::new(0));
        let acquirer = {
            let semaphore = Arc::clone(&semaphore);
            thread::spawn(move || block_on(semaphore.acquire(2)))
        };
        let releaser = {
            let semaphore = Arc::clone(&semaphore);
            thread::spawn(move || semaphore.release(1))
        };
        semaphore.close();
        assert_eq!(acquirer.join().unwrap(), Err(Closed));
        releaser.join().unwrap();
        assert!(semaphore.is_closed());
        assert_eq!(semaphore.available_permits(), 1);
    });
}

/// A permit handed to a parked acquire whose future is then polled on another thread: the
/// grant made under the lock is seen by the poll (no permit is counted twice).
#[test]
fn a_grant_is_collected_once() {
    model(|| {
        let semaphore = Arc::new(BatchSemaphore::new(0));
        let mut cx = Context::from_waker(Waker::noop());
        let mut acquire = pin!(semaphore.acquire(1));
        assert!(acquire.as_mut().poll(&mut cx).is_pending());
        let releaser = {
            let semaphore = Arc::clone(&semaphore);
            thread::spawn(move || semaphore.release(1))
        };
        releaser.join().unwrap();
        assert_eq!(acquire.as_mut().poll(&mut cx), Poll::Ready(Ok(())));
        assert_eq!(semaphore.available_permits(), 0);
        semaphore.release(1);
        assert_eq!(semaphore.available_permits(), 1);
    });
}
