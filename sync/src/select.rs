//! The runtime side of `select!`: Go's `selectgo` (`select.go`) for futures.
//!
//! # What must hold
//!
//! Exactly one case commits. For channel cases that is subtle: a select parked on several
//! channels can be completed by a peer on any of them, each under its own lock, while the select
//! itself may be looking at the others. Go's answer, kept here:
//!
//! 1. **Peers commit a parked select with one CAS** on its `Selection` (`chan/waiter.rs`): a
//!    peer that loses drops that waiter and tries the next (Go's `selectDone`).
//! 2. **The select itself looks at its channels only while holding all their locks** (Go's
//!    `sellock`, in address order so that two selects cannot deadlock). With every lock held,
//!    no peer can reach any of its waiters, so the select can withdraw its waiters of an earlier
//!    round, try each case, and either commit one (no CAS race is possible) or park fresh
//!    waiters on all of them before any peer sees one.
//!
//! # How cases are found
//!
//! A case is any future. The driver polls each enabled case's future with a thread-local
//! `CaseSlot` set (phase 1, `select/channels.rs`). A channel operation polled under a slot does
//! not act: it records its channel and itself in the slot and returns `Pending` (or, if a peer
//! completed its parked waiter, returns that result). Any other future just runs: if it is
//! ready, the driver makes it the winner with the same CAS a peer would use, so a peer cannot
//! also commit a channel case. Then (phase 2) the driver locks the recorded channels, tries them
//! in the select's order, and commits or parks as above.
//!
//! Fairness: each poll starts at a random enabled case (Go's `pollorder`), drawn from a
//! thread-local generator; `biased;` starts at the first.
//!
//! # What a select costs
//!
//! A `select!` is one [`Select`] future: the tuple of its case futures, a `u64` of the cases
//! still enabled (`select!` takes at most 64), and the `Selection` that peers commit, which
//! exists only from the first time a channel case parks: nothing can commit a select that has
//! no waiter queued anywhere, so until then the driver decides alone. `biased;` and `default`
//! are const parameters, and the expansion's poll is a closure that captures nothing and is
//! handed the pinned tuple. So a select over plain futures is as large as tokio's and
//! allocates nothing, and neither does one whose channel case is ready when it looks (phase 2
//! keeps its few channels on the stack); a select that parks allocates its `Selection` once
//! and a waiter per channel per park, as a plain receive allocates its waiter.
//!
//! Limits: a case future that contains several channel operations (a `join` of two receives)
//! is atomic for its first one only; the others run as plain operations. A non-channel future
//! that becomes ready in the instant a peer commits a channel case loses, and its output is
//! dropped, as tokio drops the futures of losing branches.

mod channels;

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::chan::Selection;
pub(crate) use channels::{current_case, SelectCase};
use channels::{settle, CaseSlot, Channels, Enter, Settled};

/// How a `select!` ended.
#[derive(Debug)]
pub enum Selected<O> {
    /// A case completed with this output.
    Case(O),
    /// Nothing was ready and the select has a `default` case.
    Default,
    /// Every case is disabled (its `if` precondition was false, or its output did not match
    /// its pattern): the `else` case runs (tokio panics if there is none).
    AllDisabled,
}

/// What one case's poll gave, from the `select!` expansion.
pub enum CasePoll<O> {
    /// The case's future is not ready.
    Pending,
    /// The case's future completed and its output matched the case's pattern.
    Ready(O),
    /// The case's future completed but its output did not match: the case is disabled.
    Mismatch,
}

/// The mask of enabled cases from the cases' `if` preconditions (bit `i`: case `i`), in the
/// order the expansion evaluated them.
pub const fn enabled_mask<const N: usize>(preconditions: [bool; N]) -> u64 {
    assert!(N <= 64, "select! supports at most 64 cases");
    let mut mask = 0;
    let mut case = 0;
    while case < N {
        if preconditions[case] {
            mask |= 1 << case;
        }
        case += 1;
    }
    mask
}

pin_project_lite::pin_project! {
    /// One `select!` expression: its case futures `F` (a tuple), the [`SelectDriver`] `D` that
    /// picks the winner, and `P`, the expansion's closure, which captures nothing: given the
    /// pinned tuple it projects it onto its fields once and runs the driver's poll with a
    /// per-case poll over them (which checks each output against its case's pattern).
    ///
    /// Once, not per case: a `&mut` to the whole tuple made for case 1 would invalidate the
    /// pointer case 0's channel operation registered for phase 2 (the driver's `SelectCase`
    /// calls), under the aliasing rules Miri checks.
    #[must_use = "futures do nothing unless awaited"]
    pub struct Select<F, P, D> {
        #[pin]
        futures: F,
        driver: D,
        poll: P,
    }
}

