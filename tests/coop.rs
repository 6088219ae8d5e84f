//! The coop budget: a G looping over resources that are always ready (sleeps already due, a
//! socket with data buffered) yields its P after at most a budget's worth of results (128, as
//! tokio), so on one P a second G still runs. Without the budget these loops would hold the
//! only P until they end, and the G that ends them would never run.

mod common;

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use gort::io::{AsyncReadExt, AsyncWriteExt};
use gort::net::{TcpListener, TcpStream};
use gort::task::coop;

use common::{runtime, watchdog};

/// A budget's worth of results, plus slack for the rounds before the second G is queued.
const WITHIN_ONE_BUDGET: usize = 2 * 128;

#[test]
fn a_loop_over_due_sleeps_yields_within_one_budget() {
    let _watchdog = watchdog(Duration::from_secs(60), "loop over due sleeps");
    let ops = runtime(1).block_on(async {
        gort::spawn(async {
            // Queued on this G's P, the only one: it runs only when this G yields the P.
            let stop = Arc::new(AtomicBool::new(false));
            let flag = Arc::clone(&stop);
            gort::go!(async move { flag.store(true, Ordering::SeqCst) });
            let mut ops = 0;
            while !stop.load(Ordering::SeqCst) {
                gort::time::sleep(Duration::ZERO).await;
                ops += 1;
            }
            ops
        })
        .await
        .expect("looper")
    });
    assert!(
        ops <= WITHIN_ONE_BUDGET,
        "{ops} ready sleeps before the other G ran"
    );
}

#[test]
fn a_loop_over_a_socket_with_data_yields_within_one_budget() {
    let _watchdog = watchdog(Duration::from_secs(60), "loop over a ready socket");
    let stop = Arc::new(AtomicBool::new(false));
    let read = Arc::new(AtomicUsize::new(0));
    let ops = runtime(1).block_on({
        let (stop, read) = (Arc::clone(&stop), Arc::clone(&read));
        async move {
            let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
            let addr = listener.local_addr().expect("addr");
            let mut client = TcpStream::connect(addr).await.expect("connect");
            let (mut server, _) = listener.accept().await.expect("accept");
            // 64 KiB buffered: far more one-byte reads than a budget.
            server.write_all(&[7u8; 65536]).await.expect("write");
            let looper = gort::spawn(async move {
                // Queued on this G's P, the only one: it runs only when this G yields the P.
                let flag = Arc::clone(&stop);
                gort::go!(async move { flag.store(true, Ordering::SeqCst) });
                let mut byte = [0u8; 1];
                let mut ops = 0;
                while !stop.load(Ordering::SeqCst) {
                    client.read_exact(&mut byte).await.expect("read");
                    read.fetch_add(1, Ordering::SeqCst);
                    ops += 1;
                }
                ops
            });
            looper.await.expect("looper")
        }
    });
    assert!(
        ops <= WITHIN_ONE_BUDGET,
        "{ops} ready reads before the other G ran"
    );
    assert!(
        read.load(Ordering::SeqCst) < 65536,
        "the looper read everything first"
    );
}

/// Runs `future` and counts the polls of it that returned `Pending`.
async fn pendings_of<F: Future>(future: F) -> (F::Output, usize) {
    let mut future = pin!(future);
    let mut pendings = 0;
    let output = std::future::poll_fn(|cx| {
        let poll = future.as_mut().poll(cx);
        pendings += usize::from(poll.is_pending());
        poll
    })
    .await;
    (output, pendings)
}

/// Units a loop of `LOOP` takes; with a budget of 128 per poll it must yield `LOOP / 128` times.
const LOOP: usize = 1000;
const YIELDS_OF_LOOP: usize = LOOP / 128;

/// Runs `future` as a task of a one-P runtime and returns what it returned.
fn in_a_task<T: Send + 'static>(future: impl Future<Output = T> + Send + 'static) -> T {
    runtime(1)
        .block_on(gort::spawn(future))
        .expect("the task failed")
}

