//! Concurrent scenarios: producer and consumer tasks with random scripts on a runtime of 1 to 4
//! Ps, checked for conservation (every value delivered once or returned), observed closes,
//! per-sender order, and termination.
//!
//! # Why every scenario ends
//!
//! The main task keeps no `Sender`: the channels close when the last producer finishes (or
//! earlier, by a script's `close`). A producer's script is finite and each of its steps ends:
//! a plain `send` waits only for room or a receiver, and every consumer's script ends with a
//! wait on *all* the channels it has not yet seen closed (a `select!`, or a plain `recv` when
//! one is left), so a parked sender always meets a receiver; the other steps are bounded
//! (`try_*`, `default`, a timeout, one poll). A consumer stops once it has seen `None` on every
//! channel, which happens once they are all closed and drained. A scenario that does not end
//! within [`HANG_LIMIT`] has lost a wake or a value: it fails.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::ops::RangeInclusive;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use futures::future::OptionFuture;
use gort::{Receiver, SendError, Sender, TryRecvError, TrySendError};
use proptest::collection::vec;
use proptest::prelude::*;

use crate::common;
use crate::token::{Fate, Id, Ledger, Token};

/// A scenario that takes longer than this has hung (they take milliseconds).
pub const HANG_LIMIT: Duration = Duration::from_secs(20);

/// The most channels, and the most cases of a `select!`.
const MAX_CHANNELS: usize = 3;

/// One case of the test.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// Ps of the runtime (`worker_threads`).
    pub procs: usize,
    /// Channel capacities (0: rendezvous).
    pub capacities: Vec<usize>,
    /// Each producer's steps, run once.
    pub producers: Vec<Vec<Produce>>,
    /// Each consumer's steps, run in a loop until every channel was seen closed; a wait on
    /// all of them is appended (module doc).
    pub consumers: Vec<Vec<Consume>>,
}

/// A producer's step. Channel numbers are taken modulo the number of channels.
#[derive(Clone, Debug)]
pub enum Produce {
    /// `tx.send(v).await`.
    Send {
        ch: usize,
    },
    /// `tx.try_send(v)`.
    TrySend {
        ch: usize,
    },
    /// `timeout(d, tx.send(v))`: the send is dropped if the time runs out.
    SendWithin {
        ch: usize,
        micros: u64,
    },
    /// `tx.send(v)` polled once; if pending, dropped after `yields` yields (a receiver may
    /// have taken the value meanwhile, unseen).
    SendThenDrop {
        ch: usize,
        yields: u8,
    },
    /// `select!` of a send on each of `chs` (a channel may repeat), each with its own value.
    SendSelect {
        chs: Vec<usize>,
        biased: bool,
        default: bool,
    },
    /// `tx.close()`.
    Close {
        ch: usize,
    },
    Yield,
}

/// A consumer's step.
#[derive(Clone, Debug)]
pub enum Consume {
    /// Waits on every channel not yet seen closed: `select!` without `default` (a plain
    /// `recv().await` when one is left).
    RecvAny {
        biased: bool,
    },
    /// `timeout(d, rx.recv())`.
    RecvWithin {
        ch: usize,
        micros: u64,
    },
    /// `rx.try_recv()`.
    TryRecv {
        ch: usize,
    },
    /// `rx.recv()` polled once; if pending, dropped after `yields` yields (a sender may have
    /// handed it a value meanwhile, which must go back to the channel).
    RecvThenDrop {
        ch: usize,
        yields: u8,
    },
    /// `select!` with `default` over receives on `chs`.
    RecvSelectDefault {
        chs: Vec<usize>,
        biased: bool,
    },
    /// `rx.close()`, on the first pass through the script only.
    Close {
        ch: usize,
    },
    Yield,
}

/// Scenarios of 1 to 4 Ps, 1 to 3 channels, 1 to 3 producers of up to `max_steps` steps and
/// `consumers` consumers of up to 4 steps (plus the appended wait).
pub fn scenario(
    max_steps: usize,
    consumers: RangeInclusive<usize>,
) -> impl Strategy<Value = Scenario> {
    (
        1usize..=4,
        vec(0usize..=3, 1..=MAX_CHANNELS),
        vec(vec(produce(), 1..=max_steps), 1..=3),
        vec(vec(consume(), 0..=4), consumers),
    )
        .prop_map(|(procs, capacities, producers, consumers)| Scenario {
            procs,
            capacities,
            producers,
            consumers,
        })
}

