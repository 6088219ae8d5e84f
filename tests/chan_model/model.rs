//! The reference model of gort's channels for one task: what every operation must return and
//! leave behind, written from the semantics in `sync/src/chan/mod.rs` and `select!`'s docs,
//! not from the implementation's data structures.
//!
//! # State
//!
//! A channel is its capacity, a FIFO buffer of ids, a closed flag, how many `Sender`s are alive
//! (the last one gone closes it), how many handles of either side are alive (the last one gone
//! frees it, dropping what it buffers), and two FIFO queues of *waiters*: the pending
//! operations parked on it, as (operation, case) pairs. A pending operation is a plain
//! `send`/`recv` future (one case) or a `select!` future (up to three cases, each a send or a
//! receive, enabled or not), and is *fresh* (not parked anywhere), *parked* (one waiter per
//! enabled case), or *committed* (a peer completed one case; not yet observed by a poll).
//!
//! # Rules
//!
//! 1. A send to a closed channel fails and returns its value. Otherwise it goes to the oldest
//!    parked receiver, else into the buffer if it has room, else it cannot complete now.
//! 2. A receive takes the buffer's head, and the oldest parked sender (if any) moves its value
//!    to the buffer's tail; with nothing buffered it takes the oldest parked sender's value;
//!    with neither, a closed channel gives `None` and an open one cannot complete now.
//! 3. Completing a parked operation commits it: all its other waiters leave their queues at
//!    once (a committed select's other cases are stale and no peer may take them), and its
//!    task must have been woken by the time the completing call returns.
//! 4. `close` marks the channel closed, then commits every receiver parked on it with `None`
//!    and every sender with its value back, receivers first, oldest first.
//! 5. A `select!` poll looks at its enabled cases against the state *before* it acts, never at
//!    its own waiters (a select cannot match itself). A receive case whose pattern is
//!    `Some(_)` that would get `None` is disabled instead. If some case is ready, one of them
//!    commits: any of them (the choice is random) or, with `biased;`, the first in order. If
//!    none is ready: `else` if no case is left enabled, `default` if there is one, else the
//!    select parks one waiter per enabled case, at the back of each queue (a select polled
//!    again while parked withdraws its waiters and parks afresh, as Go's `selectgo` does).
//! 6. Dropping a pending operation cancels its cases in order: a parked waiter leaves its
//!    queue; a send that did not complete drops its value; a receive that was committed with
//!    a value gives it back, to the oldest parked receiver, else to the buffer's *front* (so a
//!    buffer may then hold one more than its capacity). Then each case's handle is dropped.
//!    A select that completes drops its winning case's handle first, then the others in
//!    order (the losers' values are dropped, never sent). A case whose pattern refuted its
//!    output dropped its handle when it was refuted (its future had completed).
//!
//! Which ready case a select takes is the one thing the model cannot predict: [`Model::poll`]
//! is handed what the real select returned and checks that it was allowed before applying it.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::task::Poll;

use gort::TryRecvError;

use crate::token::Id;

/// A pending operation's name, shared by the model and the runner.
pub type OpId = u32;

/// What one channel operation gave.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The send delivered its value.
    Sent,
    /// The send found the channel closed and returned this value.
    SendClosed(Id),
    /// The receive got this value.
    Received(Id),
    /// The receive found the channel closed and drained (`None`).
    RecvClosed,
}

/// What a pending operation's future completed with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Finished {
    /// A plain `send`/`recv`.
    Plain(Outcome),
    /// A `select!` case, by index.
    Case(usize, Outcome),
    /// A `select!`'s `default` (nothing was ready).
    Default,
    /// A `select!`'s `else` (every case disabled).
    AllDisabled,
}

/// What `try_send` gave.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrySent {
    Sent,
    Full(Id),
    Closed(Id),
}

/// The direction of one case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dir {
    /// `tx.send(token)`.
    Send(Id),
    /// `rx.recv()`; `refutable`: the pattern is `Some(_)`, so `None` disables the case.
    Recv { refutable: bool },
}

/// One case of a pending operation.
#[derive(Clone, Copy, Debug)]
pub struct Case {
    pub ch: usize,
    pub dir: Dir,
    /// The `if` precondition; cleared when the pattern refutes the output.
    pub enabled: bool,
}

