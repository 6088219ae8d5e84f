//! Sequential programs: one thread runs a random list of steps over a few channels, each step
//! on the real channels and on the [`Model`] at once, and every result and every observable
//! fact is compared after every step.
//!
//! The thread polls the futures itself, with one counting waker per pending operation, outside
//! any runtime (so no coop budget makes a ready operation return `Pending`): a step never
//! blocks, and a wake that a completed operation did not get is seen as a missing count.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use gort::{Receiver, SendError, Sender, TrySendError};
use proptest::collection::vec;
use proptest::prelude::*;

use crate::model::{Case, Dir, Finished, Model, OpId, Outcome, SelectKind, TrySent};
use crate::token::{Id, Ledger, Token};

/// The most channels, and the most cases of a `select!`, in a program.
const MAX_CHANNELS: usize = 3;
const MAX_CASES: usize = 3;

/// A case of the test: channel capacities (0 is a rendezvous) and the steps.
#[derive(Clone, Debug)]
pub struct Program {
    pub capacities: Vec<usize>,
    pub steps: Vec<Step>,
}

/// One step. Channel numbers are taken modulo the number of channels, pending-operation
/// numbers modulo the number pending; a step that needs a handle its side has none of (all
/// dropped), or a pending operation when there is none, does nothing.
#[derive(Clone, Debug)]
pub enum Step {
    TrySend {
        ch: usize,
    },
    TryRecv {
        ch: usize,
    },
    Close {
        ch: usize,
        by_receiver: bool,
    },
    CloneSender {
        ch: usize,
    },
    DropSender {
        ch: usize,
    },
    CloneReceiver {
        ch: usize,
    },
    DropReceiver {
        ch: usize,
    },
    /// `tx.send(token)` polled once; kept pending if it did not complete.
    Send {
        ch: usize,
    },
    /// `rx.recv()` polled once; kept pending if it did not complete.
    Recv {
        ch: usize,
    },
    /// A `select!` over up to three cases, polled once; kept pending if it did not complete
    /// (only possible without `default`). A repeated (channel, direction) is left out.
    Select {
        cases: Vec<CaseSpec>,
        biased: bool,
        default: bool,
    },
    /// Polls a pending operation again.
    Poll {
        pending: usize,
    },
    /// Drops a pending operation.
    Drop {
        pending: usize,
    },
}