fn produce() -> impl Strategy<Value = Produce> {
    let ch = || 0..MAX_CHANNELS;
    prop_oneof![
        12 => ch().prop_map(|ch| Produce::Send { ch }),
        5 => ch().prop_map(|ch| Produce::TrySend { ch }),
        5 => (ch(), 1u64..300).prop_map(|(ch, micros)| Produce::SendWithin { ch, micros }),
        4 => (ch(), 0u8..4).prop_map(|(ch, yields)| Produce::SendThenDrop { ch, yields }),
        10 => (vec(ch(), 1..=3), any::<bool>(), any::<bool>())
            .prop_map(|(chs, biased, default)| Produce::SendSelect { chs, biased, default }),
        1 => ch().prop_map(|ch| Produce::Close { ch }),
        2 => Just(Produce::Yield),
    ]
}

fn consume() -> impl Strategy<Value = Consume> {
    let ch = || 0..MAX_CHANNELS;
    prop_oneof![
        4 => any::<bool>().prop_map(|biased| Consume::RecvAny { biased }),
        3 => (ch(), 1u64..300).prop_map(|(ch, micros)| Consume::RecvWithin { ch, micros }),
        3 => ch().prop_map(|ch| Consume::TryRecv { ch }),
        3 => (ch(), 0u8..4).prop_map(|(ch, yields)| Consume::RecvThenDrop { ch, yields }),
        3 => (vec(ch(), 1..=3), any::<bool>())
            .prop_map(|(chs, biased)| Consume::RecvSelectDefault { chs, biased }),
        1 => ch().prop_map(|ch| Consume::Close { ch }),
        1 => Just(Consume::Yield),
    ]
}

/// What a producer saw of each value it made.
#[derive(Default)]
struct ProducerLog {
    /// Sends that completed `Ok`, with their channel, in order.
    sent: Vec<(usize, Id)>,
    /// Values a send or `try_send` gave back (checked to be the value it was given).
    returned: Vec<Id>,
    /// Values of losing `select!` cases and `default`s: never sent.
    unsent: Vec<Id>,
    /// Values of sends dropped while pending: a receiver may have taken them just before.
    cancelled: Vec<(usize, Id)>,
    errors: Vec<String>,
}

/// What a consumer received, in order, with the channel.
#[derive(Default)]
struct ConsumerLog {
    received: Vec<(usize, Id)>,
    errors: Vec<String>,
}

/// Runs `scenario` and checks it; `Err` says what went wrong.
pub fn run(scenario: &Scenario) -> Result<(), String> {
    let _watchdog = common::watchdog(HANG_LIMIT * 3, "a concurrent channel scenario");
    let runtime = common::runtime(scenario.procs);
    let ledger = Ledger::new();
    let logs = runtime.block_on(run_tasks(scenario, &ledger))?;
    drop(runtime);
    check(scenario, &ledger, logs)
}

/// Spawns the producers and consumers, waits for them (bounded by [`HANG_LIMIT`]), and
/// checks that the channels end closed and empty.
async fn run_tasks(
    scenario: &Scenario,
    ledger: &Arc<Ledger>,
) -> Result<(Vec<ProducerLog>, Vec<ConsumerLog>), String> {
    let (txs, rxs): (Vec<_>, Vec<_>) = scenario
        .capacities
        .iter()
        .map(|&capacity| gort::chan::<Token>(capacity))
        .unzip();
    // Every task waits for the gate to close, so that they all start at once.
    let (gate, gate_rx) = gort::chan::<()>(0);
    let producers: Vec<_> = scenario
        .producers
        .iter()
        .enumerate()
        .map(|(index, script)| {
            let (txs, script, ledger) = (txs.clone(), script.clone(), Arc::clone(ledger));
            let gate = gate_rx.clone();
            gort::spawn(async move {
                gate.recv().await;
                produce_all(index as u32, txs, script, ledger).await
            })
        })
        .collect();
    // The producers hold the only senders now: the channels close when the last one ends.
    drop(txs);
    let consumers: Vec<_> = scenario
        .consumers
        .iter()
        .map(|script| {
            let (rxs, script, gate) = (rxs.clone(), script.clone(), gate_rx.clone());
            gort::spawn(async move {
                gate.recv().await;
                consume_all(rxs, script).await
            })
        })
        .collect();
    gate.close();
    let joined = gort::time::timeout(HANG_LIMIT, async {
        let mut producer_logs = Vec::new();
        for producer in producers {
            producer_logs.push(producer.await.map_err(|e| format!("a producer: {e}"))?);
        }
        let mut consumer_logs = Vec::new();
        for consumer in consumers {
            consumer_logs.push(consumer.await.map_err(|e| format!("a consumer: {e}"))?);
        }
        Ok::<_, String>((producer_logs, consumer_logs))
    })
    .await
    .map_err(|_| format!("the scenario did not end within {HANG_LIMIT:?} (a hang)"))??;
    for (ch, rx) in rxs.iter().enumerate() {
        if !rx.is_closed() || !rx.is_empty() || rx.try_recv().map(Token::take).is_ok() {
            return Err(format!(
                "channel {ch} is not closed and empty after every consumer saw it closed"
            ));
        }
    }
    Ok(joined)
}

