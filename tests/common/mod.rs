//! Helpers shared by the integration tests: drop counting, runtimes of a chosen size, bounded
//! waiting, and a watchdog that turns a hang into a failure.
//!
//! Each test file includes this module with `mod common;` and uses only part of it.
#![allow(dead_code)] // Each test binary uses a different subset of the helpers.

pub mod leaks;

use std::sync::atomic::AtomicBool;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use gort::runtime::{Builder, Runtime};

/// Counts its own drop in a shared counter. Put one in a future to observe that the runtime
/// dropped the future (completion, abort, shutdown).
#[derive(Debug)]
pub struct DropGuard {
    drops: Arc<AtomicUsize>,
}

impl DropGuard {
    /// A guard that adds 1 to `drops` when dropped.
    pub fn new(drops: &Arc<AtomicUsize>) -> DropGuard {
        DropGuard {
            drops: Arc::clone(drops),
        }
    }
}

impl Drop for DropGuard {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::SeqCst);
    }
}

/// A future that holds `guard` and never completes: a parked task whose drop the runtime must
/// perform (abort, `JoinSet` drop, shutdown).
pub async fn parked_forever<G>(guard: G) {
    let _guard = guard;
    std::future::pending::<()>().await;
}

/// Spawns `i * i` for `i` in `0..10` and returns the sum of the outputs (285).
pub async fn sum_of_spawned_squares() -> u64 {
    let handles: Vec<_> = (0..10u64)
        .map(|i| gort::spawn(async move { i * i }))
        .collect();
    let mut sum = 0;
    for handle in handles {
        sum += handle.await.unwrap();
    }
    sum
}

/// A fresh counter for [`DropGuard`]s.
pub fn counter() -> Arc<AtomicUsize> {
    Arc::new(AtomicUsize::new(0))
}

/// Reads a counter.
pub fn count(counter: &AtomicUsize) -> usize {
    counter.load(Ordering::SeqCst)
}

/// A runtime with exactly `procs` Ps.
pub fn runtime(procs: usize) -> Runtime {
    Builder::new()
        .worker_threads(procs)
        .thread_name(format!("gort-test-{procs}p"))
        .build()
        .expect("building a runtime")
}

/// A current-thread runtime with the default settings.
pub fn current_thread() -> Runtime {
    Builder::new_current_thread()
        .build()
        .expect("building a runtime")
}

/// Polls attempts for [`eventually`] and [`eventually_blocking`]: with the 1 ms pause between
/// them, about 10 s before giving up. Conditions normally hold within a few attempts.
const ATTEMPTS: usize = 10_000;

/// Waits (inside a task or a `block_on` future) until `condition` holds, yielding and pausing
/// 1 ms between attempts. Returns whether it held before the attempts ran out. For facts the
/// runtime updates asynchronously (a future dropped on another thread, a goroutine count).
pub async fn eventually(mut condition: impl FnMut() -> bool) -> bool {
    for _ in 0..ATTEMPTS {
        if condition() {
            return true;
        }
        gort::task::yield_now().await;
        thread::sleep(Duration::from_millis(1));
    }
    condition()
}

/// [`eventually`] for a plain thread.
pub fn eventually_blocking(mut condition: impl FnMut() -> bool) -> bool {
    for _ in 0..ATTEMPTS {
        if condition() {
            return true;
        }
        thread::sleep(Duration::from_millis(1));
    }
    condition()
}

/// Aborts the process if it is still alive `limit` after creation, so that a hang fails the
/// test run instead of stalling it. Disarmed when dropped (also during a panic's unwinding).
#[must_use = "the watchdog is disarmed when dropped"]
pub struct Watchdog {
    _disarm: mpsc::Sender<()>,
}

/// Starts a [`Watchdog`] for the work named `what`.
pub fn watchdog(limit: Duration, what: &'static str) -> Watchdog {
    let (disarm, disarmed) = mpsc::channel::<()>();
    thread::spawn(move || {
        if let Err(RecvTimeoutError::Timeout) = disarmed.recv_timeout(limit) {
            eprintln!("watchdog: `{what}` did not finish within {limit:?}; aborting");
            std::process::abort();
        }
    });
    Watchdog { _disarm: disarm }
}

/// What a test printed when run again in a child process ([`run_in_child`]), and whether it
/// passed.
pub struct ChildOutput {
    pub stdout: String,
    pub stderr: String,
    pub succeeded: bool,
}

/// Runs test `name` of this test binary again in a child process with `env` set (for settings
/// read once per process, like `GORT_DEBUG` and `GORT_GC`, or for a test that must end the
/// process), and returns what it printed and whether it passed.
pub fn run_in_child(name: &str, env: &[(&str, &str)]) -> ChildOutput {
    let output = std::process::Command::new(std::env::current_exe().expect("test binary"))
        .args(["--exact", name, "--nocapture", "--test-threads=1"])
        .envs(env.iter().copied())
        .output()
        .expect("run the child test");
    ChildOutput {
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        succeeded: output.status.success(),
    }
}

