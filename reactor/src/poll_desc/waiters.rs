//! The waiters parked on one descriptor: one list per kind of interest, and one latest-waker
//! slot per direction for the `poll_*_ready` calls.
//!
//! A list holds every task that waits (each `readable().await` future is its own waiter); a
//! slot holds only the waker of the most recent `poll_read_ready`/`poll_write_ready` (tokio's
//! rule for its poll functions: "only the `Waker` from the `Context` passed to the most recent
//! call is scheduled to receive a wakeup"). So a hand-written future polled from changing tasks
//! never accumulates wakers, and a waker it left behind is not woken for nothing.

use std::task::Waker;

use crate::interest::Interest;
use crate::ready::Ready;

/// The kinds of interest waiters are listed by (see "Kinds of readiness").
const KINDS: usize = 4;
const READ_LIST: usize = 0;
const WRITE_LIST: usize = 1;
const PRIORITY_LIST: usize = 2;
const ERROR_LIST: usize = 3;

/// Waiters parked on one descriptor, one list per kind of interest, and the latest-waker slots.
#[derive(Default)]
pub(super) struct Waiters {
    pub(super) lists: [Vec<Waker>; KINDS],
    /// The latest `poll_*_ready` waker per direction: read (`READ_LIST`), write (`WRITE_LIST`).
    pub(super) slots: [Option<Waker>; 2],
}

/// The latest-waker slot a list's wake also empties, if it has one.
pub(super) fn slot_of(list: usize) -> Option<usize> {
    match list {
        READ_LIST => Some(0),
        WRITE_LIST => Some(1),
        _ => None,
    }
}

/// The lists a wait for `interest` joins.
pub(super) fn lists_of(interest: Interest) -> impl Iterator<Item = usize> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    let priority = interest.is_priority();
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let priority = false;
    [
        (interest.is_readable(), READ_LIST),
        (interest.is_writable(), WRITE_LIST),
        (priority, PRIORITY_LIST),
        (interest.is_error(), ERROR_LIST),
    ]
    .into_iter()
    .filter_map(|(joins, list)| joins.then_some(list))
}

/// The lists an edge that sets `ready` wakes: those whose interest's mask `ready` meets.
pub(super) fn lists_woken_by(ready: Ready) -> impl Iterator<Item = usize> {
    let kinds = [
        (Interest::READABLE, READ_LIST),
        (Interest::WRITABLE, WRITE_LIST),
        #[cfg(any(target_os = "linux", target_os = "android"))]
        (Interest::PRIORITY, PRIORITY_LIST),
        (Interest::ERROR, ERROR_LIST),
    ];
    kinds
        .into_iter()
        .filter_map(move |(interest, list)| (!(interest.mask() & ready).is_empty()).then_some(list))
}
