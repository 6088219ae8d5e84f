//! Unit tests of `PollDesc`: readiness, clearing, closing and the waiter lists.

use super::*;
use futures::task::noop_waker;

fn poll(desc: &PollDesc, direction: Direction) -> Poll<io::Result<ReadyEvent>> {
    let waker = noop_waker();
    let parked = ParkedCount::new(0);
    desc.poll_ready(direction, &mut Context::from_waker(&waker), &parked)
}

#[test]
fn a_stale_clear_keeps_the_new_edge() {
    let desc = PollDesc::new(0);
    let Poll::Ready(Ok(before)) = poll(&desc, Direction::Read) else {
        panic!("a new descriptor starts readable");
    };
    // An edge arrives while the operation that will return WouldBlock is in flight.
    desc.set_ready(Ready::READABLE, true, &mut Vec::new());
    desc.clear_readiness(before);
    assert!(
        poll(&desc, Direction::Read).is_ready(),
        "the new edge was lost"
    );
}

#[test]
fn a_current_clear_parks_the_next_poll_until_an_edge() {
    let desc = PollDesc::new(0);
    let Poll::Ready(Ok(event)) = poll(&desc, Direction::Write) else {
        panic!("a new descriptor starts writable");
    };
    desc.clear_readiness(event);
    assert!(poll(&desc, Direction::Write).is_pending());
    assert!(
        poll(&desc, Direction::Read).is_ready(),
        "directions are independent"
    );
    let mut wake = Vec::new();
    assert_eq!(desc.set_ready(Ready::WRITABLE, false, &mut wake), 1);
    assert!(poll(&desc, Direction::Write).is_ready());
}

/// Ready at the current tick, as a reader would see it.
fn ready_read(desc: &PollDesc) -> ReadyEvent {
    match poll(desc, Direction::Read) {
        Poll::Ready(Ok(event)) => event,
        other => panic!("expected readable, got {other:?}"),
    }
}

#[test]
fn a_short_read_clears_only_when_no_fin_can_be_pending() {
    // (how the last edge was reported, whether a short read may clear readiness)
    let cases = [
        (Some(false), true), // the kernel said: data, no FIN
        (Some(true), false), // data and FIN: the next read returns 0 at once
        (None, false),       // unknown kind (`polling`'s wait): maybe a FIN
    ];
    for (read_closed, clears) in cases {
        let desc = PollDesc::new(0);
        desc.clear_readiness(ready_read(&desc));
        let ready = match read_closed {
            Some(true) => Ready::READABLE | Ready::READ_CLOSED,
            _ => Ready::READABLE,
        };
        desc.set_ready(ready, read_closed.is_some(), &mut Vec::new());
        desc.clear_after_short_transfer(ready_read(&desc));
        assert_eq!(
            poll(&desc, Direction::Read).is_pending(),
            clears,
            "edge {read_closed:?}"
        );
    }
}

#[test]
fn a_would_block_read_settles_an_unsure_edge_but_not_a_fin() {
    let desc = PollDesc::new(0);
    desc.set_ready(Ready::READABLE, false, &mut Vec::new());
    desc.clear_readiness(ready_read(&desc));
    desc.set_ready(Ready::READABLE, true, &mut Vec::new());
    desc.clear_after_short_transfer(ready_read(&desc));
    assert!(
        poll(&desc, Direction::Read).is_pending(),
        "unsure was settled"
    );

    let desc = PollDesc::new(0);
    desc.set_ready(Ready::READABLE | Ready::READ_CLOSED, true, &mut Vec::new());
    desc.clear_readiness(ready_read(&desc));
    desc.set_ready(Ready::READABLE, true, &mut Vec::new());
    desc.clear_after_short_transfer(ready_read(&desc));
    assert!(poll(&desc, Direction::Read).is_ready(), "a FIN is forever");
}

#[test]
fn close_fails_waiters() {
    let desc = PollDesc::new(0);
    let Poll::Ready(Ok(event)) = poll(&desc, Direction::Read) else {
        panic!("a new descriptor starts readable");
    };
    desc.clear_readiness(event);
    assert!(poll(&desc, Direction::Read).is_pending());
    let mut wake = Vec::new();
    assert_eq!(desc.close(&mut wake), 1);
    match poll(&desc, Direction::Read) {
        Poll::Ready(Err(err)) => assert_eq!(err.kind(), io::ErrorKind::NotConnected),
        other => panic!("expected the closed error, got {other:?}"),
    }
}

fn poll_interest(desc: &PollDesc, interest: Interest) -> Poll<io::Result<ReadyEvent>> {
    let waker = noop_waker();
    let parked = ParkedCount::new(0);
    desc.poll_interest(interest, &mut Context::from_waker(&waker), &parked)
}

fn ready_of(poll: Poll<io::Result<ReadyEvent>>) -> Option<Ready> {
    match poll {
        Poll::Ready(Ok(event)) => Some(event.ready()),
        Poll::Ready(Err(err)) => panic!("closed: {err}"),
        Poll::Pending => None,
    }
}

#[test]
fn an_unready_descriptor_waits_for_the_first_edge() {
    let desc = PollDesc::new_unready(0);
    assert_eq!(ready_of(poll_interest(&desc, Interest::READABLE)), None);
    assert_eq!(ready_of(poll_interest(&desc, Interest::WRITABLE)), None);
    let mut wake = Vec::new();
    desc.set_ready(Ready::WRITABLE, true, &mut wake);
    assert_eq!(wake.len(), 1, "the writable waiter, not the reader");
    assert_eq!(
        ready_of(poll_interest(
            &desc,
            Interest::READABLE | Interest::WRITABLE
        )),
        Some(Ready::WRITABLE)
    );
    assert_eq!(ready_of(poll_interest(&desc, Interest::READABLE)), None);
}