/// One case of a [`Step::Select`].
#[derive(Clone, Copy, Debug)]
pub struct CaseSpec {
    pub ch: usize,
    pub kind: CaseKind,
    /// The `if` precondition.
    pub enabled: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CaseKind {
    /// `result = tx.send(token)`.
    Send,
    /// `value = rx.recv()`: `None` is an outcome.
    Recv,
    /// `Some(value) = rx.recv()`: `None` disables the case.
    RecvSome,
}

/// Programs of 1 to `max_steps` steps over 1 to 3 channels of capacity 0 to 3.
pub fn program(max_steps: usize) -> impl Strategy<Value = Program> {
    (
        vec(0usize..=3, 1..=MAX_CHANNELS),
        vec(step(), 1..=max_steps),
    )
        .prop_map(|(capacities, steps)| Program { capacities, steps })
}

fn step() -> impl Strategy<Value = Step> {
    let ch = || 0..MAX_CHANNELS;
    let case = (
        ch(),
        prop_oneof![
            Just(CaseKind::Send),
            Just(CaseKind::Recv),
            Just(CaseKind::RecvSome)
        ],
        proptest::bool::weighted(0.9),
    )
        .prop_map(|(ch, kind, enabled)| CaseSpec { ch, kind, enabled });
    prop_oneof![
        4 => ch().prop_map(|ch| Step::TrySend { ch }),
        4 => ch().prop_map(|ch| Step::TryRecv { ch }),
        1 => (ch(), any::<bool>()).prop_map(|(ch, by_receiver)| Step::Close { ch, by_receiver }),
        2 => ch().prop_map(|ch| Step::CloneSender { ch }),
        1 => ch().prop_map(|ch| Step::DropSender { ch }),
        2 => ch().prop_map(|ch| Step::CloneReceiver { ch }),
        1 => ch().prop_map(|ch| Step::DropReceiver { ch }),
        3 => ch().prop_map(|ch| Step::Send { ch }),
        3 => ch().prop_map(|ch| Step::Recv { ch }),
        6 => (vec(case, 1..=MAX_CASES), any::<bool>(), any::<bool>())
            .prop_map(|(cases, biased, default)| Step::Select { cases, biased, default }),
        5 => (0usize..8).prop_map(|pending| Step::Poll { pending }),
        3 => (0usize..8).prop_map(|pending| Step::Drop { pending }),
    ]
}

/// Runs `program` on real channels and on the model; `Err` says which step went wrong how.
pub fn run(program: &Program) -> Result<(), String> {
    let mut run = Run::new(&program.capacities);
    for (index, step) in program.steps.iter().enumerate() {
        run.step(step)
            .and_then(|()| run.check_observations())
            .map_err(|error| format!("step {index} ({step:?}): {error}"))?;
    }
    run.finish().map_err(|error| format!("at the end: {error}"))
}

/// A case's future: `None` when its pattern refutes the output.
type CaseFuture = Pin<Box<dyn Future<Output = Option<Outcome>>>>;
/// A pending operation's future.
type OpFuture = Pin<Box<dyn Future<Output = Finished>>>;

/// The real handles of one channel that the program holds (pending futures hold their own
/// clones).
struct Handles {
    senders: Vec<Sender<Token>>,
    receivers: Vec<Receiver<Token>>,
}

/// A pending operation's real future and its waker's count.
struct Pending {
    id: OpId,
    future: OpFuture,
    wakes: Arc<WakeCount>,
}

/// Counts wakes.
#[derive(Default)]
struct WakeCount(AtomicUsize);

impl Wake for WakeCount {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// One program's run: the real side, the model, the ledger.
struct Run {
    chans: Vec<Handles>,
    pending: Vec<Pending>,
    model: Model,
    ledger: Arc<Ledger>,
    next_token: Id,
}

impl Run {
    fn new(capacities: &[usize]) -> Run {
        let chans = capacities
            .iter()
            .map(|&capacity| {
                let (tx, rx) = gort::chan::<Token>(capacity);
                Handles {
                    senders: vec![tx],
                    receivers: vec![rx],
                }
            })
            .collect();
        Run {
            chans,
            pending: Vec::new(),
            model: Model::new(capacities),
            ledger: Ledger::new(),
            next_token: 0,
        }
    }

    fn token(&mut self) -> (Id, Token) {
        let id = self.next_token;
        self.next_token += 1;
        (id, Token::new(id, &self.ledger))
    }