/// How a `select!` was written; `None` for a plain operation.
#[derive(Clone, Copy, Debug)]
pub struct SelectKind {
    pub biased: bool,
    pub default: bool,
}

/// Where a pending operation is (module doc).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum OpState {
    /// Not parked anywhere: being polled.
    Fresh,
    /// One waiter queued per enabled case.
    Parked,
    /// A peer completed case `case`; no waiter left.
    Committed { case: usize, outcome: Outcome },
}

/// A pending operation (module doc).
#[derive(Debug)]
struct Op {
    cases: Vec<Case>,
    select: Option<SelectKind>,
    state: OpState,
    /// Whether each case's future still holds its handle: a refuted case's future has
    /// completed (with the output its pattern rejected) and dropped it.
    holds_handle: Vec<bool>,
}

/// A parked case: which operation, which of its cases.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Waiter {
    op: OpId,
    case: usize,
}

/// One channel's state (module doc).
#[derive(Debug)]
struct Chan {
    capacity: usize,
    buffer: VecDeque<Id>,
    closed: bool,
    senders: usize,
    handles: usize,
    recvq: VecDeque<Waiter>,
    sendq: VecDeque<Waiter>,
}

/// The model of a set of channels and the pending operations on them.
#[derive(Debug)]
pub struct Model {
    chans: Vec<Chan>,
    ops: BTreeMap<OpId, Op>,
    next_op: OpId,
    /// Values dropped without reaching the test: unsent values of cancelled or losing sends,
    /// the contents of freed channels.
    discarded: BTreeSet<Id>,
    /// Operations committed by a peer since the last [`Model::take_committed`].
    committed: Vec<OpId>,
}

impl Model {
    /// Open channels of the given capacities, each with one `Sender` and one `Receiver`.
    pub fn new(capacities: &[usize]) -> Model {
        let chans = capacities
            .iter()
            .map(|&capacity| Chan {
                capacity,
                buffer: VecDeque::new(),
                closed: false,
                senders: 1,
                handles: 2,
                recvq: VecDeque::new(),
                sendq: VecDeque::new(),
            })
            .collect();
        Model {
            chans,
            ops: BTreeMap::new(),
            next_op: 0,
            discarded: BTreeSet::new(),
            committed: Vec::new(),
        }
    }

    /// `len()`: values buffered.
    pub fn len(&self, ch: usize) -> usize {
        self.chans[ch].buffer.len()
    }

    /// `is_closed()`.
    pub fn is_closed(&self, ch: usize) -> bool {
        self.chans[ch].closed
    }

    /// `capacity()`.
    pub fn capacity(&self, ch: usize) -> usize {
        self.chans[ch].capacity
    }

    /// What was dropped without reaching the test (field doc).
    pub fn discarded(&self) -> &BTreeSet<Id> {
        &self.discarded
    }

    /// The operations a peer committed since the last call: each must have been woken.
    pub fn take_committed(&mut self) -> Vec<OpId> {
        std::mem::take(&mut self.committed)
    }

    /// `try_send(id)` (rule 1).
    pub fn try_send(&mut self, ch: usize, id: Id) -> TrySent {
        match self.send_now(ch, id) {
            Some(Outcome::Sent) => TrySent::Sent,
            Some(_) => TrySent::Closed(id),
            None => TrySent::Full(id),
        }
    }

    /// `try_recv()` (rule 2).
    pub fn try_recv(&mut self, ch: usize) -> Result<Id, TryRecvError> {
        match self.recv_now(ch) {
            Some(Outcome::Received(id)) => Ok(id),
            Some(_) => Err(TryRecvError::Closed),
            None => Err(TryRecvError::Empty),
        }
    }

    /// `close()` from either side (rule 4).
    pub fn close(&mut self, ch: usize) {
        if self.chans[ch].closed {
            return;
        }
        self.chans[ch].closed = true;
        while let Some(waiter) = self.chans[ch].recvq.pop_front() {
            self.commit(waiter, Outcome::RecvClosed);
        }
        while let Some(waiter) = self.chans[ch].sendq.pop_front() {
            let value = self.sent_value(waiter);
            self.commit(waiter, Outcome::SendClosed(value));
        }
    }

