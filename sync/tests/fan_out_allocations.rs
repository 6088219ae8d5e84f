//! Once warm, a broadcast or watch fan-out allocates nothing in the channel: parking a hundred
//! receivers, one send waking them all and each receiving is free of allocation but for the
//! boxes this test puts the futures in. A counting global allocator (per thread, so the test
//! harness's other threads do not count) checks it.
#![cfg(not(loom))]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use gort_sync::{broadcast, watch};

/// The system allocator, counting this thread's allocations.
struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: forwards to `System` unchanged; the count is a thread-local `Cell` with no
// destructor, so touching it never allocates or re-enters the allocator.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|count| count.set(count.get() + 1));
        // SAFETY: the caller's contract is `System`'s.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|count| count.set(count.get() + 1));
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// This thread's allocations so far.
fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

const RECEIVERS: usize = 100;

/// A waker that does nothing (waking a task is the executor's cost, not the channel's).
struct Quiet;

impl Wake for Quiet {
    fn wake(self: Arc<Self>) {}
}

/// Polls every future once, expecting them all to park.
fn park_all<F: Future>(waits: &mut [Pin<Box<F>>], cx: &mut Context<'_>) {
    for wait in waits {
        assert!(wait.as_mut().poll(cx).is_pending());
    }
}

/// Polls every future once, expecting them all to be ready.
fn finish_all<F: Future>(waits: &mut [Pin<Box<F>>], cx: &mut Context<'_>) {
    for wait in waits {
        assert!(matches!(wait.as_mut().poll(cx), Poll::Ready(_)));
    }
}

#[test]
fn a_warm_broadcast_fan_out_allocates_only_the_test_boxes() {
    let waker = Waker::from(Arc::new(Quiet));
    let mut cx = Context::from_waker(&waker);
    let (tx, rx) = broadcast::channel::<u64>(16);
    let mut receivers: Vec<_> = (1..RECEIVERS).map(|_| tx.subscribe()).collect();
    receivers.push(rx);
    let mut round = |value: u64| {
        let before = allocations();
        {
            let mut waits: Vec<_> = Vec::with_capacity(RECEIVERS);
            waits.extend(receivers.iter_mut().map(|rx| Box::pin(rx.recv())));
            park_all(&mut waits, &mut cx);
            tx.send(value).unwrap();
            finish_all(&mut waits, &mut cx);
        }
        allocations() - before
    };
    round(0);
    // The vector and one box per receiver, nothing in the channel.
    assert_eq!(round(1), 1 + RECEIVERS);
    assert_eq!(round(2), 1 + RECEIVERS);
}

#[test]
fn a_warm_watch_fan_out_allocates_only_the_test_boxes() {
    let waker = Waker::from(Arc::new(Quiet));
    let mut cx = Context::from_waker(&waker);
    let (tx, rx) = watch::channel(0u64);
    let mut receivers: Vec<_> = (0..RECEIVERS).map(|_| rx.clone()).collect();
    let mut round = |value: u64| {
        let before = allocations();
        {
            let mut waits: Vec<_> = Vec::with_capacity(RECEIVERS);
            waits.extend(receivers.iter_mut().map(|rx| Box::pin(rx.changed())));
            park_all(&mut waits, &mut cx);
            tx.send(value).unwrap();
            finish_all(&mut waits, &mut cx);
        }
        allocations() - before
    };
    round(1);
    assert_eq!(round(2), 1 + RECEIVERS);
    assert_eq!(round(3), 1 + RECEIVERS);
}
