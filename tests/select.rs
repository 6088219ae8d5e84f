//! `select!`: exactly one case commits (atomic over channel operations, including rendezvous
//! sends parked on several channels), `default`, fairness, `biased;`, patterns and `if`
//! preconditions, any future as a case, and cancellation; and what a select costs: its size
//! (tokio's) and no allocation unless a channel case parks, which a counting global allocator
//! checks.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::collections::HashSet;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use gort::{chan, Receiver, Sender};

use common::{runtime, watchdog};

/// Two tasks each `select!` a send of a unique value on two rendezvous channels, with one
/// receiver per channel, 100k times each on 2 threads: every value is received exactly once,
/// on the channel its select says it was sent on.
#[test]
fn selects_sending_on_two_rendezvous_channels_never_lose_or_duplicate() {
    let _watchdog = watchdog(Duration::from_secs(300), "select atomicity");
    const ROUNDS: u64 = 100_000;
    runtime(2).block_on(async {
        let (tx1, rx1) = chan::<u64>(0);
        let (tx2, rx2) = chan::<u64>(0);
        let selectors: Vec<_> = (0..2u64)
            .map(|id| {
                let (tx1, tx2) = (tx1.clone(), tx2.clone());
                gort::spawn(async move {
                    let mut sent = (Vec::new(), Vec::new());
                    for round in 0..ROUNDS {
                        let value = id * ROUNDS + round;
                        gort::select! {
                            result = tx1.send(value) => {
                                result.expect("open");
                                sent.0.push(value);
                            }
                            result = tx2.send(value) => {
                                result.expect("open");
                                sent.1.push(value);
                            }
                        }
                    }
                    sent
                })
            })
            .collect();
        drop((tx1, tx2));
        let receive_all = |rx: Receiver<u64>| {
            gort::spawn(async move {
                let mut got = Vec::new();
                while let Some(value) = rx.recv().await {
                    got.push(value);
                }
                got
            })
        };
        let (got1, got2) = (receive_all(rx1), receive_all(rx2));
        let mut sent1 = HashSet::new();
        let mut sent2 = HashSet::new();
        for selector in selectors {
            let (on1, on2) = selector.await.expect("selector");
            sent1.extend(on1);
            sent2.extend(on2);
        }
        let got1 = got1.await.expect("receiver 1");
        let got2 = got2.await.expect("receiver 2");
        assert_eq!(
            got1.len() + got2.len(),
            2 * ROUNDS as usize,
            "values lost or duplicated"
        );
        assert_eq!(got1.iter().copied().collect::<HashSet<_>>(), sent1);
        assert_eq!(got2.iter().copied().collect::<HashSet<_>>(), sent2);
        assert_eq!(
            got1.len(),
            sent1.len(),
            "a value received twice on channel 1"
        );
        assert_eq!(
            got2.len(),
            sent2.len(),
            "a value received twice on channel 2"
        );
    });
}

/// The same with receiving selects: two tasks each `select!` a receive on two rendezvous
/// channels fed by two senders; every value arrives exactly once.
#[test]
fn selects_receiving_on_two_rendezvous_channels_never_lose_or_duplicate() {
    let _watchdog = watchdog(Duration::from_secs(300), "receiving select atomicity");
    const PER_SENDER: u64 = 50_000;
    runtime(2).block_on(async {
        let (tx1, rx1) = chan::<u64>(0);
        let (tx2, rx2) = chan::<u64>(0);
        let send_all = |tx: Sender<u64>, base: u64| {
            gort::spawn(async move {
                for i in 0..PER_SENDER {
                    tx.send(base + i).await.expect("open");
                }
            })
        };
        let senders = [send_all(tx1, 0), send_all(tx2, PER_SENDER)];
        let selectors: Vec<_> = (0..2)
            .map(|_| {
                let (rx1, rx2) = (rx1.clone(), rx2.clone());
                gort::spawn(async move {
                    let mut got = Vec::new();
                    let (mut open1, mut open2) = (true, true);
                    while open1 || open2 {
                        gort::select! {
                            value = rx1.recv(), if open1 => match value {
                                Some(value) => got.push(value),
                                None => open1 = false,
                            },
                            value = rx2.recv(), if open2 => match value {
                                Some(value) => got.push(value),
                                None => open2 = false,
                            },
                        }
                    }
                    got
                })
            })
            .collect();
        drop((rx1, rx2));
        for sender in senders {
            sender.await.expect("sender");
        }
        let mut seen = HashSet::new();
        for selector in selectors {
            for value in selector.await.expect("selector") {
                assert!(seen.insert(value), "{value} received twice");
            }
        }
        assert_eq!(seen.len(), 2 * PER_SENDER as usize, "values lost");
    });
}

