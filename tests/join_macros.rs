//! `join!`, `try_join!` and `pin!`: tokio's macros for concurrency inside one task.

use std::cell::Cell;
use std::future::{pending, poll_fn};
use std::task::Poll;
use std::time::Duration;

use gort::sync::Notify;

/// Every future's output comes back in the order written, whatever order they finish in.
#[gort::test]
async fn join_returns_every_output_in_order() {
    let (tx, rx) = gort::chan::<u32>(0);
    let (a, b, c) = gort::join!(
        async { rx.recv().await.unwrap() * 2 },
        async {
            tx.send(21).await.unwrap();
            "sent"
        },
        async { 3u8 },
    );
    assert_eq!((a, b, c), (42, "sent", 3));
    let () = gort::join!();
}

/// The futures run concurrently: each waits for the other, which would deadlock if they ran
/// one after another.
#[gort::test]
async fn join_runs_the_futures_concurrently() {
    let ping = Notify::new();
    let pong = Notify::new();
    let ((), ()) = gort::join!(
        async {
            ping.notify_one();
            pong.notified().await;
        },
        async {
            ping.notified().await;
            pong.notify_one();
        },
    );
}

/// Without `biased;` the first future polled rotates, so an always-ready future first in the list
/// cannot keep the others from being polled first on later wake-ups; with `biased;` the order
/// is fixed.
#[gort::test]
async fn join_rotates_the_first_polled_unless_biased() {
    for biased in [false, true] {
        let order = std::cell::RefCell::new(Vec::new());
        let recorder = |id: u8| {
            let order = &order;
            let mut polls = 0;
            poll_fn(move |cx| {
                order.borrow_mut().push(id);
                polls += 1;
                if polls == 3 {
                    Poll::Ready(())
                } else {
                    cx.waker().wake_by_ref();
                    Poll::Pending
                }
            })
        };
        if biased {
            gort::join!(biased; recorder(0), recorder(1));
        } else {
            gort::join!(recorder(0), recorder(1));
        }
        let firsts: Vec<u8> = order.borrow().chunks(2).map(|pair| pair[0]).collect();
        if biased {
            assert_eq!(firsts, [0, 0, 0]);
        } else {
            assert_eq!(firsts, [0, 1, 0]);
        }
    }
}

/// A finished future is dropped when it finishes, not when the whole join ends.
#[gort::test]
async fn join_drops_a_finished_future_at_once() {
    struct Flag<'a>(&'a Cell<bool>);
    impl Drop for Flag<'_> {
        fn drop(&mut self) {
            self.0.set(true);
        }
    }
    let dropped = Cell::new(false);
    gort::join!(
        async {
            let _flag = Flag(&dropped);
        },
        async {
            gort::task::yield_now().await;
            assert!(dropped.get(), "the first future's state is still alive");
        },
    );
}

/// `try_join!` returns every `Ok` value, or the first `Err` at once, dropping the futures that
/// are still running.
#[gort::test]
async fn try_join_short_circuits_on_the_first_error() {
    let ok: Result<(u32, &str), String> = gort::try_join!(async { Ok(1) }, async { Ok("b") });
    assert_eq!(ok, Ok((1, "b")));

    let failed: Result<(u32, ()), String> = gort::try_join!(
        async {
            gort::time::sleep(Duration::from_millis(1)).await;
            Err::<u32, _>("late".to_owned())
        },
        async {
            gort::task::yield_now().await;
            Err("first".to_owned())
        },
    );
    assert_eq!(failed, Err("first".to_owned()));

    let never: Result<((), ()), u8> =
        gort::try_join!(pending::<Result<(), u8>>(), async { Err(7) });
    assert_eq!(never, Err(7));
    let empty: Result<(), u8> = gort::try_join!();
    assert_eq!(empty, Ok(()));
}

/// `pin!` pins a future on the stack so it can be polled by reference, and resumed later.
#[gort::test(start_paused = true)]
async fn pin_lets_a_future_be_polled_by_reference() {
    let sleep = gort::time::sleep(Duration::from_secs(1));
    gort::pin!(sleep);
    let first = gort::select! {
        _ = &mut sleep => "slept",
        default => "not yet",
    };
    assert_eq!(first, "not yet");
    (&mut sleep).await;
    assert!(sleep.is_elapsed());

    gort::pin! {
        let a = async { 1 };
        let b = async { 2 };
    }
    assert_eq!((&mut a).await + (&mut b).await, 3);
}

/// Something `IntoFuture` that is not itself a future.
struct Deferred<T>(T);

impl<T> std::future::IntoFuture for Deferred<T> {
    type Output = T;
    type IntoFuture = std::future::Ready<T>;

    fn into_future(self) -> Self::IntoFuture {
        std::future::ready(self.0)
    }
}

/// `join!` and `try_join!` take anything `IntoFuture`, as tokio's do.
#[gort::test]
async fn joins_take_into_future() {
    assert_eq!(gort::join!(Deferred(1), async { 2 }), (1, 2));
    assert_eq!(gort::join!(biased; Deferred("a")), ("a",));
    let ok: Result<(u8, u8), ()> = gort::try_join!(Deferred(Ok(3)), async { Ok(4) });
    assert_eq!(ok, Ok((3, 4)));
    let failed: Result<(u8,), &str> = gort::try_join!(biased; Deferred(Err("no")));
    assert_eq!(failed, Err("no"));
}

/// A `try_join!` stores only its futures' `Ok` values, so its future is no larger than a
/// `join!`'s over futures of the same size; `biased;` carries no rotation state, so it is no
/// larger than the rotating join.
#[test]
fn try_join_is_no_larger_than_join_and_biased_no_larger_than_rotating() {
    fn ok(value: i32) -> Result<i32, ()> {
        Ok(value)
    }
    let join = async { gort::join!(std::future::ready(1i32), std::future::ready(2i32)) };
    let try_join = async { gort::try_join!(std::future::ready(ok(1)), std::future::ready(ok(2))) };
    let biased = async { gort::join!(biased; std::future::ready(1i32), std::future::ready(2i32)) };
    use std::mem::size_of_val as size;
    assert!(
        size(&try_join) <= size(&join),
        "{} > {}",
        size(&try_join),
        size(&join)
    );
    assert!(
        size(&biased) < size(&join),
        "{} >= {}",
        size(&biased),
        size(&join)
    );
}