    /// Clones a `Sender`.
    pub fn clone_sender(&mut self, ch: usize) {
        self.chans[ch].senders += 1;
        self.chans[ch].handles += 1;
    }

    /// Clones a `Receiver`.
    pub fn clone_receiver(&mut self, ch: usize) {
        self.chans[ch].handles += 1;
    }

    /// Drops a `Sender`: the last one closes the channel.
    pub fn drop_sender(&mut self, ch: usize) {
        self.chans[ch].senders -= 1;
        if self.chans[ch].senders == 0 {
            self.close(ch);
        }
        self.drop_handle(ch);
    }

    /// Drops a `Receiver` (the last one does not close the channel).
    pub fn drop_receiver(&mut self, ch: usize) {
        self.drop_handle(ch);
    }

    /// One handle fewer: the last one frees the channel, dropping what it buffers.
    fn drop_handle(&mut self, ch: usize) {
        let chan = &mut self.chans[ch];
        chan.handles -= 1;
        if chan.handles == 0 {
            assert!(
                chan.recvq.is_empty() && chan.sendq.is_empty(),
                "model bug: a freed channel has waiters (their operations hold handles)"
            );
            self.discarded.extend(chan.buffer.drain(..));
        }
    }

    /// A new pending operation, before its first poll. Its futures own a clone of the handle
    /// of each case (a `Sender` per send case, a `Receiver` per receive case).
    pub fn start(&mut self, cases: Vec<Case>, select: Option<SelectKind>) -> OpId {
        for case in &cases {
            match case.dir {
                Dir::Send(_) => self.clone_sender(case.ch),
                Dir::Recv { .. } => self.clone_receiver(case.ch),
            }
        }
        let id = self.next_op;
        self.next_op += 1;
        let holds_handle = vec![true; cases.len()];
        self.ops.insert(
            id,
            Op {
                cases,
                select,
                state: OpState::Fresh,
                holds_handle,
            },
        );
        id
    }

    /// Polls operation `id`, whose real future's poll gave `real`: checks it against the rules
    /// and applies its effects. `Ok(true)`: it completed.
    pub fn poll(&mut self, id: OpId, real: &Poll<Finished>) -> Result<bool, String> {
        let op = self.ops.get_mut(&id).expect("polling a live operation");
        match op.state {
            OpState::Committed { case, outcome } => {
                if op.select.is_some() && refutes(op.cases[case], outcome) {
                    // Rule 5: the case is disabled and the select goes on.
                    op.state = OpState::Fresh;
                    self.refute(id, case);
                    return self.evaluate(id, real);
                }
                let expected = output(op, case, outcome);
                expect(real, &[expected])?;
                self.finish(id, Some(case));
                Ok(true)
            }
            OpState::Parked if op.select.is_none() => {
                // A plain operation keeps its place in the queue.
                expect_pending(real, "a parked operation nobody completed")?;
                Ok(false)
            }
            OpState::Parked => {
                self.withdraw(id);
                self.ops.get_mut(&id).unwrap().state = OpState::Fresh;
                self.evaluate(id, real)
            }
            OpState::Fresh => self.evaluate(id, real),
        }
    }

    /// Rule 5 (and 1-2 for a plain operation) for a fresh operation.
    fn evaluate(&mut self, id: OpId, real: &Poll<Finished>) -> Result<bool, String> {
        let op = &self.ops[&id];
        let mut ready = Vec::new();
        let mut refuted = Vec::new();
        for (index, case) in op.cases.iter().enumerate() {
            if !case.enabled {
                continue;
            }
            match self.peek(*case) {
                Some(outcome) if op.select.is_some() && refutes(*case, outcome) => {
                    refuted.push(index)
                }
                Some(outcome) => ready.push((index, outcome)),
                None => {}
            }
        }
        let biased = op.select.is_none_or(|kind| kind.biased);
        if !ready.is_empty() {
            let allowed: Vec<Finished> = ready
                .iter()
                .take(if biased { 1 } else { ready.len() })
                .map(|&(case, outcome)| output(op, case, outcome))
                .collect();
            let picked = expect(real, &allowed)?;
            let (case, outcome) = ready[picked];
            let done = self.perform(id, case);
            assert_eq!(done, Some(outcome), "model bug: peek and perform disagree");
            self.finish(id, Some(case));
            return Ok(true);
        }
        for case in refuted {
            self.refute(id, case);
        }
        let op = self.ops.get_mut(&id).unwrap();
        if !op.cases.iter().any(|case| case.enabled) {
            expect(real, &[Finished::AllDisabled])?;
            self.finish(id, None);
            return Ok(true);
        }
        if op.select.is_some_and(|kind| kind.default) {
            expect(real, &[Finished::Default])?;
            self.finish(id, None);
            return Ok(true);
        }
        expect_pending(real, "nothing is ready")?;
        op.state = OpState::Parked;
        let cases = op.cases.clone();
        for (index, case) in cases.iter().enumerate().filter(|(_, case)| case.enabled) {
            let waiter = Waiter {
                op: id,
                case: index,
            };
            let chan = &mut self.chans[case.ch];
            match case.dir {
                Dir::Send(_) => chan.sendq.push_back(waiter),
                Dir::Recv { .. } => chan.recvq.push_back(waiter),
            }
        }
        Ok(false)
    }

