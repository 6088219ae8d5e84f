//! The driver over plain cases (no channels): order, `biased`, patterns, `default`, `else`,
//! and the random start. Small enough for Miri (`cargo +nightly miri test -p gort-sync --lib
//! select`).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use super::{enabled_mask, random_start, CasePoll, Select, SelectDriver, Selected};

/// Polls case `case` of a select whose cases are given as outcomes, recording the order.
fn scripted(outcomes: &[CasePoll<u32>], polled: &mut Vec<usize>, case: usize) -> CasePoll<u32> {
    polled.push(case);
    match &outcomes[case] {
        CasePoll::Pending => CasePoll::Pending,
        CasePoll::Ready(value) => CasePoll::Ready(*value),
        CasePoll::Mismatch => CasePoll::Mismatch,
    }
}

fn poll_driver<const BIASED: bool, const DEFAULT: bool>(
    driver: &mut SelectDriver<BIASED, DEFAULT>,
    outcomes: &[CasePoll<u32>],
    polled: &mut Vec<usize>,
) -> Poll<Selected<u32>> {
    let mut cx = Context::from_waker(Waker::noop());
    driver.poll(&mut cx, |case, _| scripted(outcomes, polled, case))
}

#[test]
fn the_mask_has_a_bit_per_true_precondition() {
    assert_eq!(enabled_mask([]), 0);
    assert_eq!(enabled_mask([true, false, true]), 0b101);
    assert_eq!(enabled_mask([true; 64]), u64::MAX);
}

#[test]
fn biased_polls_in_order_and_stops_at_the_first_ready_case() {
    use CasePoll::{Pending, Ready};
    let mut driver = SelectDriver::<true, false>::new(0b1111);
    let mut polled = Vec::new();
    let outcome = poll_driver(
        &mut driver,
        &[Pending, Pending, Ready(7), Ready(8)],
        &mut polled,
    );
    assert!(matches!(outcome, Poll::Ready(Selected::Case(7))));
    assert_eq!(polled, [0, 1, 2]);
}

#[test]
fn disabled_cases_are_not_polled() {
    use CasePoll::{Pending, Ready};
    let mut driver = SelectDriver::<true, false>::new(0b1010);
    let mut polled = Vec::new();
    let outcome = poll_driver(
        &mut driver,
        &[Ready(1), Pending, Ready(3), Pending],
        &mut polled,
    );
    assert!(outcome.is_pending());
    assert_eq!(polled, [1, 3]);
}

#[test]
fn a_mismatch_disables_its_case_until_all_are_disabled() {
    use CasePoll::{Mismatch, Pending};
    let mut driver = SelectDriver::<true, false>::new(0b11);
    let mut polled = Vec::new();
    assert!(poll_driver(&mut driver, &[Mismatch, Pending], &mut polled).is_pending());
    assert_eq!(polled, [0, 1]);
    polled.clear();
    let outcome = poll_driver(&mut driver, &[Mismatch, Mismatch], &mut polled);
    assert!(matches!(outcome, Poll::Ready(Selected::AllDisabled)));
    assert_eq!(
        polled,
        [1],
        "the case that mismatched before is not polled again"
    );
}

#[test]
fn default_ends_a_select_with_nothing_ready_but_not_one_with_no_case_enabled() {
    use CasePoll::Pending;
    let mut driver = SelectDriver::<false, true>::new(0b11);
    let outcome = poll_driver(&mut driver, &[Pending, Pending], &mut Vec::new());
    assert!(matches!(outcome, Poll::Ready(Selected::Default)));
    let mut driver = SelectDriver::<false, true>::new(0);
    let outcome = poll_driver(&mut driver, &[Pending, Pending], &mut Vec::new());
    assert!(matches!(outcome, Poll::Ready(Selected::AllDisabled)));
}

#[test]
fn an_unbiased_select_polls_every_enabled_case_once_from_some_start() {
    use CasePoll::Pending;
    let mut starts = [0usize; 5];
    for _ in 0..200 {
        let mut driver = SelectDriver::<false, false>::new(0b11011);
        let mut polled = Vec::new();
        assert!(poll_driver(
            &mut driver,
            &[Pending, Pending, Pending, Pending, Pending],
            &mut polled
        )
        .is_pending());
        let mut sorted = polled.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, [0, 1, 3, 4]);
        // A rotation of the enabled cases.
        let at = [0, 1, 3, 4].iter().position(|&c| c == polled[0]).unwrap();
        let rotated: Vec<usize> = (0..4).map(|i| [0, 1, 3, 4][(at + i) % 4]).collect();
        assert_eq!(polled, rotated);
        starts[polled[0]] += 1;
    }
    assert_eq!(starts[2], 0);
    for case in [0, 1, 3, 4] {
        assert!(starts[case] > 0, "case {case} never started: {starts:?}");
    }
}

#[test]
fn the_random_start_is_an_enabled_case() {
    for mask in [1u64, 0b100, 1 << 63, 0b1001_0000, u64::MAX, 0xF0F0] {
        for _ in 0..100 {
            let start = random_start(mask);
            assert!(mask & (1 << start) != 0, "{start} of {mask:#b}");
        }
    }
    assert_eq!(random_start(0), 0);
}

