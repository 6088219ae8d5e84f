//! How Ms drive the netpoller (Go's `netpoll` calls in `findRunnable`, `proc.go`).
//!
//! The reactor has no thread. Ms poll it at two points of `find_runnable`:
//!
//! - **Non-blocking**, after local and global work ran out and before stealing, if any G is
//!   parked on IO and no other thread holds the driver ([`poll_ready`]). The Gs it wakes are
//!   collected rather than scheduled one by one (`context::collect_wakes`) and placed in one go
//!   on this M's P: the first runs now, the rest queue at the ring's tail, and one spinner is
//!   woken if there is more than one (Go's `injectglist`).
//! - **Blocking**, instead of parking, by the first M to go idle while nobody else polls
//!   ([`wait_as_poller`]). It is recorded as the runtime's poller M, off the idle-M list. When
//!   the poll wakes Gs it takes an idle P and runs them (or, if every P is busy, queues them
//!   globally and parks, as Go's M does). `startm` takes it out of the poller only if no other M
//!   is parked, breaks its wait with `Reactor::notify`, and starts another M to poll in its
//!   place if Gs wait on IO. The `block_on` thread, when its main future waits, becomes the poller the
//!   same way ([`wait_as_main_poller`]); main's waker notifies the reactor if it is in there.
//!
//! Whoever holds the driver changes all the time, so IO never depends on one particular thread:
//! a worker stuck in a long poll only costs the others its P, not the netpoller (tokio #4730).
//! The `block_on` thread hands the poller on when it leaves `block_on` (`M::drop`). If every
//! thread is busy for a long time, or the poller M leaves with Gs one of which blocks its thread
//! while another P idles, nobody polls until an M goes idle; sysmon (issue 5) is what bounds
//! that, as in Go.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use gort_reactor::Driver;

use crate::block_on::MainSignal;
use crate::context;
use crate::p::P;
use crate::park::{Handoff, Note};
use crate::shared::{Placed, Shared};
use crate::Task;

/// Go's non-blocking `netpoll(0)`: if Gs wait on IO and nobody else is polling, polls once and
/// returns a G to run now (the others it woke are queued on `p`, which this thread holds).
pub(crate) fn poll_ready(shared: &Arc<Shared>, p: &P) -> Option<Task> {
    if !shared.reactor.has_waiters() {
        return None;
    }
    poll_now(shared, p)
}

/// [`poll_ready`] even when nothing is parked: for a `block_on` main that yielded while
/// waiting on readiness it checks without parking (`ready()` answered from stale bits, say),
/// which only a poll can bring up to date (`worker/mod.rs`, the yield note).
pub(crate) fn poll_now(shared: &Arc<Shared>, p: &P) -> Option<Task> {
    let mut driver = shared.reactor.try_driver()?;
    let tasks = dispatch(shared, &mut driver, Some(Duration::ZERO));
    drop(driver);
    shared.inject(p, tasks)
}

/// sysmon's netpoll (Go's `sysmon` polling when `lastpoll` is over 10 ms old): if Gs wait on IO,
/// nobody is blocked in the poller and nobody polled for `stale`, polls once without blocking
/// and queues the woken Gs at the front of the global queue, where busy Ms find them on their
/// next global check (every 61 ticks). Without this, Ms that always have queued work never run
/// dry, so they never poll, and IO waiters starve.
pub(crate) fn poll_if_stale(shared: &Arc<Shared>, stale: Duration) {
    if !shared.reactor.has_waiters()
        || shared.poll_until.is_polling()
        || shared.since_netpoll() < stale
    {
        return;
    }
    let Some(mut driver) = shared.reactor.try_driver() else {
        return;
    };
    let tasks = dispatch(shared, &mut driver, Some(Duration::ZERO));
    drop(driver);
    shared.inject_global(tasks);
}

/// The driver, if nobody else holds it. With timers pending the poller is created if it did not
/// exist yet: the M about to block must wait for them (`timers.rs`).
fn take_driver(shared: &Shared) -> Option<Driver<'_>> {
    if shared.earliest_timer().is_some() {
        shared.reactor.try_driver_with_poller()
    } else {
        shared.reactor.try_driver()
    }
}

/// The blocking wait: until IO, a notification, or the earliest timer of any P (`timers.rs`).
/// Returns the Gs that IO woke, and whether a timer is due. The poller does not run the Ps'
/// timers itself: like Go's, it takes an idle P for them (its `find_runnable` runs them), or
/// leaves them to the busy Ps' Ms (`Shared::place_polled`).
fn wait(shared: &Shared, driver: &mut Driver<'_>) -> (Vec<Task>, bool) {
    let bound = shared.poll_bound();
    let mut tasks = dispatch(shared, driver, bound);
    shared.poll_until.end();
    if bound.is_none() {
        return (tasks, false);
    }
    // Except the P-less set's timers: they were armed by threads without a P (`block_on`'s
    // main between Ps, plain threads), whose wakers mostly need no P either.
    tasks.extend(shared.run_due_orphan_timers());
    (tasks, shared.timer_due())
}

/// What an idle worker M was given after waiting in the poller.
pub(crate) enum Woken {
    /// Run with P `index` (spinning if counted so); the Gs are runnable and go on that P.
    P {
        index: usize,
        spinning: bool,
        tasks: Vec<Task>,
    },
    /// The runtime is shutting down; the Gs go to the global queue to be dropped there.
    Shutdown(Vec<Task>),
    /// This M was idle for `thread_keep_alive` and is not needed: its thread exits
    /// (`Shared::idle_m_expired`).
    Retire,
}

