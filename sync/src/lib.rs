//! gort's Go channels and synchronisation (DESIGN.md §2, issue 6).
//!
//! - `chan/`: [`chan`](fn@chan), [`Sender`], [`Receiver`]: MPMC channels with Go's semantics
//!   (rendezvous at capacity 0, a ring otherwise, `close`, direct hand-off to a parked peer).
//! - `select.rs`: the runtime side of `select!` (the macro itself is the facade's, expanded by
//!   `gort-macros`), atomic over channel cases as Go's `selectgo` is.
//! - `primitives/`: `WaitGroup`, `Mutex`, `RwLock`, `Semaphore`, `Notify`, `Barrier`,
//!   `OnceCell` (re-exported by the facade as `gort::sync`).
//!
//! The crate never imports the executor: waking a task is all it needs from a runtime, and the
//! coop budget comes from `gort-context`.

mod chan;
mod loom;
// Not under loom: the crates it wraps lose their `const` constructors there, and the loom models
// cover the channel only.
#[cfg(not(loom))]
pub mod primitives;
pub mod select;

pub use chan::{
    chan, Receiver, RecvFuture, SendError, SendFuture, Sender, TryRecvError, TrySendError,
};

/// `chan![T]` is `chan::<T>(0)` (a rendezvous channel); `chan![T; n]` is `chan::<T>(n)`.
#[macro_export]
macro_rules! chan {
    ($t:ty) => {
        $crate::chan::<$t>(0)
    };
    ($t:ty; $capacity:expr) => {
        $crate::chan::<$t>($capacity)
    };
}
