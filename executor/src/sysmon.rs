//! sysmon: one monitor thread per runtime (Go's `sysmon`, `proc.go`).
//!
//! It runs without a P, wakes every 20 µs while there is something to watch, backs off to
//! 2.5 ms while there is not, and sleeps until woken while every P is idle. It does three things:
//!
//! - it retakes a P whose M has been inside `block_in_place` for 20 µs or more (the same entry
//!   seen on two looks at least 20 µs apart, `syscall.rs`) and hands it to another M
//!   (`Shared::retake_p`), so the P's queue keeps running while the M blocks;
//! - it replaces a P whose M has been inside one poll of one G for 10 ms with a spare P, which
//!   another M runs with the stuck P's queue and timers (`rescue.rs`), and fires the due timers
//!   the stuck G arms meanwhile;
//! - if Gs wait on IO and nobody has polled the network for 10 ms (every M busy with queued
//!   work, none blocked in the poller), it polls once and queues what woke
//!   (`netpoll::poll_if_stale`).
//!
//! It starts with the runtime's first M thread or its first `block_on`. An M entering
//! `block_in_place` wakes it from any sleep longer than 20 µs ([`Sysmon::watch`]); a P handed
//! out (`pidleget`, `startm`) wakes it from the long sleep of an idle runtime
//! ([`Sysmon::wake_idle`]). Each is a Relaxed-ordered look at one flag; if it misses a sleep
//! that just began, the sleep ends by its timeout anyway (2.5 ms, or 1 s while every P was
//! idle).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::thread;
use std::time::{Duration, Instant};

use crate::context;
use crate::netpoll;
use crate::shared::Shared;
use crate::syscall::InSyscall;

/// How long an M may stay in `block_in_place` before its P is retaken (Go: one sysmon tick).
const RETAKE_AFTER: Duration = Duration::from_micros(20);

/// sysmon's shortest sleep.
const MIN_DELAY: Duration = Duration::from_micros(20);

/// sysmon's longest sleep while some P is in service: a quarter of `STUCK_AFTER`, so that a
/// poll that began just after a look is seen at the next one and rescued 10-12.5 ms into it.
/// (Go's sysmon backs off to 10 ms, so its preemption comes 10-20 ms into a long run; here
/// that took a 1 ms ticker's worst gap beside a stuck poll from ~12 to ~23 ms. The cost is
/// ~400 wakeups a second of a thread that looks at a few atomics, only while Ps are busy.)
const MAX_DELAY: Duration = Duration::from_micros(2500);

/// How long an M may stay inside one poll before sysmon replaces its P (Go's
/// `forcePreemptNS`).
const STUCK_AFTER: Duration = Duration::from_millis(10);

/// How long nobody may have polled the network before sysmon does.
const NETPOLL_STALE: Duration = Duration::from_millis(10);

/// sysmon's sleep while every P is idle (woken early by `watch`).
const IDLE_DELAY: Duration = Duration::from_secs(1);

/// A runtime's sysmon handle (module doc).
#[derive(Default)]
pub(crate) struct Sysmon {
    /// Set once the thread was started.
    started: AtomicBool,
    /// Whether the thread sleeps longer than `MIN_DELAY` (`watch` then wakes it), and whether
    /// that sleep is the long one of an idle runtime (`wake_idle` then wakes it too).
    sleeping: AtomicBool,
    idle_sleep: AtomicBool,
    /// Guards the wake-up handshake of `wake`.
    lock: Mutex<bool>,
    wake: Condvar,
    /// The thread, for shutdown to join.
    thread: Mutex<Option<thread::JoinHandle<()>>>,
}

impl Sysmon {
    /// Called by an M entering `block_in_place`: starts sysmon if needed, wakes it if it sleeps.
    pub(crate) fn watch(&self, shared: &Shared) {
        if !self.started.load(Ordering::Relaxed) {
            if let Some(shared) = context::current_shared().filter(|s| std::ptr::eq(&**s, shared)) {
                self.start(&shared);
            }
        } else {
            self.wake();
        }
    }

    /// Ends the long sleep of an idle runtime early: a P goes to work, and a poll on it may get
    /// stuck. Shorter sleeps are left alone: they end soon anyway, and waking sysmon costs a
    /// futex wake on the path that hands out a P.
    pub(crate) fn wake_idle(&self) {
        if self.idle_sleep.load(Ordering::Relaxed) {
            self.wake();
        }
    }

    /// Ends a sleep longer than `MIN_DELAY` early (something may need watching).
    pub(crate) fn wake(&self) {
        if self.sleeping.load(Ordering::Relaxed) {
            *self.lock.lock().unwrap_or_else(|e| e.into_inner()) = true;
            self.wake.notify_one();
        }
    }

    /// Starts the thread, once.
    pub(crate) fn start(&self, shared: &Arc<Shared>) {
        if self.started.load(Ordering::Relaxed) || self.started.swap(true, Ordering::AcqRel) {
            return;
        }
        let weak = Arc::downgrade(shared);
        let spawned = thread::Builder::new()
            .name("gort-sysmon".to_owned())
            .spawn(move || run(weak));
        match spawned {
            Ok(handle) => *self.thread.lock().unwrap_or_else(|e| e.into_inner()) = Some(handle),
            Err(err) => {
                eprintln!("gort: could not start sysmon: {err}");
                self.started.store(false, Ordering::Release);
            }
        }
    }