/// [`run_in_child`] for a child that must pass: fails if it does not.
pub fn rerun_in_child(name: &str, env: &[(&str, &str)]) -> ChildOutput {
    let child = run_in_child(name, env);
    assert!(
        child.succeeded,
        "child failed:\n{}\n{}",
        child.stdout, child.stderr
    );
    child
}

/// The text of a panic payload made by `panic!` (a `&str` or a `String`).
pub fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&'static str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "<non-string panic payload>".to_owned()
    }
}

/// The checks shared by the `#[gort::main]` test binaries (`main_macro*.rs`), run inside main:
/// spawning works, the runtime has `procs` Ps, and a plain thread started by main reaches the
/// same runtime through `gort::spawn` and `Handle::current()` (main's runtime is the default).
pub async fn check_main_runtime(procs: usize) {
    const PARKED: usize = 5;

    assert_eq!(
        sum_of_spawned_squares().await,
        285,
        "spawned tasks deliver their outputs"
    );

    assert_eq!(gort::runtime::gomaxprocs(), procs, "gomaxprocs() in main");
    assert_eq!(gort::runtime::Handle::current().gomaxprocs(), procs);

    // Goroutines parked on main's runtime; a thread that reached another runtime would not
    // count them.
    let (gates, parked): (Vec<_>, Vec<_>) = (0..PARKED)
        .map(|_| {
            let (gate_tx, gate_rx) = futures::channel::oneshot::channel::<()>();
            (gate_tx, gort::spawn(async move { gate_rx.await.unwrap() }))
        })
        .unzip();
    let (detached_tx, detached_rx) = futures::channel::oneshot::channel();
    let from_thread = thread::spawn(move || {
        let handle = gort::runtime::Handle::current();
        gort::go!(async move { detached_tx.send("go! from a plain thread").unwrap() });
        let probe = gort::spawn(async { gort::runtime::num_goroutine() });
        (handle.gomaxprocs(), handle.num_goroutine(), probe)
    })
    .join()
    .unwrap();
    let (thread_procs, thread_goroutines, probe) = from_thread;
    assert_eq!(
        thread_procs, procs,
        "Handle::current() on a plain thread is main's runtime"
    );
    assert!(
        thread_goroutines >= PARKED,
        "a plain thread sees main's {PARKED} parked goroutines, saw {thread_goroutines}"
    );
    let seen_by_probe = probe.await.unwrap();
    assert!(
        seen_by_probe > PARKED,
        "a task spawned from a plain thread runs on main's runtime (saw {seen_by_probe})"
    );
    assert_eq!(detached_rx.await.unwrap(), "go! from a plain thread");

    for gate in gates {
        gate.send(()).unwrap();
    }
    for handle in parked {
        handle.await.unwrap();
    }
}

/// The number of Ps a runtime gets by default: `GORT_MAXPROCS` when it is a positive integer,
/// else the available parallelism.
pub fn default_procs() -> usize {
    std::env::var("GORT_MAXPROCS")
        .ok()
        .and_then(|value| value.trim().parse::<usize>().ok())
        .filter(|&procs| procs > 0)
        .unwrap_or_else(|| thread::available_parallelism().map_or(1, |n| n.get()))
}

/// A future wrapped by [`record_pending`].
pub struct RecordPending<F> {
    future: std::pin::Pin<Box<F>>,
    pending: Arc<std::sync::atomic::AtomicBool>,
}

/// Wraps `future` so that the returned flag is set once a poll of it has returned `Pending`:
/// from then on, the task running it is parked (its waker is registered wherever the future
/// waits, a socket's poll descriptor for a read). Lets a test act on a task *while* it is parked
/// instead of hoping a sleep was long enough.
pub fn record_pending<F: std::future::Future>(
    future: F,
) -> (RecordPending<F>, Arc<std::sync::atomic::AtomicBool>) {
    let pending = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let wrapped = RecordPending {
        future: Box::pin(future),
        pending: Arc::clone(&pending),
    };
    (wrapped, pending)
}

impl<F: std::future::Future> std::future::Future for RecordPending<F> {
    type Output = F::Output;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<F::Output> {
        let poll = self.future.as_mut().poll(cx);
        if poll.is_pending() {
            self.pending.store(true, Ordering::SeqCst);
        }
        poll
    }
}

/// A unique path in the temporary directory for a Unix-domain socket, removed (if it exists)
/// when the guard is dropped.
#[derive(Debug)]
pub struct TempSocketPath {
    path: std::path::PathBuf,
}

impl TempSocketPath {
    /// A path named after `what`, the process id and a per-process counter; nothing exists there
    /// yet (a leftover from an earlier run is removed).
    pub fn new(what: &str) -> TempSocketPath {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let unique = NEXT.fetch_add(1, Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("gort-{what}-{}-{unique}.sock", std::process::id()));
        let _ = std::fs::remove_file(&path);
        TempSocketPath { path }
    }