/// `default` runs when no case is ready, and only then.
#[gort::test]
async fn default_runs_when_nothing_is_ready() {
    let (tx, rx) = chan::<u32>(1);
    let picked = gort::select! {
        v = rx.recv() => v,
        default => None,
    };
    assert_eq!(picked, None);
    tx.send(3).await.unwrap();
    let picked = gort::select! {
        v = rx.recv() => v,
        default => None,
    };
    assert_eq!(picked, Some(3));
    // The default of the first select left nothing parked: a later send is not swallowed.
    tx.try_send(4).unwrap();
    assert_eq!(rx.try_recv(), Ok(4));
}

/// A losing receive consumes nothing: with both channels ready, one select takes one value and
/// the other channel keeps its own.
#[gort::test]
async fn a_losing_receive_consumes_nothing() {
    for _ in 0..100 {
        let (tx1, rx1) = chan::<u32>(1);
        let (tx2, rx2) = chan::<u32>(1);
        tx1.try_send(1).unwrap();
        tx2.try_send(2).unwrap();
        let won = gort::select! {
            Some(v) = rx1.recv() => v,
            Some(v) = rx2.recv() => v,
        };
        assert_eq!(
            rx1.len() + rx2.len(),
            1,
            "select {won}: a losing case consumed"
        );
        let left = if won == 1 {
            rx2.try_recv()
        } else {
            rx1.try_recv()
        };
        assert_eq!(left, Ok(3 - won));
    }
}

/// Over 10k selects on two always-ready channels, each case wins 40-60% of the time.
#[gort::test]
async fn selects_are_fair_between_ready_cases() {
    let (tx1, rx1) = chan::<u8>(1);
    let (tx2, rx2) = chan::<u8>(1);
    let mut first = 0u32;
    const SELECTS: u32 = 10_000;
    for _ in 0..SELECTS {
        tx1.try_send(1).ok();
        tx2.try_send(2).ok();
        let won = gort::select! {
            Some(v) = rx1.recv() => v,
            Some(v) = rx2.recv() => v,
        };
        if won == 1 {
            first += 1;
        }
    }
    let share = f64::from(first) / f64::from(SELECTS);
    assert!(
        (0.4..=0.6).contains(&share),
        "case 1 won {share:.3} of the selects"
    );
}

/// `biased;` always takes the first ready case.
#[gort::test]
async fn biased_takes_the_first_ready_case() {
    let (tx1, rx1) = chan::<u8>(1);
    let (tx2, rx2) = chan::<u8>(1);
    for _ in 0..1000 {
        tx1.try_send(1).ok();
        tx2.try_send(2).ok();
        let won = gort::select! {
            biased;
            Some(v) = rx1.recv() => v,
            Some(v) = rx2.recv() => v,
        };
        assert_eq!(won, 1);
    }
    assert_eq!(rx2.try_recv(), Ok(2));
}

/// A parked select is completed by a later send on either channel, and by a timer.
#[test]
fn a_parked_select_wakes_for_a_send_or_a_timer() {
    let _watchdog = watchdog(Duration::from_secs(60), "parked select");
    runtime(2).block_on(async {
        let (tx1, rx1) = chan::<u32>(0);
        let (_tx2, rx2) = chan::<u32>(0);
        let selecting = gort::spawn(async move {
            gort::select! {
                Some(v) = rx1.recv() => v,
                Some(v) = rx2.recv() => v + 100,
            }
        });
        gort::time::sleep(Duration::from_millis(10)).await;
        tx1.send(7).await.expect("the select takes it");
        assert_eq!(selecting.await.unwrap(), 7);

        let (_keep, never) = chan::<u32>(0);
        let picked = gort::select! {
            v = never.recv() => v,
            _ = gort::time::sleep(Duration::from_millis(5)) => Some(99),
        };
        assert_eq!(picked, Some(99));
    });
}

