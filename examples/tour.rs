//! A tour of gort: the first program to run.
//!
//! `cargo run --release --example tour` spawns 100,000 goroutines, runs a chain of 100,000
//! goroutines each spawning the next, has 1,000 goroutines yield 200 times each, runs a TCP echo
//! server with 100 client goroutines on loopback (each parked on the netpoller between
//! messages), puts 10,000 goroutines to sleep for 1-20 ms each and measures how late they wake,
//! plays ping-pong over a rendezvous channel and selects between a channel and a timeout, lets
//! a goroutine block its thread for 100 ms while a ticker keeps ticking, lets the GC arena
//! reclaim 100,000 channels that hold their own receivers and report two goroutines blocked on
//! each other forever, shows a panicking goroutine being contained, and prints what it did and
//! how long each step took.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::channel::oneshot;
use gort::io::{AsyncReadExt, AsyncWriteExt};
use gort::net::{TcpListener, TcpStream};
use gort::task::{yield_now, JoinSet};

const FAN_OUT: usize = 100_000;
const CHAIN: usize = 100_000;
const YIELDERS: usize = 1_000;
const YIELDS: usize = 200;
const CONNECTIONS: usize = 100;
const ROUND_TRIPS: usize = 100;
const SLEEPERS: u64 = 10_000;
const PING_PONGS: usize = 100_000;
const CYCLES: usize = 100_000;

/// A value that holds the receiver of the channel it is sent on: a cycle `Arc` counting leaks.
#[derive(gort::gc::Trace)]
struct Loop(gort::Receiver<Loop>);

#[gort::main]
async fn main() {
    println!(
        "gort tour: {} Ps (GORT_MAXPROCS)",
        gort::runtime::gomaxprocs()
    );

    let started = Instant::now();
    let sum = fan_out().await;
    report(
        "fan-out",
        FAN_OUT,
        started.elapsed(),
        &format!("sum of 0..{FAN_OUT} = {sum}"),
    );

    let started = Instant::now();
    let depth = chain().await;
    report(
        "chain",
        CHAIN,
        started.elapsed(),
        &format!("depth reached {depth}"),
    );

    let started = Instant::now();
    let yields = yield_storm().await;
    report(
        "yield",
        yields,
        started.elapsed(),
        &format!("{YIELDERS} goroutines x {YIELDS} yields"),
    );

    let started = Instant::now();
    let echoed = echo().await;
    report(
        "net",
        CONNECTIONS * ROUND_TRIPS,
        started.elapsed(),
        &format!("{CONNECTIONS} TCP connections, {echoed} bytes echoed"),
    );

    let started = Instant::now();
    let (mean_late, short) = sleepers().await;
    report(
        "time",
        SLEEPERS as usize,
        started.elapsed(),
        &format!("{SLEEPERS} sleeps of 1-20 ms: mean {mean_late:?} late"),
    );
    println!(
        "{:>8}: {:<48} {short:>10.2?}",
        "", "sleep(100 µs), median actual"
    );

    let started = Instant::now();
    let (rounds, picked) = channels().await;
    report(
        "chan",
        rounds,
        started.elapsed(),
        &format!("{rounds} rendezvous round trips; select: {picked}"),
    );

    let started = Instant::now();
    let ticks = blocked_thread().await;
    println!(
        "{:>8}: {:<48} {:>10.2?}",
        "blocking",
        format!("{ticks} ticks of 1 ms while a poll blocked 100 ms"),
        started.elapsed()
    );

    let started = Instant::now();
    let (objects, leaks) = arena().await;
    report(
        "gc",
        CYCLES,
        started.elapsed(),
        &format!("{CYCLES} self-cycles: {objects} objects left"),
    );
    for leak in &leaks {
        println!("{:>8}  {leak}", "");
    }

    let started = Instant::now();
    let failed = gort::spawn(async { panic!("this goroutine panics on purpose") }).await;
    let after = gort::spawn(async { "still running" }).await.unwrap();
    let contained = format!("JoinError::Panic={}, then: {after}", failed.is_err());
    println!(
        "{:>8}: {contained:<48} {:>10.2?}",
        "panic",
        started.elapsed()
    );

    println!(
        "live goroutines at exit: {}",
        gort::runtime::num_goroutine()
    );
}

/// Spawns `FAN_OUT` goroutines from a goroutine and sums what they return through a JoinSet.
async fn fan_out() -> usize {
    gort::spawn(async {
        let mut set = JoinSet::new();
        for i in 0..FAN_OUT {
            set.spawn(async move { i });
        }
        set.join_all().await.into_iter().sum()
    })
    .await
    .unwrap()
}

/// Each goroutine spawns the next; the last one reports the depth.
async fn chain() -> usize {
    fn link(depth: usize, done: oneshot::Sender<usize>) {
        if depth == CHAIN {
            let _ = done.send(depth);
        } else {
            gort::go!(async move { link(depth + 1, done) });
        }
    }
    let (done, reached) = oneshot::channel();
    gort::go!(async move { link(1, done) });
    reached.await.unwrap()
}

/// `YIELDERS` goroutines each yield `YIELDS` times.
async fn yield_storm() -> usize {
    let count = Arc::new(AtomicUsize::new(0));
    let mut set = JoinSet::new();
    for _ in 0..YIELDERS {
        let count = count.clone();
        set.spawn(async move {
            for _ in 0..YIELDS {
                yield_now().await;
                count.fetch_add(1, Ordering::Relaxed);
            }
        });
    }
    set.join_all().await;
    count.load(Ordering::Relaxed)
}