/// A producer: runs its script once; each value is `index << 20 | sequence`.
async fn produce_all(
    index: u32,
    txs: Vec<Sender<Token>>,
    script: Vec<Produce>,
    ledger: Arc<Ledger>,
) -> ProducerLog {
    let mut log = ProducerLog::default();
    let mut next = 0;
    let mut token = || {
        let id = index << 20 | next;
        next += 1;
        (id, Token::new(id, &ledger))
    };
    let n = txs.len();
    for step in script {
        match step {
            Produce::Send { ch } => {
                let (id, value) = token();
                let result = txs[ch % n].send(value).await;
                log.sent_or_returned(ch % n, id, result);
            }
            Produce::TrySend { ch } => {
                let (id, value) = token();
                match txs[ch % n].try_send(value) {
                    Ok(()) => log.sent.push((ch % n, id)),
                    Err(TrySendError::Full(back) | TrySendError::Closed(back)) => {
                        log.returned(id, back)
                    }
                }
            }
            Produce::SendWithin { ch, micros } => {
                let (id, value) = token();
                let within = Duration::from_micros(micros);
                match gort::time::timeout(within, txs[ch % n].send(value)).await {
                    Ok(result) => log.sent_or_returned(ch % n, id, result),
                    Err(_) => log.cancelled.push((ch % n, id)),
                }
            }
            Produce::SendThenDrop { ch, yields } => {
                let (id, value) = token();
                match poll_then_drop(txs[ch % n].send(value), yields).await {
                    Some(result) => log.sent_or_returned(ch % n, id, result),
                    None => log.cancelled.push((ch % n, id)),
                }
            }
            Produce::SendSelect {
                chs,
                biased,
                default,
            } => {
                let cases: Vec<(usize, Id, Token)> = chs
                    .iter()
                    .map(|ch| {
                        let (id, value) = token();
                        (ch % n, id, value)
                    })
                    .collect();
                let ids: Vec<(usize, Id)> = cases.iter().map(|&(ch, id, _)| (ch, id)).collect();
                match send_select(&txs, cases, biased, default).await {
                    Some((winner, result)) => {
                        let (ch, id) = ids[winner];
                        log.sent_or_returned(ch, id, result);
                        let losers = ids.iter().enumerate().filter(|&(case, _)| case != winner);
                        log.unsent.extend(losers.map(|(_, &(_, id))| id));
                    }
                    None => log.unsent.extend(ids.iter().map(|&(_, id)| id)),
                }
            }
            Produce::Close { ch } => {
                txs[ch % n].close();
                if !txs[ch % n].is_closed() {
                    log.errors
                        .push(format!("channel {ch} not closed after close()"));
                }
            }
            Produce::Yield => gort::task::yield_now().await,
        }
    }
    log
}

impl ProducerLog {
    fn sent_or_returned(&mut self, ch: usize, id: Id, result: Result<(), SendError<Token>>) {
        match result {
            Ok(()) => self.sent.push((ch, id)),
            Err(SendError(back)) => self.returned(id, back),
        }
    }

    fn returned(&mut self, id: Id, back: Token) {
        let back = back.take();
        if back != id {
            self.errors
                .push(format!("the send of {id} returned another value, {back}"));
        }
        self.returned.push(id);
    }
}

/// Polls `future` once; if it is pending, yields `yields` times and drops it unpolled.
async fn poll_then_drop<F: Future + Unpin>(mut future: F, yields: u8) -> Option<F::Output> {
    if let Poll::Ready(output) = futures::poll!(&mut future) {
        return Some(output);
    }
    for _ in 0..yields {
        gort::task::yield_now().await;
    }
    None
}