/// The expansion's poll, written out: it projects the pinned tuple onto its fields once, then
/// runs the driver over them.
fn poll_pinned_pair<A: Future<Output = u32>, B: Future<Output = u32>>(
    futures: Pin<&mut (A, B)>,
    driver: &mut SelectDriver<true, false>,
    cx: &mut Context<'_>,
) -> Poll<Selected<u32>> {
    // SAFETY: a field of the pinned tuple is pinned too: the select never moves the tuple or
    // any of its fields (the same projection the `select!` expansion makes).
    let (mut first, mut second) = unsafe {
        let pair = Pin::get_unchecked_mut(futures);
        (
            Pin::new_unchecked(&mut pair.0),
            Pin::new_unchecked(&mut pair.1),
        )
    };
    driver.poll(cx, |case, cx| {
        let polled = match case {
            0 => first.as_mut().poll(cx),
            _ => second.as_mut().poll(cx).map(|value| value + 100),
        };
        match polled {
            Poll::Ready(value) => CasePoll::Ready(value),
            Poll::Pending => CasePoll::Pending,
        }
    })
}

#[test]
fn the_select_future_polls_its_pinned_futures_in_place() {
    let (tx, rx) = crate::chan::<u32>(0);
    // Two `!Unpin` futures: one borrows a local of its own across its await.
    let futures = (
        async {
            let local = 5;
            let borrowed = &local;
            rx.recv().await.map_or(0, |value| value + *borrowed)
        },
        std::future::pending::<u32>(),
    );
    let select = Select::new(
        SelectDriver::<true, false>::new(enabled_mask([true, true])),
        futures,
        poll_pinned_pair,
    );
    let mut select = std::pin::pin!(select);
    let mut cx = Context::from_waker(Waker::noop());
    assert!(select.as_mut().poll(&mut cx).is_pending());
    assert_eq!(
        tx.try_send(2),
        Ok(()),
        "the select is parked on the channel"
    );
    assert!(matches!(
        select.as_mut().poll(&mut cx),
        Poll::Ready(Selected::Case(7))
    ));
}

/// Two `Unpin` channel cases: the first registers, the second is polled after it, and phase 2
/// then uses the first's pointer (which a `&mut` to the whole tuple per case would have
/// invalidated: Miri checks this one).
#[test]
fn the_select_future_over_unpin_channel_cases_commits_the_ready_one() {
    let (_tx1, rx1) = crate::chan::<u32>(1);
    let (tx2, rx2) = crate::chan::<u32>(1);
    tx2.try_send(3).unwrap();
    let select = Select::new(
        SelectDriver::<true, false>::new(enabled_mask([true, true])),
        (rx1.recv(), rx2.recv()),
        |futures: Pin<&mut (
            crate::chan::RecvFuture<'_, u32>,
            crate::chan::RecvFuture<'_, u32>,
        )>,
         driver: &mut SelectDriver<true, false>,
         cx: &mut Context<'_>| {
            let (first, second) = Pin::into_inner(futures);
            driver.poll(cx, |case, cx| {
                let polled = match case {
                    0 => Pin::new(&mut *first).poll(cx),
                    _ => Pin::new(&mut *second).poll(cx),
                };
                match polled {
                    Poll::Ready(Some(value)) => CasePoll::Ready(value),
                    Poll::Ready(None) => CasePoll::Mismatch,
                    Poll::Pending => CasePoll::Pending,
                }
            })
        },
    );
    let mut select = std::pin::pin!(select);
    let mut cx = Context::from_waker(Waker::noop());
    assert!(matches!(
        select.as_mut().poll(&mut cx),
        Poll::Ready(Selected::Case(3))
    ));
}

/// More channel cases than phase 2 keeps on the stack: it spills, and still commits the one
/// ready case, or parks on all of them and is committed by a peer on the last.
#[test]
fn a_select_over_many_channels_commits_exactly_one() {
    const CASES: usize = 7;
    let channels: Vec<_> = (0..CASES).map(|_| crate::chan::<usize>(1)).collect();
    let poll_select =
        |driver: &mut SelectDriver<true, false>,
         receives: &mut Vec<crate::chan::RecvFuture<'_, usize>>| {
            let mut cx = Context::from_waker(Waker::noop());
            // One `&mut` per element, made once per poll (not the whole list per case).
            let mut receives: Vec<&mut _> = receives.iter_mut().collect();
            driver.poll(&mut cx, |case, cx| {
                match Pin::new(&mut *receives[case]).poll(cx) {
                    Poll::Ready(Some(value)) => CasePoll::Ready(value),
                    Poll::Ready(None) => CasePoll::Mismatch,
                    Poll::Pending => CasePoll::Pending,
                }
            })
        };
    channels[5].0.try_send(55).unwrap();
    let mut driver = SelectDriver::new(u64::MAX >> (64 - CASES));
    let mut receives: Vec<_> = channels.iter().map(|(_, rx)| rx.recv()).collect();
    assert!(matches!(
        poll_select(&mut driver, &mut receives),
        Poll::Ready(Selected::Case(55))
    ));
    drop(receives);

    let mut driver = SelectDriver::new(u64::MAX >> (64 - CASES));
    let mut receives: Vec<_> = channels.iter().map(|(_, rx)| rx.recv()).collect();
    assert!(poll_select(&mut driver, &mut receives).is_pending());
    channels[CASES - 1].0.try_send(66).unwrap();
    assert!(matches!(
        poll_select(&mut driver, &mut receives),
        Poll::Ready(Selected::Case(66))
    ));
    drop(receives);
    for (_, rx) in &channels {
        assert!(rx.try_recv().is_err(), "a losing case took nothing");
    }
}
