//! `soak_client --addr ADDR [options]`: the load generator of `benches/soak/soak.py`: opens TCP
//! connections to an echo server, echoes a payload over each, closes each, and counts.
//!
//! ```text
//! cargo build --release -p gort-benches --bin soak_client
//! target/release/soak_client --addr 127.0.0.1:7000 --connections 20000 --concurrency 64
//! ```
//!
//! Options (defaults in brackets): `--connections N` [1000000] in all; `--concurrency C` [64]
//! threads, each with one connection open at a time; `--max-seconds S` [1800], after which no
//! new connection starts; `--payload B` [64] bytes per connection; `--sources K` [16] source
//! addresses (below); `--timeout-ms T` [10000] for connect and for each read and write;
//! `--max-errors E` [1000], after which it stops early.
//!
//! It uses plain std threads and blocking sockets, not gort: the load must not depend on the
//! runtime under test, and a server that hangs shows as timeouts here rather than as a client
//! that hangs with it.
//!
//! # One connection
//!
//! 1. Connect (from source address `127.0.0.(2 + i % K)`, see below), with `--timeout-ms`.
//! 2. Write the payload of connection `i` ([`payload`]: a pattern derived from `i`, so that bytes
//!    of another connection would not match), read back exactly as many bytes and compare.
//! 3. `shutdown(Write)`, so the server reads EOF, returns from its echo loop and closes; then
//!    read once more, which must see that EOF (0 bytes).
//! 4. Drop the socket.
//!
//! A failure of any step is an error, counted under `<step>: <error>` and reported at the end;
//! the thread goes on with its next connection. Bytes that differ from the payload, or any byte
//! after it, are a mismatch: the process reports it and exits at once with status 2, as the
//! server would then be corrupting streams and no figure of the soak could be trusted.
//!
//! # TIME_WAIT and ephemeral ports
//!
//! The client sends the first FIN (step 3), so each connection leaves a TIME_WAIT entry on the
//! client's side for 60 s, holding its 4-tuple; the server, the passive closer, keeps nothing.
//! That is the graceful close the server is meant to see (EOF, not a reset, so SO_LINGER(0)
//! is not used). With one source address the 4-tuples to one server port are about 28k (the
//! ephemeral port range), which Linux reuses on loopback only because `tcp_tw_reuse` defaults
//! to 2 (loopback) there, a second after their last use. To not depend on that setting, each
//! connection binds one of `K` source addresses in 127.0.0.0/8 (all local on Linux) with
//! `IP_BIND_ADDRESS_NO_PORT`, so that the port is still picked by `connect` per 4-tuple, and the
//! usable 4-tuples are `K` times as many: with the default 16, about 450k at once, which lasts
//! 60 s of TIME_WAIT at 7,500 connections/s even with `tcp_tw_reuse` off. `--sources 0` binds
//! nothing and leaves the source address to the kernel (127.0.0.1).
//!
//! # Output (stdout, one line each)
//!
//! - `PROGRESS <done> <errors>` every 100 ms: connections echoed and closed, and failed, so far.
//! - At the end, `ERROR <count> <step>: <error>` per kind of error, then
//!   `RESULT <done> <errors> <elapsed seconds> <complete|deadline|errors>` (why it stopped: all
//!   connections done, `--max-seconds` reached, or `--max-errors` reached).
//! - `MISMATCH <details>` (also on stderr) before exiting with status 2.

use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, SocketAddrV4, TcpStream};
use std::os::fd::AsRawFd;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

use socket2::{Domain, Socket, Type};

/// How often the main thread prints a `PROGRESS` line.
const PROGRESS_INTERVAL: Duration = Duration::from_millis(100);

/// What the command line asks for; see the module doc for each option.
#[derive(Debug)]
struct Args {
    /// The echo server.
    addr: SocketAddrV4,
    /// Connections to open in all.
    connections: u64,
    /// Worker threads, each with at most one connection open.
    concurrency: usize,
    /// Time after which no new connection starts.
    max_time: Duration,
    /// Bytes written and read back per connection.
    payload: usize,
    /// Source addresses 127.0.0.2 .. 127.0.0.(1 + sources); 0: let the kernel pick.
    sources: u8,
    /// Limit for connect and for each read and write.
    timeout: Duration,
    /// Errors after which the run stops early.
    max_errors: u64,
}