    /// Disables case `case` of `id`, whose pattern refuted its output: its future has
    /// completed, dropping its handle.
    fn refute(&mut self, id: OpId, case: usize) {
        let op = self.ops.get_mut(&id).expect("a live operation");
        op.cases[case].enabled = false;
        op.holds_handle[case] = false;
        let case = op.cases[case];
        self.drop_case_handle(case);
    }

    /// Drops pending operation `id` (rule 6).
    pub fn drop_op(&mut self, id: OpId) {
        // Its waiters leave first: a close caused by dropping one case's handle must not
        // commit a later case of the same, dying, operation (it would change nothing seen).
        self.withdraw(id);
        let op = self.ops.remove(&id).expect("dropping a live operation");
        for (index, case) in op.cases.iter().enumerate() {
            let committed = match op.state {
                OpState::Committed { case, outcome } if case == index => Some(outcome),
                _ => None,
            };
            match (case.dir, committed) {
                (_, Some(Outcome::Received(value))) => self.give_back(case.ch, value),
                (Dir::Send(_), Some(Outcome::Sent)) => {}
                (Dir::Send(value), _) => {
                    self.discarded.insert(value);
                }
                (Dir::Recv { .. }, _) => {}
            }
            if op.holds_handle[index] {
                self.drop_case_handle(*case);
            }
        }
    }

    /// A completed operation's futures are dropped: the winner's handle first (its future
    /// ended inside the select's poll), then the other cases in order.
    fn finish(&mut self, id: OpId, winner: Option<usize>) {
        let op = self.ops.remove(&id).expect("finishing a live operation");
        if let Some(winner) = winner {
            self.drop_case_handle(op.cases[winner]);
        }
        for (index, case) in op.cases.iter().enumerate() {
            if Some(index) == winner {
                continue;
            }
            if let Dir::Send(value) = case.dir {
                self.discarded.insert(value);
            }
            if op.holds_handle[index] {
                self.drop_case_handle(*case);
            }
        }
    }

    /// Drops the handle the future of `case` holds.
    fn drop_case_handle(&mut self, case: Case) {
        match case.dir {
            Dir::Send(_) => self.drop_sender(case.ch),
            Dir::Recv { .. } => self.drop_receiver(case.ch),
        }
    }

    /// What `case` would give now, without acting.
    fn peek(&self, case: Case) -> Option<Outcome> {
        let chan = &self.chans[case.ch];
        match case.dir {
            Dir::Send(value) if chan.closed => Some(Outcome::SendClosed(value)),
            Dir::Send(_) if !chan.recvq.is_empty() || chan.buffer.len() < chan.capacity => {
                Some(Outcome::Sent)
            }
            Dir::Send(_) => None,
            Dir::Recv { .. } => {
                if let Some(&head) = chan.buffer.front() {
                    Some(Outcome::Received(head))
                } else if let Some(&sender) = chan.sendq.front() {
                    Some(Outcome::Received(self.sent_value(sender)))
                } else if chan.closed {
                    Some(Outcome::RecvClosed)
                } else {
                    None
                }
            }
        }
    }

