//! `block_on`: the calling thread becomes an M until its future completes (DESIGN.md §3).
//!
//! In Go, `main` is a goroutine and M0 runs it like any other G. A Rust `block_on` future is
//! not `Send` and may borrow from the caller's stack, so it cannot become a G; instead the thread
//! takes an idle P (if one is free) and runs the scheduler loop *around* its future. The future
//! ("main") is polled whenever its waker fires, between Gs. Consequences:
//!
//! - Spawns and wakes made by main land in this thread's P (`runnext`), so a ping-pong between
//!   main and a G stays on one thread and costs what a ping-pong between two Gs costs. tokio runs
//!   `block_on` outside its workers and pays a cross-thread wake per message (11-31 µs measured
//!   on these machines against Go's 0.3 µs).
//! - When there is no work, the thread spins and steals like any M, then releases its P and parks
//!   until main is woken. With no idle P at all (every P busy), main is simply polled on this
//!   thread and its spawns go to the global queue.
//! - Leaving `block_on` (main ready, or a panic unwinding through it) hands the P, with whatever
//!   Gs main left queued on it, to another M.

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};

use gort_reactor::Reactor;

use crate::context::{self, BlockOnKind};
use crate::shared::Shared;
use crate::worker::{Next, M};

/// Main's waker: a flag plus the thread to unpark.
pub(crate) struct MainSignal {
    /// Set by main's waker, cleared by the `block_on` loop before each poll of main. `Release`
    /// on set pairs with the loop's `Acquire` swap.
    pub(crate) woken: AtomicBool,
    /// Whether the `block_on` thread is waiting in the netpoller (`netpoll.rs`), where only
    /// `Reactor::notify` reaches it.
    pub(crate) in_poller: AtomicBool,
    /// Whether the thread is parked waiting for main's waker (`worker::park_main`). With
    /// `woken`, tells the paused clock whether main may still do something (`timers.rs`).
    pub(crate) parked: AtomicBool,
    /// Set by a current-thread runtime's `wakep` (`Shared::nudge_mains`): work waits for the
    /// idle P, which only a thread inside `block_on` may take. Ends the thread's wait for main
    /// like `woken` does, but main is not polled for it. Cleared by the wait it ends.
    pub(crate) nudged: AtomicBool,
    /// The thread inside `block_on`.
    thread: Thread,
    /// The runtime's netpoller, to notify.
    reactor: Arc<Reactor>,
}

impl MainSignal {
    pub(crate) fn is_woken(&self) -> bool {
        self.woken.load(Ordering::Relaxed)
    }

    /// Whether main is parked and not woken: it cannot act before something wakes it.
    pub(crate) fn is_idle(&self) -> bool {
        self.parked.load(Ordering::SeqCst) && !self.woken.load(Ordering::SeqCst)
    }

    /// Whether the thread should stop waiting: main was woken, or (current-thread runtime) work
    /// waits for the P (`nudged`, left set).
    pub(crate) fn should_wake(&self) -> bool {
        self.woken.load(Ordering::SeqCst) || self.nudged.load(Ordering::SeqCst)
    }

    /// Parks the `block_on` thread until main is woken or the thread is nudged (clearing the
    /// nudge), or (with `timeout`) at most that long.
    pub(crate) fn park_until_woken(&self, timeout: Option<std::time::Duration>) {
        let deadline = timeout.map(|timeout| std::time::Instant::now() + timeout);
        while !self.woken.load(Ordering::Acquire) {
            if self.nudged.swap(false, Ordering::Acquire) {
                return;
            }
            match deadline {
                None => thread::park(),
                Some(deadline) => {
                    let now = std::time::Instant::now();
                    if now >= deadline {
                        return;
                    }
                    thread::park_timeout(deadline - now);
                }
            }
        }
    }
}

impl MainSignal {
    /// A current-thread runtime's `wakep` for this thread (see `nudged`): unparks it, or breaks
    /// its netpoller wait, unless it was nudged already since its last wait.
    pub(crate) fn nudge(&self) {
        // `SeqCst`, as in `wake_by_ref`: with the poller's store of `in_poller` and its load of
        // `nudged` (`should_wake`), one side sees the other.
        if !self.nudged.swap(true, Ordering::SeqCst) {
            self.thread.unpark();
            if self.in_poller.load(Ordering::SeqCst) {
                self.reactor.notify();
            }
        }
    }
}

impl Wake for MainSignal {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        // Only the first wake since the last poll needs to unpark (and unparking a thread that is
        // not parked is a single atomic swap in std). `SeqCst`: with the poller's store of
        // `in_poller` and load of `woken`, one side sees the other (`wait_as_main_poller`).
        if !self.woken.swap(true, Ordering::SeqCst) {
            self.thread.unpark();
            if self.in_poller.load(Ordering::SeqCst) {
                self.reactor.notify();
            }
        }
    }
}