#[test]
fn closed_readiness_meets_an_interest_but_not_a_direction_and_is_sticky() {
    let desc = PollDesc::new_unready(0);
    desc.set_ready(Ready::READABLE | Ready::READ_CLOSED, true, &mut Vec::new());
    let event = match poll(&desc, Direction::Read) {
        Poll::Ready(Ok(event)) => event,
        other => panic!("readable: {other:?}"),
    };
    assert_eq!(event.ready(), Ready::READABLE | Ready::READ_CLOSED);
    desc.clear_readiness(event);
    assert!(
        poll(&desc, Direction::Read).is_pending(),
        "a retry loop parks"
    );
    assert_eq!(
        ready_of(poll_interest(&desc, Interest::READABLE)),
        Some(Ready::READ_CLOSED),
        "read-closed stays and meets readable interest, as in tokio"
    );
}

#[test]
fn clearing_part_of_an_event_keeps_the_rest() {
    let desc = PollDesc::new(0);
    let Some(both) = ready_of(poll_interest(
        &desc,
        Interest::READABLE | Interest::WRITABLE,
    )) else {
        panic!("a new socket descriptor starts ready");
    };
    assert_eq!(both, Ready::READABLE | Ready::WRITABLE);
    let Poll::Ready(Ok(event)) = poll_interest(&desc, Interest::READABLE | Interest::WRITABLE)
    else {
        unreachable!()
    };
    desc.clear_readiness(event.with_ready(Ready::READABLE));
    assert_eq!(
        ready_of(poll_interest(
            &desc,
            Interest::READABLE | Interest::WRITABLE
        )),
        Some(Ready::WRITABLE)
    );
}

#[test]
fn each_list_is_woken_by_its_own_kinds() {
    // (waiting for, edge, woken)
    let cases = [
        (Interest::READABLE, Ready::WRITABLE, false),
        (Interest::READABLE, Ready::READ_CLOSED, true),
        (Interest::WRITABLE, Ready::WRITE_CLOSED, true),
        (Interest::ERROR, Ready::READABLE, false),
        (Interest::ERROR, Ready::ERROR, true),
        #[cfg(any(target_os = "linux", target_os = "android"))]
        (Interest::PRIORITY, Ready::READABLE, false),
        #[cfg(any(target_os = "linux", target_os = "android"))]
        (Interest::PRIORITY, Ready::PRIORITY, true),
        #[cfg(any(target_os = "linux", target_os = "android"))]
        (Interest::PRIORITY, Ready::READ_CLOSED, true),
    ];
    for (interest, edge, woken) in cases {
        let desc = PollDesc::new_unready(0);
        assert!(poll_interest(&desc, interest).is_pending());
        let mut wake = Vec::new();
        desc.set_ready(edge, true, &mut wake);
        assert_eq!(wake.len() == 1, woken, "{interest:?} after {edge:?}");
        assert_eq!(
            poll_interest(&desc, interest).is_ready(),
            woken,
            "{interest:?} after {edge:?}"
        );
    }
}

/// A waker that counts its wakes.
struct Count(std::sync::atomic::AtomicUsize);

impl futures::task::ArcWake for Count {
    fn wake_by_ref(count: &std::sync::Arc<Count>) {
        count.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn counting_waker() -> (std::sync::Arc<Count>, Waker) {
    let count = std::sync::Arc::new(Count(std::sync::atomic::AtomicUsize::new(0)));
    let waker = futures::task::waker(std::sync::Arc::clone(&count));
    (count, waker)
}

#[test]
fn a_poll_function_keeps_only_its_latest_waker_and_waiters_keep_theirs() {
    let desc = PollDesc::new_unready(0);
    let parked = ParkedCount::new(0);
    let (first, first_waker) = counting_waker();
    let (second, second_waker) = counting_waker();
    let (waiter, waiter_waker) = counting_waker();
    for waker in [&first_waker, &second_waker] {
        let mut cx = Context::from_waker(waker);
        assert!(desc
            .poll_ready_latest(Direction::Read, &mut cx, &parked)
            .is_pending());
    }
    let mut cx = Context::from_waker(&waiter_waker);
    assert!(desc
        .poll_ready(Direction::Read, &mut cx, &parked)
        .is_pending());
    assert_eq!(parked.load(Ordering::SeqCst), 2, "one slot and one waiter");
    let mut wake = Vec::new();
    assert_eq!(desc.set_ready(Ready::READABLE, true, &mut wake), 2);
    wake.into_iter().for_each(Waker::wake);
    let counts = [&first, &second, &waiter].map(|c| c.0.load(Ordering::SeqCst));
    assert_eq!(counts, [0, 1, 1], "the replaced waker is not woken");
}

#[test]
fn closing_wakes_the_latest_waker_slots_too() {
    let desc = PollDesc::new_unready(0);
    let parked = ParkedCount::new(0);
    let (count, waker) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    assert!(desc
        .poll_ready_latest(Direction::Write, &mut cx, &parked)
        .is_pending());
    let mut wake = Vec::new();
    assert_eq!(desc.close(&mut wake), 1);
    wake.into_iter().for_each(Waker::wake);
    assert_eq!(count.0.load(Ordering::SeqCst), 1);
}