/// A case whose output does not match its pattern is disabled and the select goes on; with
/// every case disabled, `else` runs; an `if false` case is never polled.
#[gort::test]
async fn patterns_and_preconditions_disable_cases() {
    let (tx, rx) = chan::<u32>(1);
    tx.close();
    let (tx2, rx2) = chan::<u32>(1);
    tx2.try_send(5).unwrap();
    let picked = gort::select! {
        Some(v) = rx.recv() => v,
        Some(v) = rx2.recv() => v,
    };
    assert_eq!(picked, 5, "the closed channel's None disabled its case");

    let (tx3, rx3) = chan::<u32>(1);
    tx3.try_send(6).unwrap();
    let picked = gort::select! {
        v = rx3.recv(), if false => v,
        else => None,
    };
    assert_eq!(picked, None);
    assert_eq!(rx3.try_recv(), Ok(6), "a disabled case received");

    let picked = gort::select! {
        Some(v) = rx.recv() => v,
        else => 0,
    };
    assert_eq!(picked, 0);
}

/// A `JoinHandle` is a case like any future.
#[gort::test]
async fn any_future_is_a_case() {
    let (_keep, never) = chan::<u32>(0);
    let task = gort::spawn(async { 41 + 1 });
    let picked = gort::select! {
        v = never.recv() => v.unwrap_or(0),
        joined = task => joined.expect("task"),
    };
    assert_eq!(picked, 42);
}

/// Dropping a select parked on rendezvous sends delivers nothing.
#[gort::test]
async fn a_dropped_select_delivers_nothing() {
    let (tx1, rx1) = chan::<u32>(0);
    let (tx2, rx2) = chan::<u32>(0);
    let selecting = async {
        gort::select! {
            _ = tx1.send(1) => {}
            _ = tx2.send(2) => {}
        }
    };
    let mut selecting = Box::pin(selecting);
    assert!(futures::poll!(selecting.as_mut()).is_pending());
    drop(selecting);
    assert!(rx1.try_recv().is_err());
    assert!(rx2.try_recv().is_err());
}

/// A case may borrow a temporary (`after(d).recv()` borrows the receiver `after` returns): the
/// temporaries live until the select ends, as they would in a `match`.
#[gort::test]
async fn a_case_may_borrow_a_temporary() {
    let (_keep, quiet) = chan::<u32>(0);
    let picked = gort::select! {
        Some(v) = quiet.recv() => v,
        Some(_) = gort::time::after(Duration::from_millis(2)).recv() => 7,
    };
    assert_eq!(picked, 7);
}

/// A send case on a closed channel is ready at once and gives the value back, as a receive
/// case on a closed channel is ready with `None` (Go's select treats a closed channel as ready;
/// where Go's send panics, gort returns the value).
#[gort::test]
async fn closed_channels_make_their_cases_ready() {
    let _watchdog = watchdog(Duration::from_secs(60), "select on closed channels");
    let (tx, rx) = chan::<String>(0);
    rx.close();
    let (_keep, quiet) = chan::<u32>(0);
    let back = gort::select! {
        result = tx.send("kept".to_owned()) => result.expect_err("closed").0,
        _ = quiet.recv() => String::new(),
    };
    assert_eq!(back, "kept");
    let got = gort::select! {
        value = rx.recv() => value,
        _ = quiet.recv() => Some("quiet".to_owned()),
    };
    assert_eq!(got, None);
}

/// A select with a send and a receive on one rendezvous channel, parked and then polled again
/// before any peer acts (here by the `timeout` around it when its timer fires), must not match
/// itself: Go's select never does. It waited for the timeout until the model tests
/// (`chan_model.rs`) found that its second poll sent to its own parked receive.
#[test]
fn a_select_repolled_while_parked_never_matches_its_own_cases() {
    gort::block_on(async {
        let (tx, rx) = gort::chan::<u32>(0);
        let selecting = async {
            gort::select! {
                sent = tx.send(7) => format!("the send completed: {sent:?}"),
                got = rx.recv() => format!("the receive completed: {got:?}"),
            }
        };
        let outcome = gort::time::timeout(Duration::from_millis(10), selecting).await;
        assert!(outcome.is_err(), "{outcome:?}");
        assert_eq!(rx.len(), 0, "a value was left in a rendezvous channel");
        // And it still pairs with a real peer.
        let peer = gort::spawn({
            let rx = rx.clone();
            async move { rx.recv().await }
        });
        let outcome = gort::select! {
            sent = tx.send(8) => sent.is_ok(),
            _ = rx.recv() => false,
        };
        assert!(outcome, "the peer's receive took the send");
        assert_eq!(peer.await.unwrap(), Some(8));
    });
}