/// `select!` of `tx.send(value)` per case (up to three); `None`: `default` ran.
async fn send_select(
    txs: &[Sender<Token>],
    cases: Vec<(usize, Id, Token)>,
    biased: bool,
    default: bool,
) -> Option<(usize, Result<(), SendError<Token>>)> {
    let mut cases = cases.into_iter().map(|(ch, _, value)| txs[ch].send(value));
    let (f0, f1, f2) = (cases.next(), cases.next(), cases.next());
    let (e0, e1, e2) = (f0.is_some(), f1.is_some(), f2.is_some());
    let (f0, f1, f2) = (
        OptionFuture::from(f0),
        OptionFuture::from(f1),
        OptionFuture::from(f2),
    );
    macro_rules! three_sends {
        ([$($biased:tt)*] [$($default:tt)*]) => {
            gort::select! {
                $($biased)*
                Some(result) = f0, if e0 => Some((0, result)),
                Some(result) = f1, if e1 => Some((1, result)),
                Some(result) = f2, if e2 => Some((2, result)),
                $($default)*
                else => None,
            }
        };
    }
    match (biased, default) {
        (false, false) => three_sends!([] []),
        (true, false) => three_sends!([biased;] []),
        (false, true) => three_sends!([] [default => None,]),
        (true, true) => three_sends!([biased;] [default => None,]),
    }
}

/// A consumer: runs its script in a loop until it has seen every channel closed.
async fn consume_all(rxs: Vec<Receiver<Token>>, mut script: Vec<Consume>) -> ConsumerLog {
    script.push(Consume::RecvAny { biased: false });
    let mut log = ConsumerLog::default();
    let n = rxs.len();
    let mut open = vec![true; n];
    let got =
        |log: &mut ConsumerLog, open: &mut [bool], ch: usize, value: Option<Token>| match value {
            Some(value) => log.received.push((ch, value.take())),
            None if !rxs[ch].is_closed() => log
                .errors
                .push(format!("channel {ch} gave None but is not closed")),
            None => open[ch] = false,
        };
    for (index, step) in script.iter().cycle().enumerate() {
        if !open.contains(&true) {
            break;
        }
        let first_pass = index < script.len();
        match *step {
            Consume::RecvAny { biased } => {
                let live: Vec<usize> = (0..n).filter(|&ch| open[ch]).collect();
                let (ch, value) = if let [only] = live[..] {
                    (only, rxs[only].recv().await)
                } else {
                    recv_select(&rxs, &live, biased, false)
                        .await
                        .expect("a select with live channels and no default picks a case")
                };
                got(&mut log, &mut open, ch, value);
            }
            Consume::RecvWithin { ch, micros } => {
                let within = Duration::from_micros(micros);
                if let Ok(value) = gort::time::timeout(within, rxs[ch % n].recv()).await {
                    got(&mut log, &mut open, ch % n, value);
                }
            }
            Consume::TryRecv { ch } => {
                match rxs[ch % n].try_recv() {
                    Ok(value) => got(&mut log, &mut open, ch % n, Some(value)),
                    Err(TryRecvError::Closed) => got(&mut log, &mut open, ch % n, None),
                    Err(TryRecvError::Empty) => {}
                }
                gort::task::yield_now().await;
            }
            Consume::RecvThenDrop { ch, yields } => {
                if let Some(value) = poll_then_drop(rxs[ch % n].recv(), yields).await {
                    got(&mut log, &mut open, ch % n, value);
                }
                gort::task::yield_now().await;
            }
            Consume::RecvSelectDefault { ref chs, biased } => {
                let chs: Vec<usize> = chs.iter().map(|ch| ch % n).collect();
                if let Some((ch, value)) = recv_select(&rxs, &chs, biased, true).await {
                    got(&mut log, &mut open, ch, value);
                }
                gort::task::yield_now().await;
            }
            Consume::Close { ch } => {
                if first_pass {
                    rxs[ch % n].close();
                }
                gort::task::yield_now().await;
            }
            Consume::Yield => gort::task::yield_now().await,
        }
    }
    log
}