    /// At shutdown (the runtime is marked shut down already): wakes the thread, which then
    /// exits, and joins it unless `deadline` passes first.
    pub(crate) fn stop(&self, deadline: Option<Instant>) {
        let Some(handle) = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take() else {
            return;
        };
        if handle.thread().id() == thread::current().id() {
            return;
        }
        *self.lock.lock().unwrap_or_else(|e| e.into_inner()) = true;
        self.wake.notify_one();
        match deadline {
            None => drop(handle.join()),
            Some(deadline) => {
                while !handle.is_finished() && Instant::now() < deadline {
                    thread::sleep(Duration::from_micros(200));
                }
                if handle.is_finished() {
                    drop(handle.join());
                }
            }
        }
    }

    /// Sleeps `delay`, or until `watch` wakes it.
    fn sleep(&self, delay: Duration) {
        if delay <= MIN_DELAY {
            thread::sleep(delay);
            return;
        }
        self.sleeping.store(true, Ordering::Relaxed);
        self.idle_sleep.store(delay > MAX_DELAY, Ordering::Relaxed);
        let mut woken = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        if !*woken {
            woken = self
                .wake
                .wait_timeout(woken, delay)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        *woken = false;
        self.sleeping.store(false, Ordering::Relaxed);
        self.idle_sleep.store(false, Ordering::Relaxed);
    }
}

/// What sysmon last saw of one P: its `schedtick`, the G its M was polling (0: none), and
/// since when both have been the same.
#[derive(Clone, Copy)]
struct Look {
    tick: u32,
    running: u64,
    since: Instant,
}

/// Rescues Ps whose M has been inside one poll of one G for `STUCK_AFTER` (held, `schedtick`
/// and running G unmoved; not in `block_in_place`, which the retake covers): replaces each
/// with a spare (`rescue.rs`). Also fires the due timers such a P still has (those its stuck G
/// arms after the rescue): nobody else runs them. The timer sets are locked, so this is safe
/// from any thread; the Gs woken here have no P on this thread and go to the global queue.
///
/// Returns how long sysmon may sleep and still look at the oldest poll in progress as it
/// reaches the threshold, if one is getting close.
fn rescue_stuck_ps(shared: &Arc<Shared>, looks: &mut [Look], now: Instant) -> Option<Duration> {
    let mut sleep: Option<Duration> = None;
    for (p, look) in shared.ps.iter().zip(looks.iter_mut()) {
        let tick = p.schedtick();
        let running = p.running().map_or(0, |(id, _)| id);
        if tick != look.tick || running != look.running || running == 0 || !p.is_held() {
            *look = Look {
                tick,
                running,
                since: now,
            };
            continue;
        }
        let stuck_for = now.duration_since(look.since);
        if stuck_for < STUCK_AFTER {
            let until = STUCK_AFTER - stuck_for;
            sleep = Some(sleep.map_or(until, |sleep| sleep.min(until)));
        } else {
            if p.syscall.observe().is_none() {
                shared.rescue_stuck_p(p);
            }
            // `run_expired` returns at once unless a timer is due.
            context::contain_waker_panics(|| p.timers.run_expired(shared.time.clock.now()));
        }
    }
    sleep
}

/// The sysmon thread: looks at every P, retakes those stuck in `block_in_place`, sleeps.
fn run(runtime: Weak<Shared>) {
    let mut seen: Vec<Option<(InSyscall, Instant)>> = Vec::new();
    let mut looks: Vec<Look> = Vec::new();
    let mut delay = MIN_DELAY;
    loop {
        let Some(shared) = runtime.upgrade() else {
            return;
        };
        if shared.is_shutdown() {
            return;
        }
        seen.resize(shared.ps.len(), None);
        looks.resize(
            shared.ps.len(),
            Look {
                tick: u32::MAX,
                running: 0,
                since: Instant::now(),
            },
        );
        let now = Instant::now();
        let mut watching = false;
        for (p, seen) in shared.ps.iter().zip(seen.iter_mut()) {
            let Some(entry) = p.syscall.observe() else {
                *seen = None;
                continue;
            };
            watching = true;
            match *seen {
                Some((earlier, since)) if earlier == entry => {
                    if now.duration_since(since) >= RETAKE_AFTER && shared.retake_p(p, entry) {
                        *seen = None;
                    }
                }
                _ => *seen = Some((entry, now)),
            }
        }
        let until_stuck = rescue_stuck_ps(&shared, &mut looks, now);
        shared.sweep_spare_timers();
        netpoll::poll_if_stale(&shared, NETPOLL_STALE);
        delay = if watching {
            MIN_DELAY
        } else if shared.all_ps_idle() {
            IDLE_DELAY
        } else {
            (delay * 2).min(MAX_DELAY)
        };
        if let Some(until_stuck) = until_stuck {
            delay = delay.min(until_stuck.max(MIN_DELAY));
        }
        shared.sysmon.sleep(delay);
    }
}