/// A `select!` that is a function's last expression, over futures borrowing the function's
/// locals: the futures end with the select, before the locals do.
#[gort::test]
async fn a_select_as_the_last_expression_may_borrow_locals() {
    async fn last_expression() -> u32 {
        let (tx, mut rx) = gort::sync::mpsc::channel::<u32>(1);
        tx.send(4).await.unwrap();
        gort::select! {
            Some(v) = rx.recv() => v,
            _ = gort::time::sleep(std::time::Duration::from_secs(5)) => 0,
        }
    }
    assert_eq!(last_expression().await, 4);
}

/// The futures are dropped before the handler runs (tokio's order): a handler may use what a
/// losing future borrowed mutably, and a select may have only an `else`.
#[gort::test]
async fn handlers_run_after_the_futures_are_dropped() {
    async fn borrow_mutably(value: &mut u32) {
        std::future::pending::<()>().await;
        *value += 1;
    }
    let mut value = 1;
    gort::select! {
        _ = borrow_mutably(&mut value) => {},
        _ = std::future::ready(()) => value += 5,
    }
    assert_eq!(value, 6);
    let only_else = gort::select! {
        else => 7,
    };
    assert_eq!(only_else, 7);
}

/// Something `IntoFuture` that is not itself a future: `select!` converts it, as tokio does.
struct Deferred(u32);

impl std::future::IntoFuture for Deferred {
    type Output = u32;
    type IntoFuture = std::future::Ready<u32>;

    fn into_future(self) -> Self::IntoFuture {
        std::future::ready(self.0)
    }
}

/// A case may be anything `IntoFuture`, not only a future.
#[gort::test]
async fn a_case_may_be_into_future() {
    let got = gort::select! {
        v = Deferred(3) => v,
        _ = std::future::pending::<()>() => 0,
    };
    assert_eq!(got, 3);
}

/// Bindings written `mut x`, `ref x` and `ref mut x` in a refutable pattern bind as written in
/// the handler (the pattern check before it only looks).
#[gort::test]
async fn refutable_patterns_may_bind_by_mut_and_by_ref() {
    let moved = gort::select! {
        Some(mut text) = async { Some(String::from("a")) } => {
            text.push('b');
            text
        }
    };
    assert_eq!(moved, "ab");
    let borrowed = gort::select! {
        Some(ref text) = async { Some(String::from("c")) } => text.len(),
    };
    assert_eq!(borrowed, 1);
    let edited = gort::select! {
        (Some(ref mut text), n @ 1..=9) = async { (Some(String::from("d")), 2) } => {
            text.push('e');
            format!("{text}{n}")
        }
    };
    assert_eq!(edited, "de2");
    // A mismatch still disables the case, whatever the binding modes.
    let fell_through = gort::select! {
        Some(ref mut _text) = async { None::<String> } => false,
        else => true,
    };
    assert!(fell_through);
}

/// A disabled case whose future's output nothing names (it only panics) still compiles: the
/// output type falls back to `()`, as in tokio, and the future is never polled.
#[gort::test]
async fn a_disabled_case_with_an_unnamed_output_type_compiles_and_never_runs() {
    let never = std::future::poll_fn(|_| panic!("a disabled case was polled"));
    let got = gort::select! {
        _ = never, if false => 0,
        v = async { 5 } => v,
    };
    assert_eq!(got, 5);
}

/// A case may borrow a temporary made in its own expression (`&mut ready(..)`), which lives
/// until the select ends.
#[gort::test]
async fn a_case_may_borrow_a_temporary_future() {
    let got = gort::select! {
        v = &mut std::future::ready(9) => v,
    };
    assert_eq!(got, 9);
}

/// The system allocator, counting this thread's allocations (the other tests' threads do not
/// count).
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

/// How many allocations this thread makes while polling `future` once; its output too.
fn allocations_of_one_poll<F: Future>(future: F) -> (usize, Poll<F::Output>) {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    let before = ALLOCATIONS.with(Cell::get);
    let polled = future.as_mut().poll(&mut cx);
    (ALLOCATIONS.with(Cell::get) - before, polled)
}

