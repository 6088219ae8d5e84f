//! The channel workloads (`pingpong1`, `pingpong_main`, `pingpong1000x100`, `mpsc4x1024`,
//! `parked200k`), generic over [`Chan`] (the module doc of `workloads.rs` says how they run).

use super::*;

/// Round trips of `pingpong1` and of `pingpong_main`.
pub(super) const PING_PONGS: usize = 200_000;

/// Pairs of tasks in `pingpong1000x100`, all ping-ponging at once.
pub(super) const PING_PAIRS: usize = 1_000;

/// Round trips each `pingpong1000x100` pair does.
pub(super) const PINGS_PER_PAIR: usize = 100;

/// Producer tasks in `mpsc4x1024`, all sending into one channel.
pub(super) const MPSC_PRODUCERS: usize = 4;

/// Capacity of the `mpsc4x1024` channel.
pub(super) const MPSC_CAP: usize = 1_024;

/// Messages `mpsc4x1024` sends in all, `MPSC_MESSAGES / MPSC_PRODUCERS` from each producer.
pub(super) const MPSC_MESSAGES: usize = 1_000_000;

/// Tasks `parked200k` parks, each on a receive from its own channel.
pub(super) const PARKED_TASKS: usize = 200_000;

/// The pinging side of `pingpong1` and `pingpong_main`: makes two rendezvous channels (capacity
/// 0, [`Chan::bounded`] says what that is on each), spawns [`pong`] on them and does
/// [`PING_PONGS`] round trips, each a send of `i` on the first channel and a receive of the echo
/// on the second, checked; timed from before the spawn until the last echo has arrived. Dropping
/// the first channel's sender on return ends the ponger.
pub(super) async fn ping_pong<C: Chan>() -> Duration {
    let (ping_tx, ping_rx) = C::bounded(0);
    let (pong_tx, mut pong_rx) = C::bounded(0);
    let start = Instant::now();
    C::Runtime::spawn_detached(pong::<C>(ping_rx, pong_tx));
    for i in 0..PING_PONGS as u64 {
        C::send(&ping_tx, i).await;
        let echo = C::recv(&mut pong_rx).await;
        assert_eq!(echo, Some(i), "the ponger echoed another message");
    }
    start.elapsed()
}

/// The ponging side of the ping-pong workloads: sends back every message it receives on `ping`
/// until every sender of `ping` is gone.
pub(super) async fn pong<C: Chan>(mut ping: C::Receiver, pong: C::Sender) {
    while let Some(msg) = C::recv(&mut ping).await {
        C::send(&pong, msg).await;
    }
}

/// `pingpong1`: [`ping_pong`] in the driver task, ns per round trip (DESIGN.md §7: "ping-pong
/// over a rendezvous channel, 1 pair"). Both sides are tasks, so on gort and Go each hand-off can
/// stay on one P (runnext); tokio's LIFO slot plays the same part.
pub(super) fn pingpong1<C: Chan>() -> Vec<Metric> {
    let elapsed = in_spawned_task::<C::Runtime, _>(ping_pong::<C>());
    per_op(elapsed, PING_PONGS, 1.0, "ns/round trip")
}

/// `pingpong_main`: [`ping_pong`] as the `block_on` future itself, with no driver task around it
/// (Go: the main goroutine), ns per round trip (DESIGN.md §7: "ping-pong between the `block_on`
/// future and a task"). gort's `block_on` thread holds a P, as Go's main goroutine runs on one;
/// tokio runs the future on the calling thread outside its workers, so every message to or from
/// the ponger wakes another thread.
pub(super) fn pingpong_main<C: Chan>() -> Vec<Metric> {
    let rt = C::Runtime::with_workers(NUM_WORKERS);
    let elapsed = rt.block_on(ping_pong::<C>());
    per_op(elapsed, PING_PONGS, 1.0, "ns/round trip")
}

/// `pingpong1000x100`: the driver spawns [`PING_PAIRS`] pairs of tasks, each pair on its own two
/// rendezvous channels: a [`pong`] task, then a pinger that does [`PINGS_PER_PAIR`] round trips
/// as in [`ping_pong`], drops its sender (ending its ponger) and ticks the countdown. Timed from
/// before the first channel is made until the driver has the last pinger's signal, so making the
/// 2000 channels and spawning the 2000 tasks counts; ns per round trip, the time divided by
/// `PING_PAIRS * PINGS_PER_PAIR` (DESIGN.md §7: "ping-pong, 1000 pairs x 100").
pub(super) fn pingpong1000x100<C: Chan>() -> Vec<Metric> {
    let elapsed = in_spawned_task::<C::Runtime, _>(async {
        let done = COUNTDOWN.arm(PING_PAIRS);
        let start = Instant::now();
        for _ in 0..PING_PAIRS {
            let (ping_tx, ping_rx) = C::bounded(0);
            let (pong_tx, mut pong_rx) = C::bounded(0);
            C::Runtime::spawn_detached(pong::<C>(ping_rx, pong_tx));
            C::Runtime::spawn_detached(async move {
                for i in 0..PINGS_PER_PAIR as u64 {
                    C::send(&ping_tx, i).await;
                    let echo = C::recv(&mut pong_rx).await;
                    assert_eq!(echo, Some(i), "the ponger echoed another message");
                }
                drop(ping_tx);
                COUNTDOWN.tick();
            });
        }
        done.await.unwrap();
        start.elapsed()
    });
    per_op(elapsed, PING_PAIRS * PINGS_PER_PAIR, 1.0, "ns/round trip")
}