/// Blocks in the poller instead of parking, if no other thread is polling (`None` if one is:
/// then the M parks on its note as usual). Returns when the poll woke Gs and an idle P was free
/// for them, or when `startm` or shutdown took this M out of the poller.
pub(crate) fn wait_as_poller(shared: &Arc<Shared>, note: &Arc<Note>) -> Option<Woken> {
    let mut driver = take_driver(shared)?;
    if !shared.register_poller(note) {
        return Some(Woken::Shutdown(Vec::new()));
    }
    loop {
        let (tasks, timers_due) = wait(shared, &mut driver);
        let (handoff, tasks) = if tasks.is_empty() && !timers_due {
            // A notification (or a signal): poll on, unless `startm` took this M.
            if shared.is_poller(note) {
                continue;
            }
            handed_off(shared, note, driver, tasks)
        } else if !shared.leave_poller(note) {
            handed_off(shared, note, driver, tasks)
        } else {
            // Unregistered first, then the driver goes, then the decision: an M that goes idle
            // meanwhile either sees the P this one would take (and this one runs the Gs) or
            // takes the driver; it never parks beside a poller that parks too. Deciding while
            // still holding the driver lost the poller for good once in ~40 runs of the 10k
            // connections test: both Ms parked, main waited on IO nobody polled.
            drop(driver);
            match shared.place_polled(note, tasks, timers_due) {
                // This M leaves the poller, and nobody polls until an M goes idle. Handing the
                // poller to a parked M here (a futex wake each time) took the p99 latency of
                // `benches/http.py` from tokio's 4.3 ms to 5.3-5.9 ms: one more runnable thread
                // per event batch on a machine the load generator shares. The case it covered,
                // a G woken here that then blocks its thread while another P idles, is sysmon's
                // (issue 5: it polls when nobody has for 10 ms), as in Go.
                Placed::Run(index, tasks) => {
                    return Some(Woken::P {
                        index,
                        spinning: false,
                        tasks,
                    })
                }
                Placed::Shutdown(tasks) => return Some(Woken::Shutdown(tasks)),
                Placed::Park => (note.wait(), Vec::new()),
            }
        };
        match handoff {
            Handoff::P { index, spinning } => {
                return Some(Woken::P {
                    index,
                    spinning,
                    tasks,
                })
            }
            Handoff::Shutdown => return Some(Woken::Shutdown(tasks)),
            // Asked to poll again (`ensure_poller`, to a parked M).
            Handoff::Poll => {
                shared.inject_global(tasks);
                driver = take_driver(shared)?;
                if !shared.register_poller(note) {
                    return Some(Woken::Shutdown(Vec::new()));
                }
            }
        }
    }
}

/// The poller M was taken by `startm` (or shutdown): waits for the handoff being written, lets
/// go of the driver, and, since `startm` takes the poller only when no other M is parked, starts
/// one to poll in its place if Gs wait on IO.
fn handed_off(
    shared: &Arc<Shared>,
    note: &Note,
    driver: Driver<'_>,
    tasks: Vec<Task>,
) -> (Handoff, Vec<Task>) {
    let handoff = note.wait();
    drop(driver);
    if matches!(handoff, Handoff::P { .. }) && shared.reactor.has_waiters() {
        shared.ensure_poller(true);
    }
    (handoff, tasks)
}

/// The `block_on` thread's version of [`wait_as_poller`], while its main future waits: polls
/// until main is woken or the poll woke Gs that went to the busy Ps (`None`: the caller parks
/// until main's waker), or the poll woke Gs and an idle P was free for them (`Some((p, Gs))`).
/// Returns `None` at once, without polling, if another thread holds the driver.
pub(crate) fn wait_as_main_poller(
    shared: &Arc<Shared>,
    main: &MainSignal,
) -> Option<(usize, Vec<Task>)> {
    let mut driver = take_driver(shared)?;
    // `SeqCst` pairs with main's waker: either it sees `in_poller` and notifies, or this load
    // sees `woken` (see `MainSignal::wake_by_ref`).
    main.in_poller.store(true, Ordering::SeqCst);
    let found = loop {
        // Main woken, or (current-thread runtime) nudged to take the P for new work.
        if main.should_wake() {
            break None;
        }
        let (mut tasks, timers_due) = wait(shared, &mut driver);
        if tasks.is_empty() && !timers_due {
            continue;
        }
        // The driver goes before the decision, for the reason given in `wait_as_poller`.
        drop(driver);
        if let Some(p) = shared.idle_p_for(&mut tasks, timers_due) {
            break Some((p, tasks));
        }
        // Every P is busy and has the Gs now (see `Shared::place_polled`): stop polling and
        // wait for main's waker like any parked thread.
        break None;
    };
    main.in_poller.store(false, Ordering::SeqCst);
    found
}

/// Polls with `timeout` and returns the Gs of this thread's runtime that the events woke.
fn dispatch(shared: &Shared, driver: &mut Driver<'_>, timeout: Option<Duration>) -> Vec<Task> {
    let (result, tasks) = context::collect_wakes(|| driver.poll(timeout));
    shared.note_netpoll();
    if let Some(Err(err)) = result {
        // `epoll_wait` fails only on a broken epoll fd or memory exhaustion; say so, and keep
        // the scheduler running (Gs parked on IO stay parked).
        report_poll_error(&err);
        if timeout.is_none() {
            // A blocking wait that fails at once would spin; back off.
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    tasks
}

/// Prints a netpoller failure once per process.
fn report_poll_error(err: &std::io::Error) {
    static REPORTED: std::sync::Once = std::sync::Once::new();
    REPORTED.call_once(|| eprintln!("gort: netpoller wait failed: {err}"));
}
