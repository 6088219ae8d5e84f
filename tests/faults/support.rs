//! What the fault-injection tests (`faults_*.rs`) share: the deliberate panics' texts and
//! bounds, a panic hook that keeps the deliberate panics quiet, a child-process runner for the
//! faults that may end the process, wakers and destructors that panic, and checks that a
//! runtime still serves and shuts down in time.
#![allow(dead_code)] // Each test binary uses a different subset.

use std::fmt::Debug;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use gort::runtime::Runtime;
use gort::task::JoinError;

use crate::common::{panic_text, sum_of_spawned_squares};

/// What the wakers of [`PanickingWaker`] panic with.
pub const WAKER_PANIC: &str = "a user waker panics on purpose";
/// What [`PanicOnDrop`] panics with.
pub const DROP_PANIC: &str = "a destructor panics on purpose";
/// What a task polled by [`a_task_that_wakes_itself_then_panics_is_reported_once`] panics with.
pub const POLL_PANIC: &str = "a poll panics on purpose after waking itself";
/// What a task holding a lock panics with.
pub const LOCK_PANIC: &str = "a task panics holding a lock on purpose";

/// How long outputs may take to arrive, and awaits under test to finish: far more than they
/// need, even on a loaded 2-core machine.
pub const LIMIT: Duration = Duration::from_secs(10);

/// The timeout given to `shutdown_timeout` ...
pub const SHUTDOWN_TIMEOUT: Duration = Duration::from_millis(200);
/// ... and the bound on how long it may take with a fault present (ten times the timeout).
pub const SHUTDOWN_BOUND: Duration = Duration::from_secs(2);

/// Installs (once per process) a panic hook that prints nothing for the deliberate panics above
/// and passes every other panic to the hook it replaced.
pub fn silence_deliberate_panics() {
    static INSTALL: std::sync::Once = std::sync::Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let text = panic_text(info.payload());
            if ![WAKER_PANIC, DROP_PANIC, POLL_PANIC, LOCK_PANIC].contains(&text.as_str()) {
                previous(info);
            }
        }));
    });
}

/// The environment variable naming the test a child process runs ([`in_child`]).
pub const CHILD: &str = "GORT_TEST_FAULTS_CHILD";

/// Runs `body` in a child process that runs test `name` of this binary alone, and fails if the
/// child fails (a panic, or an abort: async-task aborts the process when a future's destructor
/// or a `JoinHandle`'s waker panics). In the child, runs `body`; the deliberate panics are not
/// silenced there, so that a failure shows where they came from.
pub fn in_child(name: &str, body: impl FnOnce()) {
    if std::env::var(CHILD).is_ok_and(|running| running == name) {
        body();
        return;
    }
    let output = std::process::Command::new(std::env::current_exe().expect("test binary"))
        .args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env(CHILD, name)
        .env("RUST_BACKTRACE", "0")
        .output()
        .expect("run the child test");
    // The panics' locations and messages, without the backtraces an abort prints.
    let stderr = String::from_utf8_lossy(&output.stderr);
    let panics: Vec<&str> = stderr
        .lines()
        .filter(|line| {
            !line.starts_with(char::is_whitespace) && !line.starts_with("stack backtrace")
        })
        .take(20)
        .collect();
    assert!(
        output.status.success(),
        "the child running `{name}` ended with {}; it printed:\n{}",
        output.status,
        panics.join("\n")
    );
}

/// A waker that counts its wakes and panics with [`WAKER_PANIC`] in each.
pub struct PanickingWaker {
    wakes: AtomicUsize,
}

impl Wake for PanickingWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.wakes.fetch_add(1, Ordering::SeqCst);
        panic!("{WAKER_PANIC}");
    }
}

impl PanickingWaker {
    /// A panicking waker, and its state (to read its wakes).
    pub fn new() -> (Waker, Arc<PanickingWaker>) {
        let state = Arc::new(PanickingWaker {
            wakes: AtomicUsize::new(0),
        });
        (Waker::from(Arc::clone(&state)), state)
    }

    pub fn wakes(&self) -> usize {
        self.wakes.load(Ordering::SeqCst)
    }
}

/// Polls `future` once with `waker`: what a hand-written combinator does when it polls an inner
/// future with a waker of its own.
pub fn poll_once<F: Future + ?Sized>(future: Pin<&mut F>, waker: &Waker) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(waker))
}

/// Panics with [`DROP_PANIC`] when dropped.
pub struct PanicOnDrop;

impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        panic!("{DROP_PANIC}");
    }
}

/// Receives up to `n` values from `rx`, waiting at most `limit` in all; returns those that came.
pub fn receive_within<T>(rx: &mpsc::Receiver<T>, n: usize, limit: Duration) -> Vec<T> {
    let deadline = Instant::now() + limit;
    let mut received = Vec::new();
    while received.len() < n {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(value) => received.push(value),
            Err(_) => break,
        }
    }
    received
}

/// `0..n`, to compare with outputs that carry their index.
pub fn indices(n: usize) -> Vec<usize> {
    (0..n).collect()
}

/// Checks that `rt` still runs spawned tasks and delivers their outputs, waiting on a plain
/// channel (this thread never becomes one of its Ms).
pub fn assert_serves(rt: &Runtime, what: &str) {
    let (sum_tx, sum_rx) = mpsc::channel();
    drop(rt.spawn(async move {
        let _ = sum_tx.send(sum_of_spawned_squares().await);
    }));
    let sum = sum_rx.recv_timeout(LIMIT);
    assert_eq!(sum, Ok(285), "{what}: the runtime no longer runs tasks");
}

/// Shuts `rt` down with `shutdown_timeout(SHUTDOWN_TIMEOUT)`; it must return within
/// `SHUTDOWN_BOUND`.
pub fn assert_shuts_down_in_time(rt: Runtime, what: &str) {
    let start = Instant::now();
    rt.shutdown_timeout(SHUTDOWN_TIMEOUT);
    let took = start.elapsed();
    assert!(
        took < SHUTDOWN_BOUND,
        "{what}: shutdown_timeout({SHUTDOWN_TIMEOUT:?}) took {took:?}"
    );
}

/// The result of a task whose own operation woke a panicking waker: a waker's panic goes to
/// whoever calls it, so the task either finished or ended with that panic. Anything else (a
/// hang is caught by the caller's `within`, a cancellation, another panic) is a bug.
pub fn assert_finished_or_took_the_waker_panic<T: Debug>(result: Result<T, JoinError>, what: &str) {
    if let Err(err) = result {
        assert!(err.is_panic(), "{what}: {err:?}");
        assert_eq!(panic_text(&*err.into_panic()), WAKER_PANIC, "{what}");
    }
}