/// `mpsc4x1024`: the driver makes a channel of capacity [`MPSC_CAP`], spawns [`MPSC_PRODUCERS`]
/// tasks that each send `MPSC_MESSAGES / MPSC_PRODUCERS` messages into it, and receives
/// [`MPSC_MESSAGES`] itself; timed from before the first spawn until the last message is in,
/// ns per message (DESIGN.md §7: "4 producers -> 1 consumer, cap 1024"). The driver counts the
/// messages rather than waiting for the channel to close, as Go's consumer does (closing a Go
/// channel with several senders needs a `WaitGroup`).
pub(super) fn mpsc4x1024<C: Chan>() -> Vec<Metric> {
    let elapsed = in_spawned_task::<C::Runtime, _>(async {
        let (tx, mut rx) = C::bounded(MPSC_CAP);
        let start = Instant::now();
        for _ in 0..MPSC_PRODUCERS {
            let tx = tx.clone();
            C::Runtime::spawn_detached(async move {
                for i in 0..(MPSC_MESSAGES / MPSC_PRODUCERS) as u64 {
                    C::send(&tx, i).await;
                }
            });
        }
        drop(tx);
        for _ in 0..MPSC_MESSAGES {
            let msg = C::recv(&mut rx).await;
            assert!(msg.is_some(), "the producers stopped early");
        }
        start.elapsed()
    });
    per_op(elapsed, MPSC_MESSAGES, 1.0, "ns/msg")
}

/// `parked200k`'s count of tasks parked in their receive.
pub(super) static PARKED: Countdown = Countdown {
    remaining: AtomicUsize::new(0),
    done: Mutex::new(None),
};

/// `parked200k`: what an idle task waiting on a channel costs in memory, in bytes of resident set
/// per task (DESIGN.md §7: "200k idle tasks parked on a channel").
///
/// The driver reads the process's resident set size ([`rss_bytes`]), then makes [`PARKED_TASKS`]
/// rendezvous channels, keeping each sender in a `Vec` made beforehand, and spawns one task per
/// channel that polls a receive on it once (which parks it: nothing has been sent), ticks
/// [`PARKED`] and awaits the receive. Once every task has ticked, the driver reads the resident
/// set again; the growth divided by the tasks is the result. It then drops the senders, which
/// closes every channel, and waits for all tasks to see the close and finish (untimed, unmeasured).
///
/// Each task has a channel of its own rather than all sharing one, so that the figure is the
/// whole cost of one blocked goroutine-with-its-channel as Go code writes it (`ch := make(chan
/// int); go func() { <-ch }()`): the task, its receive future and one channel (tokio's `mpsc`,
/// which has no rendezvous, has a buffer of one). It also includes the driver's handle to the
/// channel, 8 B per task in the `Vec` on every runtime (Go: a slice of channels), since pages of
/// the `Vec` become resident only as it fills.
///
/// The resident set is read from `/proc/self/status` on all three runtimes (Go's `MemStats`
/// would count what Go reserved, not what is resident), so the figures compare, allocator and
/// all: glibc's malloc on the Rust side (or mimalloc with `--alloc mimalloc`), Go's own heap and
/// goroutine stacks on the Go side.
pub(super) fn parked200k<C: Chan>() -> Vec<Metric> {
    let grown = in_spawned_task::<C::Runtime, _>(async {
        let mut senders = Vec::with_capacity(PARKED_TASKS);
        let parked = PARKED.arm(PARKED_TASKS);
        let done = COUNTDOWN.arm(PARKED_TASKS);
        let before = rss_bytes();
        for _ in 0..PARKED_TASKS {
            let (tx, mut rx) = C::bounded(0);
            senders.push(tx);
            C::Runtime::spawn_detached(async move {
                let mut recv = pin!(C::recv(&mut rx));
                let first = futures::poll!(recv.as_mut());
                assert!(
                    first.is_pending(),
                    "a receive on an empty channel completed"
                );
                PARKED.tick();
                let msg = recv.await;
                assert!(msg.is_none(), "a message on a channel nobody sends on");
                COUNTDOWN.tick();
            });
        }
        parked.await.unwrap();
        let after = rss_bytes();
        drop(senders);
        done.await.unwrap();
        after as f64 - before as f64
    });
    vec![Metric {
        name: "",
        value: grown / PARKED_TASKS as f64,
        unit: "B/task",
    }]
}
