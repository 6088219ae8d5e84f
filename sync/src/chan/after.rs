//! `after(d)`: Go's `time.After`, a channel that receives the time once `d` has passed.
//!
//! # Delivered by the timer, cancelled with the receiver
//!
//! Go's runtime sends on the channel from the timer itself, and since Go 1.23 a timer whose
//! channel nobody references any more is collected without firing. The first version here spent
//! a goroutine per call that slept and then sent: a `select` loop with an `after(1h)` case left
//! one parked G (and one heap record) per iteration, 50,000 G after 50,000 iterations. Now:
//!
//! 1. `after` makes a one-slot channel and arms an [`Alarm`] whose waker owns the channel's only
//!    [`Sender`]. Waking it sends the clock's time ([`Instant::now`]) with `try_send` (the slot is
//!    free: nothing else sends) and drops the sender, which closes the channel: a second receive
//!    gets `None` (Go's blocks forever; a closed channel is what Rust can say instead).
//! 2. The channel keeps the alarm in its abandon hook (`state.rs`), which runs when its last
//!    [`Receiver`] is dropped: the alarm is cancelled (its heap record becomes a zombie, cleaned
//!    like a dropped `Sleep`'s) and its waker, with the sender, dropped at once, which frees the
//!    channel. Nothing is left of an abandoned `after` but a zombie record.
//!
//! The cycle channel → hook → alarm → waker → sender → channel is broken by either event, or
//! by the runtime's shutdown, which drops every armed timer's waker.

use std::sync::{Arc, Mutex};
use std::task::{Wake, Waker};
use std::time::Duration;

use gort_timer::{Alarm, Instant};

use super::{chan, Receiver, Sender};

/// A channel that receives the clock time once, when `duration` has passed (Go's `time.After`),
/// usable as a `select!` case like any receive. Dropping the receiver cancels the timer.
///
/// The timer is armed in the set of the thread calling this (its P's, or its runtime's): some M
/// of that runtime must run it, which is why `gort::time::after` starts the default runtime when
/// called off any runtime.
pub fn after(duration: Duration) -> Receiver<Instant> {
    let (sender, receiver) = chan::<Instant>(1);
    let deliver = Arc::new(Deliver(Mutex::new(Some(sender))));
    let alarm = Alarm::after(duration, Waker::from(deliver));
    receiver
        .chan
        .set_abandon_hook(Box::new(move || drop(alarm)));
    receiver
}

/// The alarm's waker: sends the time on the first wake.
struct Deliver(Mutex<Option<Sender<Instant>>>);

impl Wake for Deliver {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        // No user code runs under this lock: a poisoned one still holds a valid `Option`.
        let sender = self.0.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(sender) = sender {
            // The one slot is free (this is the only send) and a closed channel has nobody to
            // tell, so the result needs no handling.
            let _ = sender.try_send(Instant::now());
        }
    }
}
