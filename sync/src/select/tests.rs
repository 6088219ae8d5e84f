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

#[test]
fn the_select_future_polls_its_pinned_futures_and_needs_no_heap() {
    // Case 0 never completes, case 1 does; `biased` so case 0 is polled first.
    let futures = (std::future::pending::<u32>(), std::future::ready(5u32));
    let select = Select::new(
        SelectDriver::<true, false>::new(enabled_mask([true, true])),
        futures,
        |case, futures: Pin<&mut (std::future::Pending<u32>, std::future::Ready<u32>)>, cx| {
            let futures = Pin::into_inner(futures);
            let polled = match case {
                0 => Pin::new(&mut futures.0).poll(cx),
                _ => Pin::new(&mut futures.1).poll(cx),
            };
            match polled {
                Poll::Ready(value) => CasePoll::Ready(value),
                Poll::Pending => CasePoll::Pending,
            }
        },
    );
    let mut select = std::pin::pin!(select);
    let mut cx = Context::from_waker(Waker::noop());
    assert!(matches!(
        std::future::Future::poll(select.as_mut(), &mut cx),
        Poll::Ready(Selected::Case(5))
    ));
}
