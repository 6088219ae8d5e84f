//! Internals of the mpsc state: what the leak pass is shown, and how permits move between the
//! free count, the line of reservations and their futures. The public behaviour is tested in
//! the root package (`tests/sync_mpsc.rs`).

use std::collections::HashSet;
use std::task::{Context, Poll, Waker};

use gort_gc::{Edge, Visitor};

use super::chan::Channel;
use super::reserve::{Acquire, WaitClosed};

/// Records the wakers a trace reports.
#[derive(Default)]
struct Wakers {
    holders: HashSet<usize>,
    reasons: Vec<&'static str>,
    edges: usize,
}

impl Visitor for Wakers {
    fn visit(&mut self, _: Edge) {
        self.edges += 1;
    }

    fn visit_waker(&mut self, holder: usize, _: &Waker, reason: &'static str) {
        assert!(self.holders.insert(holder), "one holder reported twice");
        self.reasons.push(reason);
    }
}

fn cx() -> Context<'static> {
    Context::from_waker(Waker::noop())
}

#[test]
fn the_leak_pass_sees_each_waiting_task_once_with_its_reason() {
    let chan = Channel::<u32>::allocate(Some(1));
    let mut cx = cx();
    assert!(chan.poll_recv(&mut cx).is_pending());
    chan.try_send(1).expect("a free slot");
    // The send took the receiver's waker to wake it; park it again on a drained channel.
    assert_eq!(chan.try_recv(), Ok(1));
    assert!(chan.poll_recv(&mut cx).is_pending());
    chan.try_send(2).expect("a free slot");
    let mut first = Acquire::new(&chan, 1);
    let mut second = Acquire::new(&chan, 1);
    assert!(first.poll_acquire(&mut cx, &mut None).is_pending());
    assert!(second.poll_acquire(&mut cx, &mut None).is_pending());
    let mut closed = WaitClosed::new(&chan);
    assert!(closed.poll_closed(&mut cx).is_pending());

    let mut seen = Wakers::default();
    chan.trace_waiting(&mut seen);
    seen.reasons.sort_unstable();
    assert_eq!(seen.reasons, ["chan send", "chan send", "chan send"]);
    assert_eq!(seen.edges, 0, "elements are opaque: no edges");

    // Empty the buffer: the receiver's waker is gone (taken by the send), the line moves.
    assert_eq!(chan.try_recv(), Ok(2));
    assert!(chan.poll_recv(&mut cx).is_pending());
    let mut seen = Wakers::default();
    chan.trace_waiting(&mut seen);
    seen.reasons.sort_unstable();
    assert_eq!(
        seen.reasons,
        ["chan receive", "chan send", "chan send"],
        "the granted reservation's waker was taken to wake it; the other two still wait"
    );
    drop((first, second, closed));
    let mut seen = Wakers::default();
    chan.trace_waiting(&mut seen);
    assert_eq!(seen.reasons, ["chan receive"]);
}

#[test]
fn freed_slots_fill_the_oldest_reservation_first_and_cancelling_returns_only_what_it_had() {
    let chan = Channel::<u32>::allocate(Some(3));
    let mut cx = cx();
    chan.try_acquire(2).expect("two free slots");
    // Wants 3: gathers the free one and queues for two more.
    let mut many = Acquire::new(&chan, 3);
    assert!(many.poll_acquire(&mut cx, &mut None).is_pending());
    assert_eq!(chan.capacity(), 0);
    let mut one = Acquire::new(&chan, 1);
    assert!(one.poll_acquire(&mut cx, &mut None).is_pending());
    // One slot back: it goes to the oldest, which still lacks one.
    chan.release(1);
    assert_eq!(chan.capacity(), 0);
    assert!(one.poll_acquire(&mut cx, &mut None).is_pending());
    // Cancelled with 2 gathered: both go on to `one` (which needs 1) and the free count.
    drop(many);
    assert_eq!(chan.capacity(), 1);
    assert_eq!(one.poll_acquire(&mut cx, &mut None), Poll::Ready(Ok(())));
    // `one` and the first reservation's 1 remaining slot are out: give them back.
    chan.release(2);
    assert_eq!(chan.capacity(), 3, "every slot is back, none twice");
}

#[test]
fn cancelled_reservations_leave_no_entry_behind() {
    let chan = Channel::<u32>::allocate(Some(1));
    let mut cx = cx();
    chan.try_send(0).expect("a free slot");
    for _ in 0..1000 {
        let mut acquire = Acquire::new(&chan, 1);
        assert!(acquire.poll_acquire(&mut cx, &mut None).is_pending());
    }
    let state = chan.lock();
    assert_eq!(
        state.reservations.iter().count(),
        0,
        "cancelled entries are gone"
    );
}

impl PartialEq for super::reserve::Closed {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl std::fmt::Debug for super::reserve::Closed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Closed")
    }
}