#[test]
fn consume_budget_yields_once_per_budget() {
    let ((), pendings) = in_a_task(pendings_of(async {
        for _ in 0..LOOP {
            coop::consume_budget().await;
        }
    }));
    assert_eq!(pendings, YIELDS_OF_LOOP);
}

#[test]
fn unconstrained_never_yields_for_the_budget() {
    let ((), pendings) = in_a_task(pendings_of(coop::unconstrained(async {
        for _ in 0..LOOP {
            coop::consume_budget().await;
            gort::time::sleep(Duration::ZERO).await;
            assert!(coop::has_budget_remaining());
        }
    })));
    assert_eq!(pendings, 0, "an unconstrained loop yielded");
    // The old paths, as tokio still has them.
    let ((), pendings) = in_a_task(pendings_of(gort::task::unconstrained(async {
        for _ in 0..LOOP {
            gort::task::consume_budget().await;
        }
    })));
    assert_eq!(pendings, 0);
}

#[test]
fn unconstrained_work_is_not_charged_to_the_enclosing_task() {
    let ((), pendings) = in_a_task(pendings_of(async {
        for _ in 0..100 {
            coop::consume_budget().await;
        }
        coop::unconstrained(async {
            for _ in 0..LOOP {
                coop::consume_budget().await;
            }
        })
        .await;
        assert!(coop::has_budget_remaining(), "28 units are left");
        for _ in 0..28 {
            coop::consume_budget().await;
        }
        assert!(!coop::has_budget_remaining(), "the budget is spent");
    }));
    assert_eq!(pendings, 0, "all of it within one poll's budget");
}

#[test]
fn there_is_no_budget_outside_the_runtime() {
    assert!(coop::has_budget_remaining());
    // Another executor's poll: no limit.
    let ((), pendings) = futures::executor::block_on(pendings_of(async {
        for _ in 0..LOOP {
            coop::consume_budget().await;
        }
    }));
    assert_eq!(pendings, 0);
    // `block_on`'s main future has a budget, as in tokio.
    let ((), pendings) = runtime(1).block_on(pendings_of(async {
        for _ in 0..LOOP {
            coop::consume_budget().await;
        }
    }));
    assert_eq!(pendings, YIELDS_OF_LOOP);
}

/// A resource that is always ready and takes a unit through `poll_proceed`, keeping it only if
/// `keep` (as a resource that made progress does).
async fn proceed(keep: bool) {
    std::future::poll_fn(|cx| {
        let restore = std::task::ready!(coop::poll_proceed(cx));
        if keep {
            restore.made_progress();
        }
        Poll::Ready(())
    })
    .await
}

#[test]
fn poll_proceed_charges_only_what_made_progress() {
    let ((), pendings) = in_a_task(pendings_of(async {
        for _ in 0..LOOP {
            proceed(true).await;
        }
    }));
    assert_eq!(pendings, YIELDS_OF_LOOP);
    let ((), pendings) = in_a_task(pendings_of(async {
        for _ in 0..LOOP {
            proceed(false).await;
        }
        assert!(coop::has_budget_remaining(), "every unit was given back");
    }));
    assert_eq!(pendings, 0);
}

#[test]
fn cooperative_makes_any_future_take_part() {
    let ((), pendings) = in_a_task(pendings_of(async {
        for _ in 0..LOOP {
            coop::cooperative(std::future::ready(())).await;
        }
    }));
    assert_eq!(pendings, YIELDS_OF_LOOP);
}

/// `select!` spends no budget of its own: the case that wins pays (here `consume_budget`, one
/// unit), so a whole budget's worth of such selects completes before one is told to yield.
#[test]
fn a_select_spends_only_the_budget_its_winning_case_spends() {
    runtime(1).block_on(async {
        let mut completed = 0;
        loop {
            let mut one = Box::pin(async {
                gort::select! {
                    biased;
                    () = coop::consume_budget() => {},
                    () = std::future::ready(()) => {},
                }
            });
            if futures::poll!(one.as_mut()).is_pending() {
                break;
            }
            completed += 1;
        }
        assert_eq!(completed, 128, "tokio's budget: 128 units");
    });
}
