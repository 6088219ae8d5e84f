//! A small per-M random number generator for victim selection (Go's `cheaprand`).
//!
//! Quality only has to be good enough that two spinning Ms do not pick the same victim order
//! every time; wyrand is fast and passes that bar.

use std::hash::{BuildHasher, RandomState};

/// wyrand state.
pub(crate) struct FastRand {
    state: u64,
}

impl FastRand {
    /// A generator seeded from the process's random hasher keys and a per-call counter.
    pub(crate) fn new() -> FastRand {
        FastRand {
            state: RandomState::new().hash_one(std::thread::current().id()) | 1,
        }
    }

    /// The next pseudo-random value.
    pub(crate) fn next_u32(&mut self) -> u32 {
        self.state = self.state.wrapping_add(0xa076_1d64_78bd_642f);
        let t = u128::from(self.state) * u128::from(self.state ^ 0xe703_7ed1_a0b4_28db);
        ((t >> 64) as u64 ^ t as u64) as u32
    }

    /// A value in `0..n` (`n > 0`), by Lemire's multiply-shift.
    pub(crate) fn below(&mut self, n: u32) -> u32 {
        ((u64::from(self.next_u32()) * u64::from(n)) >> 32) as u32
    }
}