/// `select!` of `rx.recv()` on each of `chs` (up to three), with `default` if asked; `None`:
/// `default` ran.
async fn recv_select(
    rxs: &[Receiver<Token>],
    chs: &[usize],
    biased: bool,
    default: bool,
) -> Option<(usize, Option<Token>)> {
    let case = |k: usize| OptionFuture::from(chs.get(k).map(|&ch| rxs[ch].recv()));
    let (f0, f1, f2) = (case(0), case(1), case(2));
    let (e0, e1, e2) = (!chs.is_empty(), chs.len() > 1, chs.len() > 2);
    macro_rules! three_recvs {
        ([$($biased:tt)*] [$($default:tt)*]) => {
            gort::select! {
                $($biased)*
                Some(value) = f0, if e0 => Some((chs[0], value)),
                Some(value) = f1, if e1 => Some((chs[1], value)),
                Some(value) = f2, if e2 => Some((chs[2], value)),
                $($default)*
                else => None,
            }
        };
    }
    match (biased, default) {
        (false, false) => three_recvs!([] []),
        (true, false) => three_recvs!([biased;] []),
        (false, true) => three_recvs!([] [default => None,]),
        (true, true) => three_recvs!([biased;] [default => None,]),
    }
}

/// The checks on a finished scenario's logs (`chan_model.rs` explains them).
fn check(
    scenario: &Scenario,
    ledger: &Ledger,
    (producers, consumers): (Vec<ProducerLog>, Vec<ConsumerLog>),
) -> Result<(), String> {
    let mut errors = (producers.iter().flat_map(|log| &log.errors))
        .chain(consumers.iter().flat_map(|log| &log.errors));
    if let Some(error) = errors.next() {
        return Err(error.clone());
    }
    ledger.check_all_ended()?;
    // Where each value went on the sending side.
    let mut sent: BTreeMap<Id, usize> = BTreeMap::new();
    let mut cancelled: BTreeMap<Id, usize> = BTreeMap::new();
    let mut returned: BTreeSet<Id> = BTreeSet::new();
    let mut unsent: BTreeSet<Id> = BTreeSet::new();
    for log in &producers {
        sent.extend(log.sent.iter().map(|&(ch, id)| (id, ch)));
        cancelled.extend(log.cancelled.iter().map(|&(ch, id)| (id, ch)));
        returned.extend(&log.returned);
        unsent.extend(&log.unsent);
    }
    let mut received: BTreeMap<Id, usize> = BTreeMap::new();
    for &(ch, id) in consumers.iter().flat_map(|log| &log.received) {
        if received.insert(id, ch).is_some() {
            return Err(format!("value {id} was received twice"));
        }
        if returned.contains(&id) || unsent.contains(&id) {
            return Err(format!(
                "value {id} was received, but its send failed, lost its select or hit default"
            ));
        }
        match sent.get(&id).or(cancelled.get(&id)) {
            Some(&to) if to == ch => {}
            Some(&to) => return Err(format!("value {id} sent on {to} arrived on {ch}")),
            None => return Err(format!("value {id} was received but never sent")),
        }
    }
    if let Some((id, ch)) = sent.iter().find(|(id, _)| !received.contains_key(id)) {
        return Err(format!("value {id} was sent on {ch} but never received"));
    }
    // A returned value was taken back by its producer; a losing case's value was dropped
    // with its future (so it cannot be anywhere else).
    if let Some(id) = returned
        .iter()
        .find(|&&id| ledger.fate(id) != Some(Fate::Taken))
    {
        return Err(format!(
            "value {id} was returned, yet the ledger says otherwise"
        ));
    }
    if let Some(id) = unsent
        .iter()
        .find(|&&id| ledger.fate(id) != Some(Fate::Dropped))
    {
        return Err(format!(
            "value {id} lost its select, yet it was not dropped"
        ));
    }
    for &id in cancelled.keys() {
        let delivered = received.contains_key(&id);
        let dropped = ledger.fate(id) == Some(Fate::Dropped);
        if delivered == dropped {
            return Err(format!(
                "the cancelled send of {id}: received {delivered}, dropped {dropped}"
            ));
        }
    }
    if let [only] = &consumers[..] {
        check_fifo(scenario, only)?;
    }
    Ok(())
}

/// With one consumer, each producer's values on each channel arrive in the order sent.
fn check_fifo(scenario: &Scenario, consumer: &ConsumerLog) -> Result<(), String> {
    let mut last: BTreeMap<(u32, usize), Id> = BTreeMap::new();
    for &(ch, id) in &consumer.received {
        let producer = id >> 20;
        if let Some(&before) = last.get(&(producer, ch)) {
            if before > id {
                return Err(format!(
                    "producer {producer}'s values on channel {ch} (capacity {}) arrived out of \
                     order: {before} before {id}",
                    scenario.capacities[ch]
                ));
            }
        }
        last.insert((producer, ch), id);
    }
    Ok(())
}