/// State shared by the worker threads and the main (progress) thread.
///
/// The counters are statistics, written by the workers with `Relaxed` increments and read with
/// `Relaxed` loads by the main thread for `PROGRESS`; the final figures are read after every
/// worker has been joined, which orders all their increments before those reads.
struct Shared {
    /// The command line.
    args: Args,
    /// Index of the next connection to start; workers claim indices with `fetch_add`, so each
    /// index in `0..connections` is used once.
    next: AtomicU64,
    /// Connections echoed and closed.
    done: AtomicU64,
    /// Connections that failed.
    errors: AtomicU64,
    /// Set by the main thread at the deadline, or by a worker reaching `max_errors`; workers
    /// check it before each connection. `Relaxed`: it only needs to be seen eventually.
    stop: AtomicBool,
    /// Failures by `<step>: <error>`, for the final `ERROR` lines. Locked only on a failure.
    kinds: Mutex<BTreeMap<String, u64>>,
}

/// A failed connection: the step that failed and its error.
struct Failure {
    /// `connect`, `write`, `read`, `shutdown` or `read-eof`.
    step: &'static str,
    /// What the socket call returned.
    error: io::Error,
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(message) => {
            eprintln!("soak_client: {message}");
            return ExitCode::from(64);
        }
    };
    let shared = Shared {
        args,
        next: AtomicU64::new(0),
        done: AtomicU64::new(0),
        errors: AtomicU64::new(0),
        stop: AtomicBool::new(false),
        kinds: Mutex::new(BTreeMap::new()),
    };
    let start = Instant::now();
    let mut deadline_hit = false;
    thread::scope(|scope| {
        let workers: Vec<_> = (0..shared.args.concurrency)
            .map(|_| scope.spawn(|| worker(&shared)))
            .collect();
        while !workers.iter().all(|w| w.is_finished()) {
            thread::sleep(PROGRESS_INTERVAL);
            print_progress(&shared);
            if !deadline_hit && start.elapsed() >= shared.args.max_time {
                deadline_hit = true;
                shared.stop.store(true, Ordering::Relaxed);
            }
        }
    });
    let elapsed = start.elapsed().as_secs_f64();
    print_progress(&shared);
    let done = shared.done.load(Ordering::Relaxed);
    let errors = shared.errors.load(Ordering::Relaxed);
    for (kind, count) in shared.kinds.lock().unwrap().iter() {
        println!("ERROR {count} {kind}");
    }
    let why = if done + errors >= shared.args.connections {
        "complete"
    } else if errors >= shared.args.max_errors {
        "errors"
    } else {
        "deadline"
    };
    println!("RESULT {done} {errors} {elapsed:.3} {why}");
    ExitCode::SUCCESS
}

/// One worker thread: claims connection indices and runs them one at a time until they run
/// out or `stop` is set.
fn worker(shared: &Shared) {
    let args = &shared.args;
    let mut sent = vec![0u8; args.payload];
    let mut received = vec![0u8; args.payload];
    while !shared.stop.load(Ordering::Relaxed) {
        let index = shared.next.fetch_add(1, Ordering::Relaxed);
        if index >= args.connections {
            return;
        }
        payload(index, &mut sent);
        match one_connection(args, index, &sent, &mut received) {
            Ok(()) => {
                shared.done.fetch_add(1, Ordering::Relaxed);
            }
            Err(failure) => {
                let errors = shared.errors.fetch_add(1, Ordering::Relaxed) + 1;
                let kind = format!("{}: {}", failure.step, failure.error);
                *shared.kinds.lock().unwrap().entry(kind).or_insert(0) += 1;
                if errors >= args.max_errors {
                    shared.stop.store(true, Ordering::Relaxed);
                }
            }
        }
    }
}

/// Connection `index`, steps 1-4 of the module doc. Returns the failed step, or exits the
/// process on a mismatch.
fn one_connection(
    args: &Args,
    index: u64,
    sent: &[u8],
    received: &mut [u8],
) -> Result<(), Failure> {
    let fail = |step| move |error| Failure { step, error };
    let mut stream = connect(args, index).map_err(fail("connect"))?;
    stream.write_all(sent).map_err(fail("write"))?;
    stream.read_exact(received).map_err(fail("read"))?;
    if received != sent {
        mismatch(format!(
            "connection {index}: sent {sent:02x?}, got back {received:02x?}"
        ));
    }
    stream.shutdown(Shutdown::Write).map_err(fail("shutdown"))?;
    let mut extra = [0u8; 64];
    let n = stream.read(&mut extra).map_err(fail("read-eof"))?;
    if n != 0 {
        mismatch(format!(
            "connection {index}: {n} bytes after the echoed payload: {:02x?}",
            &extra[..n]
        ));
    }
    Ok(())
}

