//! Step 8 of `find_runnable`: how an M with nothing to run waits (Go's `stopm`, and the
//! netpoller wait of `findRunnable`): a worker M blocks in the netpoller if nobody else polls,
//! else parks on its note until handed a P; the `block_on` thread waits for its future's waker
//! instead (or, on a current-thread runtime, a nudge to take the P). The park callbacks of
//! `Builder::on_thread_park`/`on_thread_unpark` run around these waits.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread;
use std::time::Instant;

use super::{acquirep, Next};
use crate::block_on::MainSignal;
use crate::netpoll::{self, Woken};
use crate::p::P;
use crate::park::{Handoff, Note};
use crate::shared::{Parking, Shared, Unpark};
use crate::Task;

/// Step 8, for an M holding no P (its fields borrowed separately from its `shared`): parks
/// until it has a P again (`None`: look for work with it), or returns what `find_runnable`
/// returns instead (a G the poll woke, main woken, shutdown).
pub(super) fn park(
    shared: &Arc<Shared>,
    held: &mut Option<usize>,
    spinning: &mut bool,
    note: &Arc<Note>,
    main: &Option<Arc<MainSignal>>,
) -> Option<Next> {
    if let Some(main) = main {
        park_main(shared, held, main);
        if held.is_some() {
            // The poll woke Gs and an idle P was free for them.
            return None;
        }
        return Some(Next::Interrupted);
    }
    match shared.config.hooks.parked(|| park_worker(shared, note)) {
        Woken::P {
            index,
            spinning: spin,
            tasks,
        } => {
            acquirep(shared, held, index);
            *spinning = spin;
            shared
                .inject(&shared.ps[index], tasks)
                .map(|task| Next::Run(task, false))
        }
        Woken::Shutdown(tasks) => {
            shared.inject_global(tasks);
            Some(Next::Shutdown)
        }
        Woken::Retire => Some(Next::Retire),
    }
}

/// Step 8 for a worker M: blocks in the netpoller if nobody else polls, else parks on `note`
/// (and moves into the netpoller if woken with `Handoff::Poll`), until handed a P or shut down.
pub(super) fn park_worker(shared: &Arc<Shared>, note: &Arc<Note>) -> Woken {
    loop {
        if let Some(woken) = netpoll::wait_as_poller(shared, note) {
            return woken;
        }
        match shared.park_m(note) {
            Parking::Parked => {}
            Parking::Shutdown => return Woken::Shutdown(Vec::new()),
            Parking::TakeP(index) => {
                return Woken::P {
                    index,
                    spinning: false,
                    tasks: Vec::new(),
                }
            }
        }
        let handoff = match wait_parked(shared, note) {
            Ok(handoff) => handoff,
            Err(woken) => return woken,
        };
        match handoff {
            Handoff::P { index, spinning } => {
                return Woken::P {
                    index,
                    spinning,
                    tasks: Vec::new(),
                }
            }
            Handoff::Shutdown => return Woken::Shutdown(Vec::new()),
            Handoff::Poll => {}
        }
    }
}

/// The wait of a worker M on the idle list ([`park_worker`]): until it is handed something.
/// Meanwhile, once idle for `thread_keep_alive`, it exits if it is not needed (`threads.rs`);
/// and while the runtime has no poller to bound an idle thread's sleep by the earliest timer
/// (creating it failed: the process is out of descriptors), it wakes at that timer and takes an
/// idle P to run it (`Err`: what the M does instead of waiting on).
fn wait_parked(shared: &Arc<Shared>, note: &Arc<Note>) -> Result<Handoff, Woken> {
    let parked = Instant::now();
    let mut kept = false;
    loop {
        let keep_alive = (!kept).then(|| shared.limits.keep_alive.saturating_sub(parked.elapsed()));
        let timer = shared.timer_park_bound();
        let timeout = match (keep_alive, timer) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let Some(timeout) = timeout else {
            return Ok(note.wait());
        };
        if let Some(handoff) = note.wait_timeout(timeout) {
            return Ok(handoff);
        }
        if timer.is_some_and(|timer| timer <= timeout) {
            match shared.unpark_for_timers(note) {
                Unpark::P(index) => {
                    return Err(Woken::P {
                        index,
                        spinning: false,
                        tasks: Vec::new(),
                    })
                }
                Unpark::HandoffComing => return Ok(note.wait()),
                Unpark::StayParked => continue,
            }
        }
        if shared.idle_m_expired(note) {
            return Err(Woken::Retire);
        }
        kept = true;
    }
}

/// [`park_worker`] for an M started to be the poller: the M that asked for it may still be
/// letting go of the driver, so it retries briefly before settling for the note.
pub(super) fn park_new_poller(shared: &Arc<Shared>, note: &Arc<Note>) -> Woken {
    for _ in 0..100 {
        if let Some(woken) = netpoll::wait_as_poller(shared, note) {
            return woken;
        }
        thread::yield_now();
    }
    park_worker(shared, note)
}

/// [`M::park_main`], with the M's fields borrowed separately.
pub(super) fn park_main(shared: &Arc<Shared>, held: &mut Option<usize>, main: &MainSignal) {
    // While parked, main counts as idle for the paused clock's auto-advance (`timers.rs`).
    struct Parked<'a>(&'a MainSignal);
    impl Drop for Parked<'_> {
        fn drop(&mut self) {
            self.0.parked.store(false, Ordering::SeqCst);
        }
    }
    main.parked.store(true, Ordering::SeqCst);
    let _parked = Parked(main);
    if let Some((index, tasks)) = shared.config.hooks.parked(|| wait_main(shared, main)) {
        acquirep(shared, held, index);
        let p: &P = &shared.ps[index];
        if let Some(first) = shared.inject(p, tasks) {
            // SAFETY: this M holds `p`.
            if let Err(overflow) = unsafe { p.push(first, true) } {
                shared.inject_global(overflow);
            }
        }
    }
}

/// The wait of [`park_main`]: in the netpoller if nobody else polls, else parked until main's
/// waker (or a nudge); `Some` if the poll woke Gs and a P was idle for them.
fn wait_main(shared: &Arc<Shared>, main: &MainSignal) -> Option<(usize, Vec<Task>)> {
    let found = netpoll::wait_as_main_poller(shared, main);
    if found.is_none() {
        // Bounded by the earliest timer when no poller can wait for it (`wait_parked`): the
        // `block_on` loop then takes an idle P, whose `find_runnable` runs the due timers.
        main.park_until_woken(shared.timer_park_bound());
    }
    found
}
