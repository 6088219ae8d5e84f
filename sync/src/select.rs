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
//! `CaseSlot` set (phase 1). A channel operation polled under a slot does not act: it records
//! its channel and itself in the slot's table and returns `Pending` (or, if a peer completed its
//! parked waiter, returns that result). Any other future just runs: if it is ready, the driver
//! makes it the winner with the same CAS a peer would use, so a peer cannot also commit a
//! channel case. Then (phase 2) the driver locks the recorded channels, tries them in the
//! select's order, and commits or parks as above.
//!
//! Fairness: each poll starts at a random case (Go's `pollorder`); `biased;` starts at the first.
//!
//! Limits: a case future that contains several channel operations (a `join` of two receives)
//! is atomic for its first one only; the others run as plain operations. A non-channel future
//! that becomes ready in the instant a peer commits a channel case loses, and its output is
//! dropped, as tokio drops the futures of losing branches.

use std::cell::{Cell, RefCell};
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::chan::RawLocked;
use crate::chan::{Selection, Wakes};

/// What the driver needs from a channel case: implemented per element type by the channel
/// module, called with type-erased pointers to the op and its channel.
pub(crate) trait SelectCase {
    /// Locks the case's channel.
    ///
    /// # Safety
    ///
    /// `op` and `chan` are the pointers the case registered, used during the same poll.
    unsafe fn lock<'a>(&self, op: *const (), chan: *const ()) -> RawLocked<'a>;

    /// With the channel locked: withdraws the op's waiter of an earlier round, if it has one
    /// (no peer claimed it: the select has no winner). The driver withdraws every case's waiter
    /// before it tries any case, or a case could complete against the select's own waiter of
    /// another case (a send and a receive on one rendezvous channel).
    ///
    /// # Safety
    ///
    /// As for [`SelectCase::lock`], and the caller holds the channel's lock.
    unsafe fn withdraw_locked(&self, op: *const (), chan: *const ());

    /// With the channel locked and every waiter of the select withdrawn: completes the op now
    /// if it can (the result is kept in the op for its next poll). Peers it completes go to
    /// `wakes`, woken once every lock is released.
    ///
    /// # Safety
    ///
    /// As for [`SelectCase::withdraw_locked`].
    unsafe fn try_locked(&self, op: *const (), chan: *const (), wakes: &mut Wakes) -> bool;

    /// With the channel locked: parks a waiter for case `case` of `selection`.
    ///
    /// # Safety
    ///
    /// As for [`SelectCase::try_locked`].
    unsafe fn park_locked(
        &self,
        op: *const (),
        chan: *const (),
        selection: &Arc<Selection>,
        case: usize,
    );
}

/// A channel case found in phase 1.
struct Entry {
    case: usize,
    op: *const (),
    chan: *const (),
    vtable: &'static dyn SelectCase,
    /// The channel's address, for lock order and to lock a channel used by two cases once.
    addr: usize,
}

/// The thread-local slot a case's future is polled under (module doc).
pub(crate) struct CaseSlot {
    case: usize,
    /// Set once a channel operation registered: a second one in the same case runs plainly.
    taken: Cell<bool>,
    entries: RefCell<Vec<Entry>>,
}

thread_local! {
    static CURRENT: Cell<*const CaseSlot> = const { Cell::new(std::ptr::null()) };
}

/// The case being polled, as a channel operation sees it.
pub(crate) struct CurrentCase(*const CaseSlot);

impl CurrentCase {
    /// Records the channel operation `op` on `chan` as this case's.
    pub(crate) fn register(
        &self,
        op: *const (),
        chan: *const (),
        vtable: &'static dyn SelectCase,
        addr: usize,
    ) {
        // SAFETY: the slot lives on the driver's stack for the whole poll of this case, which
        // is where `current_case` handed out this pointer.
        let slot = unsafe { &*self.0 };
        slot.taken.set(true);
        slot.entries.borrow_mut().push(Entry {
            case: slot.case,
            op,
            chan,
            vtable,
            addr,
        });
    }
}

/// The case of a `select!` being polled on this thread, if a channel operation is polled as
/// (the first channel operation of) one.
pub(crate) fn current_case() -> Option<CurrentCase> {
    let slot = CURRENT.with(Cell::get);
    if slot.is_null() {
        return None;
    }
    // SAFETY: a non-null pointer is a live slot of the driver polling this case.
    if unsafe { &*slot }.taken.get() {
        return None;
    }
    Some(CurrentCase(slot))
}

/// Sets the slot for one case's poll, restoring the outer one (a select inside a case).
struct Enter(*const CaseSlot);

impl Enter {
    fn new(slot: &CaseSlot) -> Enter {
        Enter(CURRENT.with(|current| current.replace(slot)))
    }
}

impl Drop for Enter {
    fn drop(&mut self) {
        CURRENT.with(|current| current.set(self.0));
    }
}

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

/// The state of one `select!` expression across polls (the expansion's `poll_fn` owns it).
#[derive(Debug)]
pub struct SelectDriver {
    selection: Arc<Selection>,
    biased: bool,
    has_default: bool,
    /// Cases still enabled.
    enabled: Vec<bool>,
    rng: u64,
}

impl SelectDriver {
    /// A driver for `cases` cases; `enabled[i]` is case `i`'s `if` precondition.
    pub fn new(enabled: Vec<bool>, biased: bool, has_default: bool) -> SelectDriver {
        // A fresh random start per select (Go's `cheaprandn`), seeded from the driver's
        // address and a counter so that concurrent selects differ.
        thread_local! {
            static SEED: Cell<u64> = const { Cell::new(0x9E37_79B9_7F4A_7C15) };
        }
        let rng = SEED.with(|seed| {
            let next = seed.get().wrapping_add(0x9E37_79B9_7F4A_7C15);
            seed.set(next);
            next
        });
        SelectDriver {
            selection: Arc::new(Selection::new()),
            biased,
            has_default,
            enabled,
            rng,
        }
    }