/// A select future is as large as tokio's: the futures, a word of enabled cases and a word for
/// the commit flag of parked channel cases, in an `async` block (64-bit targets).
#[cfg(target_pointer_width = "64")]
#[test]
fn a_select_is_as_large_as_tokios() {
    let one = async {
        let ready = std::future::ready(0i32);
        gort::select! {
            _ = ready => {}
        }
    };
    let two = async {
        let (ready1, ready2) = (std::future::ready(0i32), std::future::ready(0i32));
        gort::select! {
            _ = ready1 => {}
            _ = ready2 => {}
        }
    };
    let three = async {
        let ready1 = std::future::ready(0i32);
        let (ready2, ready3) = (std::future::ready(0i32), std::future::ready(0i32));
        gort::select! {
            _ = ready1 => {}
            _ = ready2 => {}
            _ = ready3 => {}
        }
    };
    assert_eq!(
        [size_of_val(&one), size_of_val(&two), size_of_val(&three)],
        [32, 40, 48]
    );
    // `biased;`, `default`, `if` and refutable patterns cost nothing more.
    let configured = async {
        let (ready1, ready2) = (std::future::ready(0i32), std::future::ready(0i32));
        gort::select! {
            biased;
            1 = ready1, if std::hint::black_box(true) => {}
            _ = ready2 => {}
            default => {}
        }
    };
    assert_eq!(size_of_val(&configured), 40);
}

/// A select over plain futures allocates nothing: whether a case is ready, none is (it
/// returns `Pending`), or `default` runs; nor does one whose channel case is ready when it
/// looks, or one with a `default` over an empty channel. Only parking allocates.
#[test]
fn a_select_that_does_not_park_allocates_nothing() {
    let plain_ready = async {
        gort::select! {
            _ = std::future::pending::<()>() => 0,
            v = std::future::ready(3) => v,
        }
    };
    assert!(matches!(
        allocations_of_one_poll(plain_ready),
        (0, Poll::Ready(3))
    ));
    let plain_pending = async {
        gort::select! {
            _ = std::future::pending::<()>() => {}
            Some(()) = std::future::ready(None) => {}
        }
    };
    assert!(matches!(
        allocations_of_one_poll(plain_pending),
        (0, Poll::Pending)
    ));
    let plain_default = async {
        gort::select! {
            _ = std::future::pending::<()>() => 1,
            default => 2,
        }
    };
    assert!(matches!(
        allocations_of_one_poll(plain_default),
        (0, Poll::Ready(2))
    ));

    let (tx, rx) = chan::<u32>(4);
    let (_keep, empty) = chan::<u32>(1);
    // Warm the channel's buffer up first: the select is what is measured.
    tx.try_send(0).unwrap();
    assert_eq!(rx.try_recv(), Ok(0));
    tx.try_send(5).unwrap();
    let channel_ready = async {
        gort::select! {
            v = empty.recv() => v,
            v = rx.recv() => v,
        }
    };
    assert!(matches!(
        allocations_of_one_poll(channel_ready),
        (0, Poll::Ready(Some(5)))
    ));
    let channel_default = async {
        gort::select! {
            v = empty.recv() => v,
            v = rx.recv() => v,
            default => None,
        }
    };
    assert!(matches!(
        allocations_of_one_poll(channel_default),
        (0, Poll::Ready(None))
    ));
    // Parking is what costs: the commit flag and a waiter per channel.
    let parks = async {
        gort::select! {
            v = empty.recv() => v,
            v = rx.recv() => v,
        }
    };
    let (allocated, polled) = allocations_of_one_poll(parks);
    assert!(polled.is_pending());
    assert!(allocated > 0);
}

/// A channel case that commits but whose future goes on waiting after its receive (here a
/// yield) stays the winner across polls: the other ready channel keeps its value.
#[gort::test]
async fn a_committed_case_that_keeps_waiting_stays_the_winner() {
    let (tx1, rx1) = chan::<u32>(1);
    let (tx2, rx2) = chan::<u32>(1);
    tx1.send(1).await.unwrap();
    tx2.send(2).await.unwrap();
    let got = gort::select! {
        biased;
        v = async {
            let v = rx1.recv().await;
            gort::task::yield_now().await;
            v
        } => v,
        v = rx2.recv() => v.map(|v| v + 100),
    };
    assert_eq!(got, Some(1));
    assert_eq!(rx2.try_recv(), Ok(2), "the losing case took nothing");
}