/// Opens connection `index` to the server, from its source address when `--sources` is not 0,
/// with the read and write timeouts set.
fn connect(args: &Args, index: u64) -> io::Result<TcpStream> {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None)?;
    if args.sources > 0 {
        // `sources` is at most 200, so the last octet is at most 201.
        let host = 2 + (index % u64::from(args.sources)) as u8;
        bind_address_no_port(&socket)?;
        let source = SocketAddr::from((Ipv4Addr::new(127, 0, 0, host), 0));
        socket.bind(&source.into())?;
    }
    socket.connect_timeout(&SocketAddr::V4(args.addr).into(), args.timeout)?;
    let stream = TcpStream::from(socket);
    stream.set_read_timeout(Some(args.timeout))?;
    stream.set_write_timeout(Some(args.timeout))?;
    Ok(stream)
}

/// Sets `IP_BIND_ADDRESS_NO_PORT` on `socket`: a `bind` to port 0 then fixes only the address,
/// and `connect` picks the port for the whole 4-tuple (socket2 has no setter for it).
fn bind_address_no_port(socket: &Socket) -> io::Result<()> {
    let on: libc::c_int = 1;
    // SAFETY: the descriptor is open for the whole call (`socket` is borrowed), `optval` points
    // to a `c_int` that outlives the call, and `optlen` is that `c_int`'s size, which is what
    // this option reads.
    let status = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::IPPROTO_IP,
            libc::IP_BIND_ADDRESS_NO_PORT,
            (&on as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if status == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Fills `buf` with connection `index`'s payload: each byte mixes a hash of the index with its
/// position, so a payload differs from every other connection's and from a shifted copy of
/// itself.
fn payload(index: u64, buf: &mut [u8]) {
    let hash = (index + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    for (position, byte) in buf.iter_mut().enumerate() {
        let shift = (position % 8) * 8;
        *byte = ((hash >> shift) as u8) ^ (position as u8).wrapping_mul(31);
    }
}

/// Reports a mismatch on stdout (for `soak.py`) and stderr, and exits with status 2.
#[cold]
fn mismatch(details: String) -> ! {
    println!("MISMATCH {details}");
    eprintln!("soak_client: MISMATCH {details}");
    std::process::exit(2);
}

/// Prints one `PROGRESS` line.
fn print_progress(shared: &Shared) {
    let done = shared.done.load(Ordering::Relaxed);
    let errors = shared.errors.load(Ordering::Relaxed);
    let mut stdout = io::stdout().lock();
    // A closed stdout (the driver gone) must not stop the load; the final lines would fail too.
    let _ = writeln!(stdout, "PROGRESS {done} {errors}");
    let _ = stdout.flush();
}

/// Parses the command line (`--name value` pairs; see the module doc).
fn parse_args(mut words: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut args = Args {
        addr: SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0),
        connections: 1_000_000,
        concurrency: 64,
        max_time: Duration::from_secs(1800),
        payload: 64,
        sources: 16,
        timeout: Duration::from_millis(10_000),
        max_errors: 1000,
    };
    let mut addr = None;
    while let Some(name) = words.next() {
        let value = words
            .next()
            .ok_or_else(|| format!("{name}: missing value"))?;
        let bad = |what: &str| format!("{name} {value}: expected {what}");
        match name.as_str() {
            "--addr" => addr = Some(value.parse().map_err(|_| bad("an IPv4 address:port"))?),
            "--connections" => args.connections = value.parse().map_err(|_| bad("a count"))?,
            "--concurrency" => args.concurrency = value.parse().map_err(|_| bad("a count"))?,
            "--max-seconds" => {
                let seconds: f64 = value.parse().map_err(|_| bad("seconds"))?;
                args.max_time = Duration::try_from_secs_f64(seconds).map_err(|_| bad("seconds"))?;
            }
            "--payload" => args.payload = value.parse().map_err(|_| bad("a byte count"))?,
            "--sources" => {
                args.sources = value.parse().map_err(|_| bad("0 to 200"))?;
                if args.sources > 200 {
                    return Err(bad("0 to 200"));
                }
            }
            "--timeout-ms" => {
                args.timeout = Duration::from_millis(value.parse().map_err(|_| bad("ms"))?);
            }
            "--max-errors" => args.max_errors = value.parse().map_err(|_| bad("a count"))?,
            _ => return Err(format!("unknown option {name}")),
        }
    }
    args.addr = addr.ok_or("--addr ADDR is required")?;
    if args.concurrency == 0 || args.payload == 0 || args.max_errors == 0 {
        return Err("--concurrency, --payload and --max-errors must be at least 1".into());
    }
    if args.timeout.is_zero() {
        return Err("--timeout-ms must be at least 1".into());
    }
    Ok(args)
}