    fn random_start(&mut self, cases: usize) -> usize {
        if self.biased || cases == 0 {
            return 0;
        }
        // xorshift64*
        let mut x = self.rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng = x;
        (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 32) as usize % cases
    }

    /// One poll of the select. `poll_case(i, cx)` polls case `i`'s future (the expansion
    /// generates it: it matches the output against the case's pattern).
    pub fn poll<O>(
        &mut self,
        cx: &mut Context<'_>,
        mut poll_case: impl FnMut(usize, &mut Context<'_>) -> CasePoll<O>,
    ) -> Poll<Selected<O>> {
        // Before anything can commit us: a peer's wake must find this task's waker.
        self.selection.register(cx.waker());
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

    fn poll_cases<O>(
        &mut self,
        cx: &mut Context<'_>,
        poll_case: &mut impl FnMut(usize, &mut Context<'_>) -> CasePoll<O>,
    ) -> Poll<Selected<O>> {
        let cases = self.enabled.len();
        loop {
            if let Some(winner) = self.selection.winner() {
                // A peer committed a channel case (or an earlier round did): its op has the
                // result.
                match poll_case(winner, cx) {
                    CasePoll::Ready(output) => {
                        Self::charge(cx);
                        return Poll::Ready(Selected::Case(output));
                    }
                    CasePoll::Mismatch => {
                        self.enabled[winner] = false;
                        self.selection.reset();
                        continue;
                    }
                    CasePoll::Pending => {
                        // The peer has won the flag but not yet published the value: its
                        // `complete` wakes us.
                        return Poll::Pending;
                    }
                }
            }
            let start = self.random_start(cases);
            let mut entries: Vec<Entry> = Vec::new();
            // Phase 1: poll every enabled case; channel operations only register.
            for step in 0..cases {
                let case = (start + step) % cases;
                if !self.enabled[case] {
                    continue;
                }
                let slot = CaseSlot {
                    case,
                    taken: Cell::new(false),
                    entries: RefCell::new(Vec::new()),
                };
                let polled = {
                    let _enter = Enter::new(&slot);
                    poll_case(case, cx)
                };
                match polled {
                    CasePoll::Ready(output) => {
                        if self.selection.try_win(case) {
                            return Poll::Ready(Selected::Case(output));
                        }
                        // A peer committed another case meanwhile: that one wins (module doc),
                        // and this completed future must not be polled again.
                        self.enabled[case] = false;
                        break;
                    }
                    CasePoll::Mismatch => {
                        self.enabled[case] = false;
                        if self.selection.winner() == Some(case) {
                            self.selection.reset();
                        }
                    }
                    CasePoll::Pending => entries.extend(slot.entries.into_inner()),
                }
            }
            if self.selection.winner().is_some() {
                continue;
            }
            if entries.is_empty() && !self.enabled.iter().any(|&on| on) {
                return Poll::Ready(Selected::AllDisabled);
            }
            if entries.is_empty() {
                if self.has_default {
                    Self::charge(cx);
                    return Poll::Ready(Selected::Default);
                }
                return Poll::Pending;
            }
            // Phase 2: every channel locked, in address order, each once.
            let mut order: Vec<usize> = (0..entries.len()).collect();
            order.sort_by_key(|&i| entries[i].addr);
            order.dedup_by_key(|i| entries[*i].addr);
            let guards: Vec<RawLocked<'_>> = order
                .iter()
                .map(|&i| {
                    let entry = &entries[i];
                    // SAFETY: the entry was registered during this poll; its op and channel
                    // are alive and pinned in the select until the poll returns.
                    unsafe { entry.vtable.lock(entry.op, entry.chan) }
                })
                .collect();
            if self.selection.winner().is_some() {
                // A peer committed us between phase 1 and the locks.
                drop(guards);
                continue;
            }
            for entry in &entries {
                // SAFETY: as above, and we hold the entry's channel lock.
                unsafe { entry.vtable.withdraw_locked(entry.op, entry.chan) };
            }
            // Peers completed under the locks, woken once they are released.
            let mut wakes = Wakes::default();
            let mut committed = None;
            for entry in &entries {
                // SAFETY: as above, and we hold the entry's channel lock.
                if unsafe { entry.vtable.try_locked(entry.op, entry.chan, &mut wakes) } {
                    committed = Some(entry.case);
                    break;
                }
            }
            if let Some(case) = committed {
                // No peer can reach our waiters while we hold every lock, and none of ours is
                // queued any more, so this cannot fail; were it to, the op that completed
                // above would lose its result (a value sent twice, or one taken and dropped):
                // checked in release builds too.
                if !self.selection.try_win(case) {
                    select_committed_twice();
                }
                drop(guards);
                wakes.wake_all();
                continue;
            }
            if !self.has_default {
                for entry in &entries {
                    // SAFETY: as above.
                    unsafe {
                        entry
                            .vtable
                            .park_locked(entry.op, entry.chan, &self.selection, entry.case)
                    };
                }
            }
            drop(guards);
            wakes.wake_all();
            if self.has_default {
                Self::charge(cx);
                return Poll::Ready(Selected::Default);
            }
            return Poll::Pending;
        }
    }
}

/// A select case committed while another already had: the commit protocol is broken, and going
/// on would deliver a value twice or lose one.
#[cold]
#[inline(never)]
fn select_committed_twice() -> ! {
    panic!("gort: a select! case was committed twice: a bug in gort's select protocol")
}