    fn step(&mut self, step: &Step) -> Result<(), String> {
        let chans = self.chans.len();
        match *step {
            Step::TrySend { ch } => {
                let ch = ch % chans;
                if self.chans[ch].senders.is_empty() {
                    return Ok(());
                }
                let (id, token) = self.token();
                let real = match self.chans[ch].senders[0].try_send(token) {
                    Ok(()) => TrySent::Sent,
                    Err(TrySendError::Full(back)) => TrySent::Full(back.take()),
                    Err(TrySendError::Closed(back)) => TrySent::Closed(back.take()),
                };
                same("try_send", real, self.model.try_send(ch, id))
            }
            Step::TryRecv { ch } => {
                let ch = ch % chans;
                let Some(rx) = self.chans[ch].receivers.first() else {
                    return Ok(());
                };
                let real = rx.try_recv().map(Token::take);
                same("try_recv", real, self.model.try_recv(ch))
            }
            Step::Close { ch, by_receiver } => {
                let ch = ch % chans;
                let handles = &self.chans[ch];
                match (handles.senders.first(), handles.receivers.first()) {
                    (_, Some(rx)) if by_receiver => rx.close(),
                    (Some(tx), _) => tx.close(),
                    (None, Some(rx)) => rx.close(),
                    (None, None) => return Ok(()),
                }
                self.model.close(ch);
                Ok(())
            }
            Step::CloneSender { ch } => {
                let ch = ch % chans;
                if let Some(tx) = self.chans[ch].senders.first() {
                    let clone = tx.clone();
                    self.chans[ch].senders.push(clone);
                    self.model.clone_sender(ch);
                }
                Ok(())
            }
            Step::DropSender { ch } => {
                let ch = ch % chans;
                if self.chans[ch].senders.pop().is_some() {
                    self.model.drop_sender(ch);
                }
                Ok(())
            }
            Step::CloneReceiver { ch } => {
                let ch = ch % chans;
                if let Some(rx) = self.chans[ch].receivers.first() {
                    let clone = rx.clone();
                    self.chans[ch].receivers.push(clone);
                    self.model.clone_receiver(ch);
                }
                Ok(())
            }
            Step::DropReceiver { ch } => {
                let ch = ch % chans;
                if self.chans[ch].receivers.pop().is_some() {
                    self.model.drop_receiver(ch);
                }
                Ok(())
            }
            Step::Send { ch } | Step::Recv { ch } => {
                let kind = match step {
                    Step::Send { .. } => CaseKind::Send,
                    _ => CaseKind::Recv,
                };
                let Some((case, future)) = self.case(ch % chans, kind, true) else {
                    return Ok(());
                };
                let future: OpFuture = Box::pin(async move {
                    Finished::Plain(future.await.expect("a plain operation has no pattern"))
                });
                let id = self.model.start(vec![case], None);
                self.first_poll(id, future)
            }
            Step::Select {
                ref cases,
                biased,
                default,
            } => {
                let mut model_cases = Vec::new();
                let mut futures: Vec<(CaseFuture, bool)> = Vec::new();
                for spec in cases.iter().take(MAX_CASES) {
                    let ch = spec.ch % chans;
                    let send = spec.kind == CaseKind::Send;
                    let repeated = model_cases.iter().any(|case: &Case| {
                        case.ch == ch && matches!(case.dir, Dir::Send(_)) == send
                    });
                    if repeated {
                        continue;
                    }
                    if let Some((case, future)) = self.case(ch, spec.kind, spec.enabled) {
                        model_cases.push(case);
                        futures.push((future, spec.enabled));
                    }
                }
                let future = select_future(futures, biased, default);
                let id = self
                    .model
                    .start(model_cases, Some(SelectKind { biased, default }));
                self.first_poll(id, future)
            }
            Step::Poll { pending } => {
                if self.pending.is_empty() {
                    return Ok(());
                }
                let index = pending % self.pending.len();
                let id = self.pending[index].id;
                let real = poll(&mut self.pending[index]);
                if self.model.poll(id, &real)? {
                    self.pending.remove(index);
                }
                Ok(())
            }
            Step::Drop { pending } => {
                if self.pending.is_empty() {
                    return Ok(());
                }
                let dropped = self.pending.remove(pending % self.pending.len());
                let id = dropped.id;
                drop(dropped);
                self.model.drop_op(id);
                Ok(())
            }
        }
    }

    /// A case on channel `ch`, with the future that owns a clone of the handle it needs;
    /// `None` if the program holds no handle of that side.
    fn case(&mut self, ch: usize, kind: CaseKind, enabled: bool) -> Option<(Case, CaseFuture)> {
        if kind == CaseKind::Send {
            let tx = self.chans[ch].senders.first()?.clone();
            let (id, token) = self.token();
            let future: CaseFuture = Box::pin(async move {
                let result = tx.send(token).await;
                drop(tx);
                Some(match result {
                    Ok(()) => Outcome::Sent,
                    Err(SendError(back)) => Outcome::SendClosed(back.take()),
                })
            });
            let dir = Dir::Send(id);
            return Some((Case { ch, dir, enabled }, future));
        }
        let rx = self.chans[ch].receivers.first()?.clone();
        let refutable = kind == CaseKind::RecvSome;
        let future: CaseFuture = Box::pin(async move {
            let got = rx.recv().await;
            drop(rx);
            match got {
                Some(token) => Some(Outcome::Received(token.take())),
                None if refutable => None,
                None => Some(Outcome::RecvClosed),
            }
        });
        let dir = Dir::Recv { refutable };
        Some((Case { ch, dir, enabled }, future))
    }

    /// Polls a new operation once; keeps it if it is pending.
    fn first_poll(&mut self, id: OpId, future: OpFuture) -> Result<(), String> {
        let mut pending = Pending {
            id,
            future,
            wakes: Arc::default(),
        };
        let real = poll(&mut pending);
        if !self.model.poll(id, &real)? {
            self.pending.push(pending);
        }
        Ok(())
    }

