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
//!
//! Registering for `membarrier` can take an RCU grace period (~10 ms) in a process with several
//! threads, so it happens on a thread of its own when a runtime is built ([`prepare`]); until
//! it is done, mutators use the full fence, which pairs with `membarrier` as well, and the
//! collector registers itself if it gets there first.

use crate::loom::{fence, Ordering};

/// The mutator's side: cheap once the process is registered for `membarrier`, a full fence
/// until then. Paired with [`heavy`].
#[inline]
pub(crate) fn light() {
    #[cfg(all(target_os = "linux", not(miri), not(loom)))]
    if membarrier::registered() {
        return std::sync::atomic::compiler_fence(Ordering::SeqCst);
    }
    fence(Ordering::SeqCst);
}

/// The collector's side: `membarrier` (registering first if nobody has yet), which pairs with
/// either form of [`light`]; a full fence where `membarrier` is missing, and then every
/// [`light`] is a full fence too.
pub(crate) fn heavy() {
    #[cfg(all(target_os = "linux", not(miri), not(loom)))]
    if membarrier::register() {
        return membarrier::private_expedited();
    }
    fence(Ordering::SeqCst);
}

/// Registers the process for `membarrier` if nobody has yet, on the calling thread: the
/// collector calls this before it stops the world, so that a first registration (up to an RCU
/// grace period) holds nobody up.
pub(crate) fn before_stop() {
    #[cfg(all(target_os = "linux", not(miri), not(loom)))]
    membarrier::register();
}

/// Registers the process for `membarrier` on a thread of its own, so that pins get cheap
/// without anyone waiting: in a process with several threads the kernel waits out an RCU grace
/// period (~10 ms) to register. The executor calls this when it builds a runtime.
pub fn prepare() {
    #[cfg(all(target_os = "linux", not(miri), not(loom)))]
    {
        static STARTED: std::sync::Once = std::sync::Once::new();
        STARTED.call_once(|| {
            let _ = std::thread::Builder::new()
                .name("gort-gc-prepare".into())
                .spawn(|| {
                    membarrier::register();
                });
        });
    }
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

    /// Whether the process is registered (a mutator may then use a compiler fence).
    #[inline]
    pub(super) fn registered() -> bool {
        STATE.load(Ordering::Acquire) == YES
    }

    /// Registers the process if nobody has yet; whether it is registered.
    pub(super) fn register() -> bool {
        match STATE.load(Ordering::Acquire) {
            YES => return true,
            NO => return false,
            _ => {}
        }
        // SAFETY: `membarrier` takes two integers and touches no memory of ours.
        let registered =
            unsafe { libc::syscall(libc::SYS_membarrier, CMD_REGISTER_PRIVATE_EXPEDITED, 0) } == 0;
        // Racing registrations are idempotent and store the same answer.
        STATE.store(if registered { YES } else { NO }, Ordering::Release);
        registered
    }

    /// A full fence on every running thread of the process (registered first).
    pub(super) fn private_expedited() {
        // SAFETY: as above.
        let done = unsafe { libc::syscall(libc::SYS_membarrier, CMD_PRIVATE_EXPEDITED, 0) } == 0;
        assert!(done, "membarrier failed after registering");
    }
}
