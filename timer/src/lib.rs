//! gort's timers (DESIGN.md §4, issue 4): a 4-ary heap per P, `Sleep`/`Timeout`/`Interval`, and
//! a clock that tests can pause.
//!
//! # How a sleep wakes up
//!
//! `sleep(d).await` arms a [`TimerEntry`] in the current P's [`Timers`] (a 4-ary min-heap under
//! a lock, with the earliest deadline mirrored in an atomic). Nothing else happens on the hot
//! path: no thread is woken and no timer thread exists. The executor fires it:
//!
//! - the M holding that P runs the P's due timers each time it looks for work (Go's
//!   `checkTimers` at the top of `findRunnable`);
//! - an M that is out of work and stealing runs other Ps' due timers, so a timer whose P went
//!   idle, or whose task moved to another P, still fires;
//! - the M that blocks in the netpoller bounds its wait by the earliest deadline over every set,
//!   so an idle runtime wakes exactly when the first timer is due. A timer that becomes the
//!   earliest of its set calls the runtime's hook ([`TimeDriver`]), which breaks that wait if it
//!   would sleep past the new deadline.
//!
//! Precision is therefore the kernel's (the poller's timed wait), not a wheel's millisecond tick.
//!
//! # Where things are
//!
//! - `heap.rs`: [`TimerHeap`], the 4-ary heap with lazily removed zombies;
//! - `entry.rs`: [`TimerEntry`], one timer's generation + fired bit, so that cancel and re-arm
//!   never search the heap;
//! - `timers.rs`: [`Timers`], one P's set;
//! - `driver.rs` and `clock.rs`: [`TimeDriver`], a runtime's [`Clock`] and hook;
//! - `context.rs`: which set this thread arms into (kept by the executor);
//! - `instant.rs`, `sleep.rs`, `timeout.rs`, `interval.rs`, `error.rs`: the public API with
//!   tokio's names; `test_clock.rs`: `pause`, `resume`, `advance`;
//! - `alarm.rs`: [`Alarm`], a timer that calls a waker with no task polling it (what
//!   `time::after` sends from).

mod alarm;
mod clock;
mod context;
mod driver;
mod entry;
mod error;
mod heap;
mod instant;
mod interval;
mod loom;
mod sleep;
mod test_clock;
mod timeout;
mod timers;

pub use alarm::Alarm;
pub use clock::Clock;
pub use context::{default_timers, has_current, is_driven, set_current, set_default_timers};
pub use driver::{TimeDriver, TimeEvent};
pub use entry::TimerEntry;
pub use error::{Elapsed, Error};
pub use heap::TimerHeap;
pub use instant::Instant;
pub use interval::{interval, interval_at, Interval, MissedTickBehavior};
pub use sleep::{sleep, sleep_until, Sleep};
pub use test_clock::{advance, pause, resume};
pub use timeout::{timeout, timeout_at, Timeout};
pub use timers::{deadline_nanos, Armed, ShutDown, Timers};
