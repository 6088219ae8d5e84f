//! A tour of gort: the first program to run.
//!
//! `cargo run --release --example tour` spawns 100,000 goroutines, runs a chain of 100,000
//! goroutines each spawning the next, has 1,000 goroutines yield 200 times each, shows a
//! panicking goroutine being contained, and prints what it did and how long each step took.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::channel::oneshot;
use gort::task::{yield_now, JoinSet};

const FAN_OUT: usize = 100_000;
const CHAIN: usize = 100_000;
const YIELDERS: usize = 1_000;
const YIELDS: usize = 200;

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

fn report(step: &str, operations: usize, took: Duration, what: &str) {
    let per_op = took.as_nanos() as f64 / operations as f64;
    println!("{step:>8}: {what:<48} {took:>10.2?} ({per_op:.0} ns each)");
}