    /// The path.
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }
}

impl Drop for TempSocketPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// `len` bytes that differ with `seed` and with the position, so that a misplaced, dropped or
/// duplicated chunk of a stream is caught by comparing with what was sent.
pub fn pattern(seed: usize, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i.wrapping_mul(31) ^ seed.wrapping_mul(0x9e37_79b9) ^ (i >> 8)) as u8)
        .collect()
}

/// Writes `sent` on `stream` and reads as many bytes back at the same time (so that a message
/// larger than the socket buffers cannot deadlock), which must be the same: one echo round trip
/// of a TCP or Unix stream.
pub async fn round_trip<S>(stream: &S, sent: &[u8], what: &str)
where
    for<'a> &'a S: gort::io::AsyncRead + gort::io::AsyncWrite + Unpin,
{
    use gort::io::{AsyncReadExt, AsyncWriteExt};

    let mut got = vec![0u8; sent.len()];
    let (mut reader, mut writer) = (stream, stream);
    let (written, read) = futures::join!(writer.write_all(sent), reader.read_exact(&mut got));
    written.unwrap_or_else(|err| panic!("{what}: write_all: {err}"));
    read.unwrap_or_else(|err| panic!("{what}: read_exact: {err}"));
    assert!(got == sent, "{what}: the echo differs from what was sent");
}

/// Awaits `future`, panicking with `what` if it has not completed `limit` after the call (a
/// plain thread keeps the time). For awaits whose completion is the behaviour under test (a
/// parked read that must wake): a hang fails that test alone, where a [`Watchdog`] would abort
/// the whole binary.
pub async fn within<F: std::future::Future>(limit: Duration, what: &str, future: F) -> F::Output {
    let (expired_tx, expired_rx) = futures::channel::oneshot::channel::<()>();
    thread::spawn(move || {
        thread::sleep(limit);
        let _ = expired_tx.send(());
    });
    let future = std::pin::pin!(future);
    match futures::future::select(future, expired_rx).await {
        futures::future::Either::Left((output, _)) => output,
        futures::future::Either::Right(_) => panic!("`{what}` did not finish within {limit:?}"),
    }
}

/// Opens `connections` short-lived TCP connections to a fresh loopback listener, `batch` at a
/// time, each carrying one byte each way; the server closes first (so client ports never sit in
/// `TIME_WAIT`) and each client reads to end of stream. Must run inside a gort runtime.
pub async fn one_byte_connections(connections: usize, batch: usize) {
    use gort::io::{AsyncReadExt, AsyncWriteExt};

    let listener = gort::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("local_addr");
    let server = gort::spawn(async move {
        for _ in 0..connections {
            let (stream, _) = listener.accept().await.expect("accept");
            gort::go!(async move {
                let mut byte = [0u8; 1];
                (&stream).read_exact(&mut byte).await.expect("server read");
                (&stream).write_all(&byte).await.expect("server write");
            });
        }
    });
    for round in 0..connections / batch {
        let clients: Vec<_> = (0..batch)
            .map(|i| {
                gort::spawn(async move {
                    let stream = gort::net::TcpStream::connect(addr).await.expect("connect");
                    let sent = [(round * batch + i) as u8];
                    (&stream).write_all(&sent).await.expect("client write");
                    let mut got = Vec::new();
                    (&stream).read_to_end(&mut got).await.expect("client read");
                    assert_eq!(got, sent, "the echo, then the server's close");
                })
            })
            .collect();
        for client in clients {
            client.await.expect("a client task failed");
        }
    }
    server.await.expect("the server task failed");
}

/// The longest gap between two ticks of a 1 ms ticker allowed while another G blocks its
/// thread for 200 ms (issue 5: the P's other Gs move on within 10-12.5 ms of sysmon's look for a
/// stuck poll, 20 µs for `block_in_place`).
pub const MAX_TICK_GAP: Duration = Duration::from_millis(30);

/// What a 1 ms ticker saw while `during` was set: ticks and the longest gap between two.
#[derive(Debug, Default)]
pub struct Ticks {
    pub count: usize,
    pub longest_gap: Duration,
}

/// A ticker sleeping 1 ms in a loop until `stop`, counting the ticks made while `during` is
/// set and the gaps that end in them (so the first gap spans the start of the blocking call).
pub async fn tick_while(during: Arc<AtomicBool>, stop: Arc<AtomicBool>) -> Ticks {
    let mut ticks = Ticks::default();
    let mut last = Instant::now();
    while !stop.load(Ordering::SeqCst) {
        gort::time::sleep(Duration::from_millis(1)).await;
        let now = Instant::now();
        if during.load(Ordering::SeqCst) {
            ticks.longest_gap = ticks.longest_gap.max(now - last);
            ticks.count += 1;
        }
        last = now;
    }
    ticks
}
