//! sysmon: one monitor thread per runtime (Go's `sysmon`, `proc.go`).
//!
//! It runs without a P, wakes every 20 µs while there is something to watch, backs off to
//! 10 ms while there is not, and sleeps until woken while every P is idle. Today it does one
//! thing: it retakes a P whose M has been inside `block_in_place` for 20 µs or more (the same
//! entry seen on two looks at least 20 µs apart, `syscall.rs`) and hands it to another M
//! (`Shared::retake_p`), so the P's queue keeps running while the M blocks.
//!
//! It starts the first time a `block_in_place` needs it, so runtimes that never block in place
//! have no such thread. An M entering `block_in_place` while sysmon is in a long sleep wakes it
//! ([`Sysmon::watch`]): a Relaxed-ordered look at one flag on the fast path. If that look misses
//! a sleep that just began, the retake comes when the sleep ends, at most 10 ms later (or when
//! a P stops being idle, for the long sleep), never never.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::thread;
use std::time::{Duration, Instant};

use crate::context;
use crate::shared::Shared;
use crate::syscall::InSyscall;

/// How long an M may stay in `block_in_place` before its P is retaken (Go: one sysmon tick).
const RETAKE_AFTER: Duration = Duration::from_micros(20);

/// sysmon's shortest sleep.
const MIN_DELAY: Duration = Duration::from_micros(20);

/// sysmon's longest sleep while some P is busy.
const MAX_DELAY: Duration = Duration::from_millis(10);

/// sysmon's sleep while every P is idle (woken early by `watch`).
const IDLE_DELAY: Duration = Duration::from_secs(1);

/// A runtime's sysmon handle (module doc).
#[derive(Default)]
pub(crate) struct Sysmon {
    /// Set once the thread was started.
    started: AtomicBool,
    /// Whether the thread sleeps longer than `MIN_DELAY`: `watch` then wakes it.
    sleeping: AtomicBool,
    /// Guards the wake-up handshake of `wake`.
    lock: Mutex<bool>,
    wake: Condvar,
}

impl Sysmon {
    /// Called by an M entering `block_in_place`: starts sysmon if needed, wakes it if it sleeps.
    pub(crate) fn watch(&self, shared: &Shared) {
        if !self.started.load(Ordering::Relaxed) {
            self.start(shared);
        } else if self.sleeping.load(Ordering::Relaxed) {
            *self.lock.lock().unwrap_or_else(|e| e.into_inner()) = true;
            self.wake.notify_one();
        }
    }

    fn start(&self, shared: &Shared) {
        if self.started.swap(true, Ordering::AcqRel) {
            return;
        }
        let Some(shared) = context::current_shared().filter(|s| std::ptr::eq(&**s, shared)) else {
            // Not on one of this runtime's threads: nothing can be in `block_in_place` here.
            self.started.store(false, Ordering::Release);
            return;
        };
        let weak = Arc::downgrade(&shared);
        let spawned = thread::Builder::new()
            .name("gort-sysmon".to_owned())
            .spawn(move || run(weak));
        if let Err(err) = spawned {
            eprintln!("gort: could not start sysmon: {err}");
            self.started.store(false, Ordering::Release);
        }
    }

    /// Sleeps `delay`, or until `watch` wakes it.
    fn sleep(&self, delay: Duration) {
        if delay <= MIN_DELAY {
            thread::sleep(delay);
            return;
        }
        self.sleeping.store(true, Ordering::Relaxed);
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
    }
}

/// The sysmon thread: looks at every P, retakes those stuck in `block_in_place`, sleeps.
fn run(runtime: Weak<Shared>) {
    let mut seen: Vec<Option<(InSyscall, Instant)>> = Vec::new();
    let mut delay = MIN_DELAY;
    loop {
        let Some(shared) = runtime.upgrade() else {
            return;
        };
        if shared.is_shutdown() {
            return;
        }
        seen.resize(shared.ps.len(), None);
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
        delay = if watching {
            MIN_DELAY
        } else if shared.npidle() == shared.ps.len() {
            IDLE_DELAY
        } else {
            (delay * 2).min(MAX_DELAY)
        };
        let sysmon = Arc::clone(&shared);
        drop(shared);
        sysmon.sysmon.sleep(delay);
    }
}