/// Runs `future` to completion on this thread, working as an M of `shared` meanwhile; `kind`
/// says whether through the runtime or a handle (`context/main_role.rs`).
#[track_caller]
pub(crate) fn block_on<F: Future>(shared: &Arc<Shared>, kind: BlockOnKind, future: F) -> F::Output {
    let location = std::panic::Location::caller();
    if context::assert_may_block_on() {
        // Inside a G's `block_in_place`: the bridge back into async code runs as blocking
        // code, outside the G (`context::blocking_region`).
        return context::blocking_region(|| run(shared, kind, future, location));
    }
    run(shared, kind, future, location)
}

/// [`block_on`], once it is known to be allowed here.
fn run<F: Future>(
    shared: &Arc<Shared>,
    kind: BlockOnKind,
    future: F,
    location: &'static std::panic::Location<'static>,
) -> F::Output {
    let _serve = context::serve(shared, true);
    // After `_serve`, so dropped before it.
    let main_role = context::enter_main(shared, kind);
    let signal = Arc::new(MainSignal {
        woken: AtomicBool::new(true),
        in_poller: AtomicBool::new(false),
        parked: AtomicBool::new(false),
        nudged: AtomicBool::new(false),
        thread: thread::current(),
        reactor: Arc::clone(&shared.reactor),
    });
    let _main = shared.register_main(&signal);
    let waker = Waker::from(Arc::clone(&signal));
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    // Declared after `_serve` so that it is dropped first: giving up the P needs the context.
    let mut m = M::new(Arc::clone(shared), Some(Arc::clone(&signal)));
    m.try_acquire_idle_p();
    // This thread runs Gs (and main) on a P: sysmon must watch it even if the runtime never
    // starts another thread (`rescue.rs`). Not on a current-thread runtime, whose P must stay
    // with the threads inside `block_on` (`runtime/mod.rs`).
    if !shared.is_current_thread() {
        shared.sysmon.start(shared);
    }
    // A runtime main entered and holds across an `.await` (`runtime/handle.rs`).
    let mut entered = context::ParkedEnter::none();
    loop {
        // Load before swapping: this runs before every G the thread runs, and main is usually
        // not the one woken, so the common case costs a plain load instead of a locked exchange.
        if signal.is_woken() && signal.woken.swap(false, Ordering::Acquire) {
            m.begin_main_poll(location);
            main_role.before_poll();
            let polled = context::with_parked_enter(&mut entered, || {
                context::with_own_waker(&waker, || {
                    gort_context::with_budget(gort_context::DEFAULT_BUDGET, || {
                        future.as_mut().poll(&mut cx)
                    })
                })
            });
            // Before anything touches the P (even `M::drop` on return): main may have lost it
            // in a `block_in_place`, or had it replaced while stuck (`rescue.rs`).
            m.after_poll();
            if let Poll::Ready(output) = polled {
                return output;
            }
        }
        if shared.is_shutdown() {
            break;
        }
        if main_role.hosts_local_set() {
            // Main drives a `LocalSet`: this thread runs no Gs (`context/main_role.rs`); a P
            // it holds, with what main spawned on it, goes to another M.
            m.leave_p();
            m.park_main();
            // Its wait is bounded by the earliest timer, but without a P it runs no
            // `find_runnable` to fire it: the timers of the set's tasks fire here.
            if shared.timer_due() {
                shared.run_all_due_timers();
            }
            continue;
        }
        if !m.holds_p() && !m.try_acquire_idle_p() {
            m.park_main();
            continue;
        }
        match m.find_runnable() {
            Next::Run(task, inherit) => m.run(task, inherit),
            Next::Interrupted => {
                if m.spinning_now() {
                    m.reset_spinning();
                }
            }
            Next::Shutdown => break,
            Next::Retire => unreachable!("the block_on thread parks for main, never retires"),
        }
    }
    // The runtime was shut down under us (through another handle): its Gs are gone, its timers
    // and sockets dead. Main is woken once the drain is over (`Shared::shutdown`) and polled
    // whenever it is woken: it completes if what it waits for went with the runtime in a way
    // it can see (a channel closed, a task cancelled), and a timer it still waits on panics
    // with a clear message (as tokio's do), instead of hanging forever.
    m.leave_p();
    drop(m);
    loop {
        signal.park_until_woken(None);
        signal.woken.store(false, Ordering::Relaxed);
        let polled = context::with_parked_enter(&mut entered, || {
            gort_context::with_budget(gort_context::DEFAULT_BUDGET, || {
                future.as_mut().poll(&mut cx)
            })
        });
        if let Poll::Ready(output) = polled {
            return output;
        }
    }
}
