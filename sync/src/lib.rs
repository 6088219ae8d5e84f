//! gort's Go channels and synchronisation (DESIGN.md §2, issue 6).
//!
//! - `chan/`: [`chan`](fn@chan), [`Sender`], [`Receiver`]: MPMC channels with Go's semantics
//!   (rendezvous at capacity 0, a ring otherwise, `close`, direct hand-off to a parked peer).
//! - `select.rs`: the runtime side of `select!` (the macro itself is the facade's, expanded by
//!   `gort-macros`), atomic over channel cases as Go's `selectgo` is.
//! - `primitives/`: `WaitGroup`, `Mutex`, `RwLock`, `Semaphore`, `Notify`, `Barrier`,
//!   `OnceCell`, `SetOnce` (re-exported by the facade as `gort::sync`), on `once_slot.rs` and
//!   `wait_queue.rs`.
//! - `mpsc/`, `oneshot/`: tokio's channels, `gort::sync::mpsc` and `gort::sync::oneshot`, on
//!   gort's own state in the GC arena; `blocking.rs` their thread-blocking variants.
//! - `broadcast/`, `watch/`: tokio's `sync::broadcast` and `sync::watch`, written here over
//!   `std` locks and a slab wait list (re-exported as `gort::sync::{broadcast, watch}`).
//!
//! The crate never imports the executor: waking a task is all it needs from a runtime, and the
//! coop budget comes from `gort-context`.

// The FIFO semaphore under the locks; public (hidden) under loom for `tests/loom_semaphore.rs`.
#[cfg(loom)]
#[doc(hidden)]
pub mod batch_semaphore;
#[cfg(not(loom))]
mod batch_semaphore;
mod blocking;
// Not under loom, like `primitives`: lock-based, and the loom models cover the channel only.
#[cfg(not(loom))]
pub mod broadcast;
mod chan;
mod loom;
pub mod mpsc;
pub mod oneshot;
// The value slot under `OnceCell` and `SetOnce`. Compiled under loom too, where it is public for
// `tests/loom_once.rs` (the primitives are not: the other locks lose `const` there).
#[cfg(loom)]
#[doc(hidden)]
pub mod once_slot;
#[cfg(not(loom))]
mod once_slot;
// Not under loom: the crates it wraps lose their `const` constructors there, and the loom models
// cover the channel only.
#[cfg(not(loom))]
pub mod primitives;
pub mod select;
// The parked futures of `Notify`, the once cells, `Barrier` and `WaitGroup`; under loom only
// `once_slot` uses it.
#[cfg_attr(loom, allow(dead_code))]
mod wait_queue;
#[cfg(not(loom))]
pub mod watch;

/// What `chan!` expands to.
#[doc(hidden)]
pub mod __private {
    pub use crate::chan::{ChanMaker, MakeOpaqueChan, MakeTracedChan};
}

pub use chan::{
    after, chan, traced_chan, Receiver, RecvFuture, SendError, SendFuture, Sender, TryRecvError,
    TrySendError,
};

/// `chan![T]` is a rendezvous channel, `chan![T; n]` one with `n` buffer slots. When `T:
/// Trace` the GC arena traces the elements ([`traced_chan`]), so a cycle through the channel's
/// buffer is reclaimed; otherwise they are opaque ([`chan`](fn@chan)).
#[macro_export]
macro_rules! chan {
    ($t:ty) => {
        $crate::chan!($t; 0)
    };
    ($t:ty; $capacity:expr) => {{
        #[allow(unused_imports)]
        use $crate::__private::{MakeOpaqueChan as _, MakeTracedChan as _};
        (&$crate::__private::ChanMaker::<$t>::new()).make($capacity)
    }};
}