    /// After each step: lengths, closed flags and capacities agree; exactly the values the
    /// model discarded were dropped; every operation a peer completed was woken.
    fn check_observations(&mut self) -> Result<(), String> {
        for (ch, handles) in self.chans.iter().enumerate() {
            let facts = handles
                .senders
                .first()
                .map(|tx| (tx.len(), tx.is_closed(), tx.capacity()))
                .into_iter()
                .chain(
                    handles
                        .receivers
                        .first()
                        .map(|rx| (rx.len(), rx.is_closed(), rx.capacity())),
                );
            let model = (
                self.model.len(ch),
                self.model.is_closed(ch),
                self.model.capacity(ch),
            );
            for real in facts {
                same(
                    &format!("channel {ch}'s (len, is_closed, capacity)"),
                    real,
                    model,
                )?;
            }
        }
        let dropped = self.ledger.dropped();
        let discarded: Vec<Id> = self.model.discarded().iter().copied().collect();
        same("the values dropped unseen", dropped, discarded)?;
        for id in self.model.take_committed() {
            let pending = self
                .pending
                .iter()
                .find(|pending| pending.id == id)
                .ok_or_else(|| format!("model bug: committed operation {id} is not pending"))?;
            if pending.wakes.0.swap(0, Ordering::SeqCst) == 0 {
                return Err(format!(
                    "pending operation {id} was completed by a peer but its task was not woken"
                ));
            }
        }
        Ok(())
    }

    /// Drops what is still pending, drains the channels that still have a receiver, drops
    /// every handle, and checks that every token ended where the model says.
    fn finish(mut self) -> Result<(), String> {
        while let Some(pending) = self.pending.pop() {
            let id = pending.id;
            drop(pending);
            self.model.drop_op(id);
            self.check_observations()?;
        }
        for ch in 0..self.chans.len() {
            let Some(rx) = self.chans[ch].receivers.first() else {
                continue;
            };
            loop {
                let real = rx.try_recv().map(Token::take);
                same(
                    &format!("draining channel {ch}"),
                    real,
                    self.model.try_recv(ch),
                )?;
                if real.is_err() {
                    break;
                }
            }
        }
        for (ch, handles) in std::mem::take(&mut self.chans).into_iter().enumerate() {
            for _ in handles.senders.iter() {
                self.model.drop_sender(ch);
            }
            for _ in handles.receivers.iter() {
                self.model.drop_receiver(ch);
            }
            drop(handles);
        }
        let dropped = self.ledger.dropped();
        let discarded: Vec<Id> = self.model.discarded().iter().copied().collect();
        same("the values dropped unseen", dropped, discarded)?;
        self.ledger.check_all_ended()
    }
}

/// Polls a pending operation with its counting waker.
fn poll(pending: &mut Pending) -> Poll<Finished> {
    let waker = Waker::from(Arc::clone(&pending.wakes));
    pending.wakes.0.store(0, Ordering::SeqCst);
    pending
        .future
        .as_mut()
        .poll(&mut Context::from_waker(&waker))
}

/// `select!` over `cases` (at most three; the rest are disabled placeholders), in the form
/// `biased` and `default` ask for. Every case is `Some(outcome) = future, if enabled`.
fn select_future(cases: Vec<(CaseFuture, bool)>, biased: bool, default: bool) -> OpFuture {
    let mut cases = cases.into_iter();
    let mut next = || {
        cases.next().unwrap_or_else(|| {
            let placeholder: CaseFuture = Box::pin(std::future::pending());
            (placeholder, false)
        })
    };
    let ((c0, e0), (c1, e1), (c2, e2)) = (next(), next(), next());
    macro_rules! three_cases {
        ([$($biased:tt)*] [$($default:tt)*]) => {
            Box::pin(async move {
                gort::select! {
                    $($biased)*
                    Some(outcome) = c0, if e0 => Finished::Case(0, outcome),
                    Some(outcome) = c1, if e1 => Finished::Case(1, outcome),
                    Some(outcome) = c2, if e2 => Finished::Case(2, outcome),
                    $($default)*
                    else => Finished::AllDisabled,
                }
            })
        };
    }
    match (biased, default) {
        (false, false) => three_cases!([] []),
        (true, false) => three_cases!([biased;] []),
        (false, true) => three_cases!([] [default => Finished::Default,]),
        (true, true) => three_cases!([biased;] [default => Finished::Default,]),
    }
}

/// Compares a real result with the model's.
fn same<T: PartialEq + std::fmt::Debug>(what: &str, real: T, model: T) -> Result<(), String> {
    if real == model {
        Ok(())
    } else {
        Err(format!("{what}: gort gave {real:?}, the model {model:?}"))
    }
}