/// A TCP echo server on loopback with one goroutine per connection, and `CONNECTIONS` client
/// goroutines doing `ROUND_TRIPS` round trips each. Returns the bytes that came back.
async fn echo() -> usize {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local_addr");
    let server = gort::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            gort::go!(async move {
                let mut buf = [0u8; 64];
                while let Ok(n @ 1..) = stream.read(&mut buf).await {
                    if stream.write_all(&buf[..n]).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    let mut clients = JoinSet::new();
    for client in 0..CONNECTIONS {
        clients.spawn(async move {
            let mut stream = TcpStream::connect(addr).await.expect("connect");
            stream.set_nodelay(true).expect("nodelay");
            let message = format!("client {client:>3} says hello");
            let mut reply = vec![0u8; message.len()];
            for _ in 0..ROUND_TRIPS {
                stream.write_all(message.as_bytes()).await.expect("write");
                stream.read_exact(&mut reply).await.expect("read");
                assert_eq!(reply, message.as_bytes());
            }
            ROUND_TRIPS * reply.len()
        });
    }
    let echoed = clients.join_all().await.into_iter().sum();
    // The accept loop would wait for connections forever: stop it (`abort` drops the future,
    // and the listener with it).
    server.abort();
    echoed
}

/// `SLEEPERS` goroutines each sleep 1-20 ms (spread by a multiplicative hash); returns their
/// mean lateness, and the median actual duration of 200 sleeps of 100 µs in a row.
async fn sleepers() -> (Duration, Duration) {
    let mut set = JoinSet::new();
    for i in 0..SLEEPERS {
        set.spawn(async move {
            let asked = Duration::from_micros(1_000 + (i * 2_654_435_761) % 19_000);
            let start = gort::time::Instant::now();
            gort::time::sleep(asked).await;
            start.elapsed() - asked
        });
    }
    let late: Duration = set.join_all().await.into_iter().sum();
    let mut short = Vec::new();
    for _ in 0..200 {
        let start = Instant::now();
        gort::time::sleep(Duration::from_micros(100)).await;
        short.push(start.elapsed());
    }
    short.sort();
    (late / SLEEPERS as u32, short[short.len() / 2])
}

/// Ping-pong over two rendezvous channels (`PING_PONGS` round trips), then a `select!` between
/// a channel nobody sends on and `after(5 ms)`.
async fn channels() -> (usize, &'static str) {
    let (ping_tx, ping_rx) = gort::chan::<usize>(0);
    let (pong_tx, pong_rx) = gort::chan::<usize>(0);
    gort::go!(async move {
        while let Some(n) = ping_rx.recv().await {
            pong_tx.send(n + 1).await.expect("the pinger waits");
        }
    });
    let mut rounds = 0;
    for n in 0..PING_PONGS {
        ping_tx.send(n).await.expect("the ponger waits");
        assert_eq!(pong_rx.recv().await, Some(n + 1));
        rounds += 1;
    }
    let (_keep, quiet) = gort::chan::<u32>(0);
    let picked = gort::select! {
        Some(_) = quiet.recv() => "a message",
        Some(_) = gort::time::after(Duration::from_millis(5)).recv() => "the 5 ms timeout",
    };
    (rounds, picked)
}

/// A goroutine sleeps its thread for 100 ms inside a plain poll while another ticks every 1 ms:
/// sysmon moves the ticker to another thread after 10 ms. Returns the ticks made meanwhile.
async fn blocked_thread() -> usize {
    let blocking = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let ticker = {
        let blocking = Arc::clone(&blocking);
        gort::spawn(async move {
            let mut ticks = 0;
            while blocking.load(Ordering::SeqCst) {
                gort::time::sleep(Duration::from_millis(1)).await;
                ticks += 1;
            }
            ticks
        })
    };
    gort::spawn(async move {
        std::thread::sleep(Duration::from_millis(100));
        blocking.store(false, Ordering::SeqCst);
    })
    .await
    .expect("blocker");
    ticker.await.expect("ticker")
}

/// Makes `CYCLES` channels that each hold their own receiver, lets them go and collects: the
/// arena is back where it started. Then two goroutines wait on each other's channels, holding
/// the only handles in their captures: the leak pass reports both, and reclaims them.
async fn arena() -> (isize, Vec<gort::gc::Leak>) {
    gort::gc::collect();
    let before = gort::gc::stats().live_objects;
    for _ in 0..CYCLES {
        let (tx, rx) = gort::chan![Loop; 1];
        assert!(tx.try_send(Loop(rx)).is_ok(), "room for one");
    }
    gort::gc::collect();
    let left = gort::gc::stats().live_objects as isize - before as isize;

    let (tx1, rx1) = gort::chan![u32];
    let (tx2, rx2) = gort::chan![u32];
    gort::go!([rx1, tx2] async move {
        if let Some(v) = rx1.recv().await {
            let _ = tx2.send(v).await;
        }
    });
    gort::go!([rx2, tx1] async move {
        if let Some(v) = rx2.recv().await {
            let _ = tx1.send(v).await;
        }
    });
    let mut leaks = Vec::new();
    for _ in 0..100 {
        gort::time::sleep(Duration::from_millis(1)).await;
        leaks = gort::gc::leaks();
        if leaks.len() == 2 {
            break;
        }
    }
    gort::gc::reclaim_leaks();
    (left, leaks)
}

fn report(step: &str, operations: usize, took: Duration, what: &str) {
    let per_op = took.as_nanos() as f64 / operations as f64;
    println!("{step:>8}: {what:<48} {took:>10.2?} ({per_op:.0} ns each)");
}
