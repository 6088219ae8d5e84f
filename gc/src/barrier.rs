//! The two fences of the stop-the-world handshake (`safepoint.rs`), asymmetric where the OS
//! allows it.
//!
//! The handshake needs a full fence between each side's store and its load. Mutators pin on
//! every poll, collectors stop the world rarely, so the cost belongs on the collector's side:
//! on Linux the mutator's fence is only a compiler fence, and the collector's is
//! `membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)`, which makes every running thread of the
//! process execute a full fence before it returns (threads not running have passed through a
//! context switch, which is one). Folly's `asymmetricLightBarrier`/`asymmetricHeavyBarrier`
//! and the Linux RCU use the same pairing. Where `membarrier` is missing (old kernels, other
//! systems, Miri, loom), both sides use `fence(SeqCst)`.
//!
//! Measured on the channel ping-pong (one poll per message): the `SeqCst` fence on every pin
//! cost about 15% of a round trip.

use crate::loom::{fence, Ordering};

/// The mutator's side: cheap, paired with [`heavy`].
#[inline]
pub(crate) fn light() {
    if asymmetric() {
        std::sync::atomic::compiler_fence(Ordering::SeqCst);
    } else {
        fence(Ordering::SeqCst);
    }
}

/// The collector's side.
pub(crate) fn heavy() {
    #[cfg(all(target_os = "linux", not(miri), not(loom)))]
    if asymmetric() {
        return membarrier::private_expedited();
    }
    fence(Ordering::SeqCst);
}

/// Whether the pair is asymmetric, decided once (before any pin or stop completes, since both
/// sides ask first).
#[inline]
fn asymmetric() -> bool {
    #[cfg(all(target_os = "linux", not(miri), not(loom)))]
    return membarrier::available();
    #[cfg(not(all(target_os = "linux", not(miri), not(loom))))]
    return false;
}

#[cfg(all(target_os = "linux", not(miri), not(loom)))]
mod membarrier {
    use std::sync::atomic::{AtomicU8, Ordering};

    const CMD_PRIVATE_EXPEDITED: libc::c_long = 1 << 3;
    const CMD_REGISTER_PRIVATE_EXPEDITED: libc::c_long = 1 << 4;

    const UNKNOWN: u8 = 0;
    const YES: u8 = 1;
    const NO: u8 = 2;

    static STATE: AtomicU8 = AtomicU8::new(UNKNOWN);

    /// Registers the process for private expedited barriers on first use.
    #[inline]
    pub(super) fn available() -> bool {
        match STATE.load(Ordering::Acquire) {
            YES => true,
            NO => false,
            _ => register(),
        }
    }

    #[cold]
    fn register() -> bool {
        // SAFETY: `membarrier` takes two integers and touches no memory of ours.
        let registered =
            unsafe { libc::syscall(libc::SYS_membarrier, CMD_REGISTER_PRIVATE_EXPEDITED, 0) } == 0;
        // Racing first users all register (idempotent) and store the same answer.
        STATE.store(if registered { YES } else { NO }, Ordering::Release);
        registered
    }

    /// A full fence on every running thread of the process.
    pub(super) fn private_expedited() {
        // SAFETY: as above; the process registered in `available`.
        let done = unsafe { libc::syscall(libc::SYS_membarrier, CMD_PRIVATE_EXPEDITED, 0) } == 0;
        assert!(done, "membarrier failed after registering");
    }
}