    /// Does case `case` of `id` now (it is ready).
    fn perform(&mut self, id: OpId, case: usize) -> Option<Outcome> {
        let case = self.ops[&id].cases[case];
        match case.dir {
            Dir::Send(value) => self.send_now(case.ch, value),
            Dir::Recv { .. } => self.recv_now(case.ch),
        }
    }

    /// Rule 1; `None`: it cannot complete now.
    fn send_now(&mut self, ch: usize, value: Id) -> Option<Outcome> {
        if self.chans[ch].closed {
            return Some(Outcome::SendClosed(value));
        }
        if let Some(receiver) = self.chans[ch].recvq.pop_front() {
            self.commit(receiver, Outcome::Received(value));
            return Some(Outcome::Sent);
        }
        let chan = &mut self.chans[ch];
        if chan.buffer.len() < chan.capacity {
            chan.buffer.push_back(value);
            return Some(Outcome::Sent);
        }
        None
    }

    /// Rule 2; `None`: it cannot complete now.
    fn recv_now(&mut self, ch: usize) -> Option<Outcome> {
        if let Some(head) = self.chans[ch].buffer.pop_front() {
            if let Some(sender) = self.chans[ch].sendq.pop_front() {
                let refill = self.sent_value(sender);
                self.chans[ch].buffer.push_back(refill);
                self.commit(sender, Outcome::Sent);
            }
            return Some(Outcome::Received(head));
        }
        if let Some(sender) = self.chans[ch].sendq.pop_front() {
            let value = self.sent_value(sender);
            self.commit(sender, Outcome::Sent);
            return Some(Outcome::Received(value));
        }
        self.chans[ch].closed.then_some(Outcome::RecvClosed)
    }

    /// Rule 6's give-back of a value a cancelled receive was handed.
    fn give_back(&mut self, ch: usize, value: Id) {
        match self.chans[ch].recvq.pop_front() {
            Some(receiver) => self.commit(receiver, Outcome::Received(value)),
            None => self.chans[ch].buffer.push_front(value),
        }
    }

    /// Rule 3: a peer completes `waiter`, already off its queue.
    fn commit(&mut self, waiter: Waiter, outcome: Outcome) {
        self.withdraw(waiter.op);
        let op = self.ops.get_mut(&waiter.op).expect("a waiter's operation");
        op.state = OpState::Committed {
            case: waiter.case,
            outcome,
        };
        self.committed.push(waiter.op);
    }

    /// Takes every waiter of `id` off its queue.
    fn withdraw(&mut self, id: OpId) {
        for chan in &mut self.chans {
            chan.recvq.retain(|waiter| waiter.op != id);
            chan.sendq.retain(|waiter| waiter.op != id);
        }
    }

    /// The value a parked sender holds.
    fn sent_value(&self, waiter: Waiter) -> Id {
        match self.ops[&waiter.op].cases[waiter.case].dir {
            Dir::Send(value) => value,
            Dir::Recv { .. } => unreachable!("model bug: a receiver in a send queue"),
        }
    }
}

/// Whether `case`'s pattern rejects `outcome` (`Some(v) = rx.recv()` getting `None`).
fn refutes(case: Case, outcome: Outcome) -> bool {
    matches!(
        (case.dir, outcome),
        (Dir::Recv { refutable: true }, Outcome::RecvClosed)
    )
}

/// What the future of `op` returns when case `case` completes with `outcome`.
fn output(op: &Op, case: usize, outcome: Outcome) -> Finished {
    match op.select {
        Some(_) => Finished::Case(case, outcome),
        None => Finished::Plain(outcome),
    }
}

/// Checks that `real` is one of `allowed`; gives its index.
fn expect(real: &Poll<Finished>, allowed: &[Finished]) -> Result<usize, String> {
    match real {
        Poll::Ready(got) => allowed
            .iter()
            .position(|want| want == got)
            .ok_or_else(|| format!("got {got:?}, expected one of {allowed:?}")),
        Poll::Pending => Err(format!("got Pending, expected one of {allowed:?}")),
    }
}

/// Checks that `real` is `Pending`, because `why`.
fn expect_pending(real: &Poll<Finished>, why: &str) -> Result<(), String> {
    match real {
        Poll::Pending => Ok(()),
        Poll::Ready(got) => Err(format!("got {got:?}, expected Pending ({why})")),
    }
}
