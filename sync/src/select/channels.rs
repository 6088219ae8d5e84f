//! The channel side of the select driver: how a channel operation polled as a case registers
//! itself (phase 1), and how the driver then settles the registered channels under all their
//! locks (phase 2). See the parent module for the protocol.
//!
//! Nothing here allocates while a select has few channel cases ([`INLINE`]): the cases found,
//! and the lock guards of phase 2, are kept on the stack of the poll.

use std::cell::Cell;
use std::sync::Arc;
use std::task::Waker;

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
#[derive(Clone, Copy)]
pub(super) struct Entry {
    case: usize,
    op: *const (),
    chan: *const (),
    vtable: &'static dyn SelectCase,
    /// The channel's address, for lock order and to lock a channel used by two cases once.
    addr: usize,
}

/// The thread-local slot the cases' futures are polled under (parent module doc): set once
/// for all of phase 1, and started afresh for each case.
pub(super) struct CaseSlot {
    case: Cell<usize>,
    /// Set once a channel operation registered (or from the start, for a poll that is no
    /// case's): a second one in the same case runs plainly.
    taken: Cell<bool>,
    entry: Cell<Option<Entry>>,
}

impl CaseSlot {
    /// The slot of phase 1, before any case.
    pub(super) fn new() -> CaseSlot {
        CaseSlot {
            case: Cell::new(0),
            taken: Cell::new(false),
            entry: Cell::new(None),
        }
    }

    /// A slot under which channel operations run plainly (the poll of a committed case).
    pub(super) fn plain() -> CaseSlot {
        CaseSlot {
            case: Cell::new(0),
            taken: Cell::new(true),
            entry: Cell::new(None),
        }
    }

    /// Starts case `case`'s poll (forgetting what an earlier case that did not end `Pending`
    /// may have registered).
    pub(super) fn start(&self, case: usize) {
        self.case.set(case);
        self.taken.set(false);
        self.entry.set(None);
    }

    /// The channel operation that registered in this case's poll, if one did.
    pub(super) fn take_entry(&self) -> Option<Entry> {
        self.entry.take()
    }
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
        slot.entry.set(Some(Entry {
            case: slot.case.get(),
            op,
            chan,
            vtable,
            addr,
        }));
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

/// Sets the slot for phase 1, restoring the outer one (a select inside a case).
pub(super) struct Enter(*const CaseSlot);

impl Enter {
    pub(super) fn new(slot: &CaseSlot) -> Enter {
        Enter(CURRENT.with(|current| current.replace(slot)))
    }
}

impl Drop for Enter {
    fn drop(&mut self) {
        CURRENT.with(|current| current.set(self.0));
    }
}

/// How many channel cases (and lock guards) phase 2 keeps on the stack before it spills.
const INLINE: usize = 4;

/// A list kept on the stack up to `INLINE` items, then on the heap.
struct StackVec<T> {
    inline: [Option<T>; INLINE],
    len: usize,
    spilled: Vec<T>,
}

impl<T> StackVec<T> {
    fn new() -> StackVec<T> {
        StackVec {
            inline: std::array::from_fn(|_| None),
            len: 0,
            spilled: Vec::new(),
        }
    }

    fn push(&mut self, item: T) {
        match self.inline.get_mut(self.len) {
            Some(free) => *free = Some(item),
            None => self.spilled.push(item),
        }
        self.len += 1;
    }

    fn iter(&self) -> impl Iterator<Item = &T> {
        self.inline.iter().flatten().chain(&self.spilled)
    }
}

/// The channel cases phase 1 found, in the order it polled them.
pub(super) struct Channels(StackVec<Entry>);

impl Channels {
    pub(super) fn new() -> Channels {
        Channels(StackVec::new())
    }

    pub(super) fn extend(&mut self, entry: Option<Entry>) {
        if let Some(entry) = entry {
            self.0.push(entry);
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.0.len == 0
    }

    fn iter(&self) -> impl Iterator<Item = &Entry> {
        self.0.iter()
    }

    /// Locks every channel once, in address order (so that two selects cannot deadlock).
    fn lock_all<'a>(&self) -> StackVec<RawLocked<'a>> {
        let mut guards = StackVec::new();
        let mut locked_up_to = None;
        // Picks the next higher address each time: a select has few channels, and this needs
        // no sorted copy.
        while let Some(entry) = self
            .iter()
            .filter(|entry| locked_up_to.is_none_or(|addr| entry.addr > addr))
            .min_by_key(|entry| entry.addr)
        {
            // SAFETY: the entry was registered during this poll; its op and channel are alive
            // and pinned in the select until the poll returns.
            guards.push(unsafe { entry.vtable.lock(entry.op, entry.chan) });
            locked_up_to = Some(entry.addr);
        }
        guards
    }
}

/// How phase 2 ended.
pub(super) enum Settled {
    /// A peer committed the select meanwhile: look at its winner.
    Retry,
    /// This case completed under the locks and won: its op holds the result.
    Committed(usize),
    /// No case could complete, and the select parked a waiter on each channel.
    Parked,
    /// No case could complete, and the select may not park (it has a `default`).
    NothingReady,
}

/// Phase 2 (parent module doc): with every channel of `channels` locked, withdraws the select's
/// waiters of an earlier round, tries each case in order, and commits the first that completes,
/// or else parks on all of them if `park` (creating `selection`, registering `waker`, the first
/// time).
pub(super) fn settle(
    channels: &Channels,
    selection: &mut Option<Arc<Selection>>,
    park: bool,
    waker: &Waker,
) -> Settled {
    let guards = channels.lock_all();
    if selection.as_ref().is_some_and(|s| s.winner().is_some()) {
        // A peer committed us between phase 1 and the locks.
        return Settled::Retry;
    }
    for entry in channels.iter() {
        // SAFETY: as in `lock_all`, and we hold the entry's channel lock.
        unsafe { entry.vtable.withdraw_locked(entry.op, entry.chan) };
    }
    // Peers completed under the locks, woken once they are released.
    let mut wakes = Wakes::default();
    let committed = channels.iter().find(|entry| {
        // SAFETY: as above.
        unsafe { entry.vtable.try_locked(entry.op, entry.chan, &mut wakes) }
    });
    let settled = if let Some(entry) = committed {
        // No peer can reach our waiters while we hold every lock, and none of ours is queued
        // any more, so this cannot fail; were it to, the op that completed above would lose
        // its result (a value sent twice, or one taken and dropped): checked in release builds
        // too.
        if selection.as_ref().is_some_and(|s| !s.try_win(entry.case)) {
            super::select_committed_twice();
        }
        Settled::Committed(entry.case)
    } else if park {
        // The first park makes the flag peers commit with. Nobody else sees it before the
        // waiters below are queued, so the waker is in place before any peer can wake us.
        let selection = selection.get_or_insert_with(|| {
            let selection = Arc::new(Selection::new());
            selection.register(waker);
            selection
        });
        for entry in channels.iter() {
            // SAFETY: as above.
            unsafe {
                entry
                    .vtable
                    .park_locked(entry.op, entry.chan, selection, entry.case)
            };
        }
        Settled::Parked
    } else {
        Settled::NothingReady
    };
    drop(guards);
    wakes.wake_all();
    settled
}
