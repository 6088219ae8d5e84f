//! `SyscallState`: whether the M holding a P is inside `block_in_place`, and the race between
//! that M coming back and sysmon retaking the P (Go's `entersyscall` / `exitsyscall` /
//! `retake`, `proc.go`).
//!
//! One word per P: a tick (bumped at every entry) and two flags. The M holding the P writes
//! `IN_SYSCALL` with a plain store when it enters (the only atomic operation of the fast path:
//! nothing else can write the word while the flag is clear). While the flag is set two parties
//! may move it on, each with one CAS from the exact value that was stored:
//!
//! - the M, leaving: back to "running", keeping its P (the fast path);
//! - sysmon, having seen the same value (same tick) for 20 µs or more: to `RETAKEN`, and then
//!   it owns the P and hands it to another M.
//!
//! Exactly one CAS succeeds. An M whose CAS fails no longer holds the P and must not touch it
//! again. The tick keeps sysmon from retaking a later, different entry it has not timed. The loom
//! model `tests/loom_syscall.rs` checks the race with this type.

use crate::loom::{AtomicU64, Ordering};

/// The M holding the P is inside `block_in_place`.
const IN_SYSCALL: u64 = 1;
/// sysmon retook the P from a `block_in_place` that outlasted its threshold.
const RETAKEN: u64 = 2;
/// The tick, in the bits above the flags.
const TICK: u64 = 4;

/// A P's syscall word (module doc).
#[derive(Debug)]
pub struct SyscallState {
    /// `tick * TICK | flags`. `Release` stores and `AcqRel` CASes: the M's last queue operations
    /// before entering happen before sysmon's successful retake, which hands the P on.
    word: AtomicU64,
}

impl Default for SyscallState {
    fn default() -> Self {
        SyscallState::new()
    }
}

/// An observation of a P inside `block_in_place`, for [`SyscallState::retake`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InSyscall(u64);

impl SyscallState {
    /// A P that is not in a syscall.
    pub fn new() -> SyscallState {
        SyscallState {
            word: AtomicU64::new(0),
        }
    }

    /// The M holding the P enters `block_in_place`. Returns the value to leave with.
    pub fn enter(&self) -> InSyscall {
        // Only the holder writes while the flag is clear, so its own last value is current.
        let tick = self.word.load(Ordering::Relaxed) & !(TICK - 1);
        let entered = tick.wrapping_add(TICK) | IN_SYSCALL;
        self.word.store(entered, Ordering::Release);
        InSyscall(entered)
    }

    /// The M leaves `block_in_place`: `true` if it still holds the P, `false` if sysmon retook
    /// it meanwhile.
    pub fn exit(&self, entered: InSyscall) -> bool {
        self.word
            .compare_exchange(
                entered.0,
                entered.0 & !IN_SYSCALL,
                Ordering::AcqRel,
                Ordering::Acquire,
            )
            .is_ok()
    }

    /// sysmon's look: the entry in progress, if the M is inside `block_in_place`.
    pub fn observe(&self) -> Option<InSyscall> {
        let word = self.word.load(Ordering::Acquire);
        (word & IN_SYSCALL != 0).then_some(InSyscall(word))
    }

    /// sysmon takes the P from the entry it observed, if the M has not left it: `true` if it
    /// now owns the P.
    pub fn retake(&self, observed: InSyscall) -> bool {
        self.word
            .compare_exchange(
                observed.0,
                (observed.0 & !IN_SYSCALL) | RETAKEN,
                Ordering::AcqRel,
                Ordering::Acquire,
            )
            .is_ok()
    }

    /// A new holder of a retaken P clears the flag (`acquirep`).
    pub fn reset(&self) {
        let word = self.word.load(Ordering::Relaxed);
        if word & RETAKEN != 0 {
            self.word.store(word & !RETAKEN, Ordering::Release);
        }
    }
}