impl<F, P, O, const BIASED: bool, const DEFAULT: bool> Select<F, P, SelectDriver<BIASED, DEFAULT>>
where
    P: Fn(Pin<&mut F>, &mut SelectDriver<BIASED, DEFAULT>, &mut Context<'_>) -> Poll<Selected<O>>,
{
    /// A select over `futures` run by `driver`; `poll` polls it once (see the type).
    pub fn new(driver: SelectDriver<BIASED, DEFAULT>, futures: F, poll: P) -> Self {
        Select {
            futures,
            driver,
            poll,
        }
    }
}

impl<F, P, O, const BIASED: bool, const DEFAULT: bool> Future
    for Select<F, P, SelectDriver<BIASED, DEFAULT>>
where
    P: Fn(Pin<&mut F>, &mut SelectDriver<BIASED, DEFAULT>, &mut Context<'_>) -> Poll<Selected<O>>,
{
    type Output = Selected<O>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Selected<O>> {
        let this = self.project();
        (this.poll)(this.futures, this.driver, cx)
    }
}

/// The state of one `select!` across polls: which cases are still enabled, and the commit flag
/// its parked channel cases share with peers (created when one first parks). `BIASED`: cases
/// are tried in order; `DEFAULT`: the select has a `default` case and never waits.
#[derive(Debug)]
pub struct SelectDriver<const BIASED: bool, const DEFAULT: bool> {
    /// Bit `i`: case `i` is still enabled.
    enabled: u64,
    selection: Option<Arc<Selection>>,
}

impl<const BIASED: bool, const DEFAULT: bool> SelectDriver<BIASED, DEFAULT> {
    /// A driver whose cases `enabled` (bit `i`: case `i`) are enabled.
    pub const fn new(enabled: u64) -> Self {
        SelectDriver {
            enabled,
            selection: None,
        }
    }

    /// One poll of the select. `poll_case(i, cx)` polls case `i`'s future (the expansion
    /// generates it: it matches the output against the case's pattern).
    pub fn poll<O>(
        &mut self,
        cx: &mut Context<'_>,
        mut poll_case: impl FnMut(usize, &mut Context<'_>) -> CasePoll<O>,
    ) -> Poll<Selected<O>> {
        // Before anything can commit us: a peer's wake must find this task's waker. (With no
        // selection yet, no waiter of ours is queued, and no peer can commit us.)
        if let Some(selection) = &self.selection {
            selection.register(cx.waker());
        }
        // tokio's rule: a select with the budget spent is `Pending` (woken to run again),
        // but the select itself takes no unit: the case that wins pays. A plain future pays
        // in its own poll (if it is budget-aware); a channel case only registers in phase 1,
        // so the driver charges one unit when a channel case (or `default`) ends the select,
        // and a loop of selects over always-ready channels still yields to other tasks.
        if !gort_context::has_budget_remaining() {
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        self.poll_cases(cx, &mut poll_case)
    }

    /// Takes the unit a channel case's (or `default`'s) win costs (see `poll`).
    fn charge(cx: &mut Context<'_>) {
        if let Poll::Ready(progress) = gort_context::poll_proceed(cx) {
            progress.made();
        }
    }

    fn winner(&self) -> Option<usize> {
        self.selection
            .as_ref()
            .and_then(|selection| selection.winner())
    }

    /// Makes `case` the winner, unless a peer committed another case first.
    fn try_win(&self, case: usize) -> bool {
        self.selection
            .as_ref()
            .is_none_or(|selection| selection.try_win(case))
    }

    fn disable(&mut self, case: usize) {
        self.enabled &= !(1 << case);
    }

    fn poll_cases<O>(
        &mut self,
        cx: &mut Context<'_>,
        poll_case: &mut impl FnMut(usize, &mut Context<'_>) -> CasePoll<O>,
    ) -> Poll<Selected<O>> {
        loop {
            if let Some(winner) = self.winner() {
                // A peer committed a channel case (or an earlier round did): its op has the
                // result.
                match self.poll_winner(winner, cx, poll_case) {
                    Some(polled) => return polled,
                    None => continue,
                }
            }
            let start = if BIASED {
                0
            } else {
                random_start(self.enabled)
            };
            let mut channels = Channels::new();
            // Phase 1: poll every enabled case, from `start` on; channel operations only
            // register.
            let slot = CaseSlot::new();
            let enter = Enter::new(&slot);
            let mut order = self.enabled.rotate_right(start);
            while order != 0 {
                let case = (order.trailing_zeros() + start) as usize % 64;
                order &= order - 1;
                slot.start(case);
                match poll_case(case, cx) {
                    CasePoll::Ready(output) => {
                        if self.try_win(case) {
                            return Poll::Ready(Selected::Case(output));
                        }
                        // A peer committed another case meanwhile: that one wins (module doc),
                        // and this completed future must not be polled again.
                        self.disable(case);
                        break;
                    }
                    CasePoll::Mismatch => {
                        self.disable(case);
                        if self.winner() == Some(case) {
                            self.reset();
                        }
                    }
                    CasePoll::Pending => channels.extend(slot.take_entry()),
                }
            }
            drop(enter);
            if self.winner().is_some() {
                continue;
            }
            if channels.is_empty() {
                if self.enabled == 0 {
                    return Poll::Ready(Selected::AllDisabled);
                }
                if DEFAULT {
                    Self::charge(cx);
                    return Poll::Ready(Selected::Default);
                }
                return Poll::Pending;
            }
            // Phase 2, under every channel's lock.
            match settle(&channels, &mut self.selection, !DEFAULT, cx.waker()) {
                Settled::Retry => continue,
                Settled::Committed(case) => match self.poll_winner(case, cx, poll_case) {
                    Some(polled) => return polled,
                    None => continue,
                },
                Settled::Parked => return Poll::Pending,
                Settled::NothingReady => {
                    Self::charge(cx);
                    return Poll::Ready(Selected::Default);
                }
            }
        }
    }

    /// Polls `winner`, the committed channel case, whose op holds its result: `None` if the
    /// output did not match its pattern and the select goes on without it.
    fn poll_winner<O>(
        &mut self,
        winner: usize,
        cx: &mut Context<'_>,
        poll_case: &mut impl FnMut(usize, &mut Context<'_>) -> CasePoll<O>,
    ) -> Option<Poll<Selected<O>>> {
        // Polled as no case (a channel operation after the committed one runs plainly) rather
        // than under whatever slot an enclosing select set.
        let slot = CaseSlot::plain();
        let polled = {
            let _enter = Enter::new(&slot);
            poll_case(winner, cx)
        };
        match polled {
            CasePoll::Ready(output) => {
                Self::charge(cx);
                Some(Poll::Ready(Selected::Case(output)))
            }
            CasePoll::Mismatch => {
                self.disable(winner);
                self.reset();
                None
            }
            CasePoll::Pending => {
                // The peer has won the flag but not yet published the value (its `complete`
                // wakes us), or the case's future goes on after its channel operation: the
                // commit must outlive this poll, so it needs the flag even if no case parked.
                let selection = self
                    .selection
                    .get_or_insert_with(|| Arc::new(Selection::new()));
                if !selection.try_win(winner) {
                    select_committed_twice();
                }
                Some(Poll::Pending)
            }
        }
    }

    /// Makes the select undecided again (the winner's output did not match its pattern).
    fn reset(&self) {
        if let Some(selection) = &self.selection {
            selection.reset();
        }
    }
}

/// The case phase 1 starts at: a uniformly random one of the `enabled` cases (Go's
/// `cheaprandn`), from this thread's generator.
fn random_start(enabled: u64) -> u32 {
    let cases = enabled.count_ones();
    if cases <= 1 {
        return enabled.trailing_zeros() % 64;
    }
    thread_local! {
        static STATE: Cell<u64> = const { Cell::new(0) };
    }
    let random = STATE.with(|state| {
        let mut x = state.get();
        if x == 0 {
            // Seeded from this thread's slot address, so threads draw different sequences.
            x = (std::ptr::from_ref(state) as u64) | 1;
        }
        // xorshift64*
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        state.set(x);
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    });
    // The `pick`-th enabled case (multiply-shift maps 32 random bits onto 0..cases).
    let pick = ((random >> 32) * u64::from(cases)) >> 32;
    let mut bits = enabled;
    for _ in 0..pick {
        bits &= bits - 1;
    }
    bits.trailing_zeros()
}

/// A select case committed while another already had: the commit protocol is broken, and going
/// on would deliver a value twice or lose one.
#[cold]
#[inline(never)]
fn select_committed_twice() -> ! {
    panic!("gort: a select! case was committed twice: a bug in gort's select protocol")
}

#[cfg(test)]
mod tests;
