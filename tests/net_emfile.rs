//! The process out of file descriptors (`EMFILE`, issue 14's fault injection): `accept` fails
//! and the pending connection is not lost (once descriptors are free again, the same listener's
//! next `accept` returns it); an accept loop that retries keeps serving its connections and
//! then serves every connection that waited; `connect` fails with `EMFILE`, registers nothing,
//! and works again once descriptors are free; and timers keep firing meanwhile, also on a
//! runtime that never did IO (whose poller would need descriptors of its own).
//!
//! A binary of its own because it lowers the process's `RLIMIT_NOFILE` soft limit, which would
//! make any test running beside it fail; its tests take turns ([`one_at_a_time`]). The limit
//! is restored when a test ends, also if it fails.

mod common;

use std::fs::File;
use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex, MutexGuard};
use std::thread;
use std::time::Duration;

use gort::io::{AsyncReadExt, AsyncWriteExt};
use gort::net::{TcpListener, TcpStream};

use common::{count, counter, round_trip, runtime, watchdog, within};

/// Descriptor numbers left free above the highest one in use when the limit is lowered: room
/// for the listener's accepted connection later, and for whatever the runtime opens meanwhile.
const MARGIN: u64 = 16;

/// How long an await or a wait under test may take: far longer than it ever needs.
const LIMIT: Duration = Duration::from_secs(10);

/// Makes the tests of this binary take turns: each lowers the process-wide limit.
fn one_at_a_time() -> MutexGuard<'static, ()> {
    static TURN: Mutex<()> = Mutex::new(());
    TURN.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The `RLIMIT_NOFILE` soft limit, lowered while this guard lives.
struct LoweredFileLimit {
    original: libc::rlimit,
}

impl LoweredFileLimit {
    /// Lowers the soft limit to `soft` (never above the current one).
    fn to(soft: u64) -> LoweredFileLimit {
        let original = file_limit();
        let lowered = libc::rlimit {
            rlim_cur: (soft as libc::rlim_t).min(original.rlim_cur),
            rlim_max: original.rlim_max,
        };
        set_file_limit(&lowered);
        LoweredFileLimit { original }
    }
}

impl Drop for LoweredFileLimit {
    fn drop(&mut self) {
        set_file_limit(&self.original);
    }
}

/// The current `RLIMIT_NOFILE`.
fn file_limit() -> libc::rlimit {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid, writable `rlimit` for the duration of the call.
    let result = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) };
    assert_eq!(result, 0, "getrlimit: {}", io::Error::last_os_error());
    limit
}

/// Sets `RLIMIT_NOFILE`.
fn set_file_limit(limit: &libc::rlimit) {
    // SAFETY: `limit` points to a valid `rlimit` for the duration of the call.
    let result = unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, limit) };
    assert_eq!(result, 0, "setrlimit: {}", io::Error::last_os_error());
}

/// The highest descriptor number open in this process (`/dev/fd` lists them).
fn highest_open_fd() -> u64 {
    std::fs::read_dir("/dev/fd")
        .expect("list /dev/fd")
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u64>().ok())
        .max()
        .expect("at least stdin, stdout and stderr are open")
}

/// Whether `err` is `EMFILE`.
fn is_emfile(err: &io::Error) -> bool {
    err.raw_os_error() == Some(libc::EMFILE)
}

/// Opens `/dev/null` until the process is out of descriptors; returns the files.
fn use_up_descriptors() -> Vec<File> {
    let mut files = Vec::new();
    loop {
        match File::open("/dev/null") {
            Ok(file) => files.push(file),
            Err(err) if is_emfile(&err) => return files,
            Err(err) => panic!("opening /dev/null: {err}"),
        }
    }
}

/// With no descriptor left, a connection pending on the listener makes `accept` fail with
/// `EMFILE` (every time it is tried); after some descriptors are freed, the same listener's next
/// `accept` returns that very connection, which then carries data both ways.
#[test]
fn accept_fails_with_emfile_and_the_pending_connection_is_kept() {
    let _turn = one_at_a_time();
    let _watchdog = watchdog(Duration::from_secs(120), "accept under EMFILE");
    for procs in [1, 2] {
        let rt = runtime(procs);
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();

            let limit = LoweredFileLimit::to(highest_open_fd() + 1 + MARGIN);
            let mut files = use_up_descriptors();
            assert!(!files.is_empty(), "{procs} Ps: the limit left some room");

            // One descriptor for the client, then none at all.
            files.pop();
            let mut client = TcpStream::connect(addr).await.expect("connect");
            let err = File::open("/dev/null").expect_err("every descriptor is in use");
            assert!(is_emfile(&err), "{procs} Ps: {err}");

            for attempt in 0..2 {
                let err = within(
                    Duration::from_secs(30),
                    "accept with no descriptor left",
                    listener.accept(),
                )
                .await
                .expect_err("accept with no descriptor left");
                assert!(
                    is_emfile(&err),
                    "{procs} Ps, attempt {attempt}: expected EMFILE, got {err:?}"
                );
            }

            files.truncate(files.len().saturating_sub(4));
            let (server, peer) = within(
                Duration::from_secs(30),
                "accept after descriptors were freed",
                listener.accept(),
            )
            .await
            .expect("accept after descriptors were freed");
            assert_eq!(
                peer,
                client.local_addr().unwrap(),
                "{procs} Ps: the connection that was pending during EMFILE"
            );

            client.write_all(b"ping").await.unwrap();
            let mut got = [0u8; 4];
            (&server).read_exact(&mut got).await.unwrap();
            assert_eq!(&got, b"ping");
            (&server).write_all(b"pong").await.unwrap();
            client.read_exact(&mut got).await.unwrap();
            assert_eq!(&got, b"pong");

            drop(files);
            drop(limit);
        });
    }
}

/// Live poll descriptors in the current runtime's reactor.
fn live_descriptors() -> usize {
    gort::net::__poll_descriptors().0
}

/// Echoes what `stream` reads until end of stream.
async fn echo(stream: TcpStream) {
    let _ = gort::io::copy(&mut &stream, &mut &stream).await;
}

/// A TCP socket, not connected yet: made while descriptors are free, connected later by
/// [`connect_in_backlog`].
fn unconnected_socket() -> OwnedFd {
    // SAFETY: `socket` takes no pointers; a non-negative result is a new descriptor.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0) };
    assert!(fd >= 0, "socket: {}", io::Error::last_os_error());
    // SAFETY: `fd` was just created, and nothing else owns it.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

/// Connects `socket` to the loopback listener at `addr` (blocking: the kernel completes the
/// handshake into the listener's backlog, whether or not anyone accepts).
fn connect_in_backlog(socket: OwnedFd, addr: SocketAddr) -> std::net::TcpStream {
    let SocketAddr::V4(addr) = addr else {
        panic!("a loopback IPv4 listener, got {addr}");
    };
    let address = libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: addr.port().to_be(),
        sin_addr: libc::in_addr {
            s_addr: u32::from(*addr.ip()).to_be(),
        },
        sin_zero: [0; 8],
    };
    // SAFETY: `address` is a valid `sockaddr_in` for the duration of the call, and its size is
    // the length passed.
    let result = unsafe {
        libc::connect(
            socket.as_raw_fd(),
            std::ptr::from_ref(&address).cast::<libc::sockaddr>(),
            std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
        )
    };
    assert_eq!(result, 0, "connect: {}", io::Error::last_os_error());
    std::net::TcpStream::from(socket)
}

/// An echo server whose accept loop, as servers do, waits a millisecond and retries when
/// `accept` fails with `EMFILE`, counting those failures in `emfiles`.
async fn retrying_echo_server(listener: TcpListener, emfiles: Arc<AtomicUsize>) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => gort::go!(echo(stream)),
            Err(err) if is_emfile(&err) => {
                emfiles.fetch_add(1, Ordering::SeqCst);
                gort::time::sleep(Duration::from_millis(1)).await;
            }
            Err(err) => panic!("accept: {err}"),
        }
    }
}

/// While the process is out of descriptors, an echo server whose accept loop retries on
/// `EMFILE` keeps serving the connections it already has, and the connections that arrive
/// meanwhile wait in the backlog: once descriptors are free, every one of them is accepted and
/// served.
#[test]
fn an_accept_loop_keeps_serving_through_emfile_and_then_serves_the_waiting_connections() {
    const ESTABLISHED: usize = 4;
    const WAITING: usize = 3;
    let _turn = one_at_a_time();
    let _watchdog = watchdog(Duration::from_secs(120), "accept loop under EMFILE");
    let rt = runtime(2);
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let emfiles = counter();
        let server = gort::spawn(retrying_echo_server(listener, Arc::clone(&emfiles)));
        let mut established = Vec::new();
        for _ in 0..ESTABLISHED {
            established.push(TcpStream::connect(addr).await.expect("connect"));
        }
        for (index, stream) in established.iter().enumerate() {
            round_trip(
                stream,
                b"before",
                &format!("connection {index} before EMFILE"),
            )
            .await;
        }

        // The waiting clients' sockets are made now: with descriptors free, the retrying
        // accept loop would take them first.
        let sockets: Vec<_> = (0..WAITING).map(|_| unconnected_socket()).collect();
        let limit = LoweredFileLimit::to(highest_open_fd() + 1 + MARGIN);
        let files = use_up_descriptors();
        let waiting: Vec<_> = sockets
            .into_iter()
            .map(|socket| {
                let stream = connect_in_backlog(socket, addr);
                TcpStream::from_std(stream).expect("register a connected client")
            })
            .collect();
        let failing = common::eventually(|| count(&emfiles) >= 2).await;
        assert!(failing, "the accept loop never saw EMFILE");
        for (index, stream) in established.iter().enumerate() {
            let what = format!("connection {index} while out of descriptors");
            within(LIMIT, &what, round_trip(stream, b"during", &what)).await;
        }

        drop(files);
        for (index, stream) in waiting.iter().enumerate() {
            let what = format!("waiting connection {index} once descriptors are free");
            within(LIMIT, &what, round_trip(stream, b"after", &what)).await;
        }
        assert!(!server.is_finished(), "the accept loop still runs");
        drop(limit);
    });
}

/// `connect` with no descriptor left fails with `EMFILE` and registers nothing; meanwhile the
/// runtime's connections and timers keep working, and once descriptors are free the same
/// address connects and carries data.
#[test]
fn connect_fails_with_emfile_and_works_again_once_descriptors_are_free() {
    let _turn = one_at_a_time();
    let _watchdog = watchdog(Duration::from_secs(120), "connect under EMFILE");
    for procs in [1, 2] {
        let rt = runtime(procs);
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr: SocketAddr = listener.local_addr().unwrap();
            let server = gort::spawn(async move {
                loop {
                    let (stream, _) = listener.accept().await.expect("accept");
                    gort::go!(echo(stream));
                }
            });
            let established = TcpStream::connect(addr).await.expect("connect");
            round_trip(&established, b"before", "before EMFILE").await;
            let baseline = live_descriptors();

            let limit = LoweredFileLimit::to(highest_open_fd() + 1 + MARGIN);
            let files = use_up_descriptors();
            for attempt in 0..2 {
                let err = within(
                    LIMIT,
                    "connect with no descriptor left",
                    TcpStream::connect(addr),
                )
                .await
                .expect_err("connect with no descriptor left");
                assert!(
                    is_emfile(&err),
                    "{procs} Ps, attempt {attempt}: expected EMFILE, got {err:?}"
                );
            }
            assert_eq!(
                live_descriptors(),
                baseline,
                "{procs} Ps: a failed connect registers nothing"
            );
            let what = "the established connection while out of descriptors";
            within(LIMIT, what, round_trip(&established, b"during", what)).await;
            within(
                LIMIT,
                "a sleep while out of descriptors",
                gort::time::sleep(Duration::from_millis(5)),
            )
            .await;

            drop(files);
            let again = within(
                LIMIT,
                "connect once descriptors are free",
                TcpStream::connect(addr),
            )
            .await
            .expect("connect once descriptors are free");
            round_trip(&again, b"after", "the connection made after EMFILE").await;
            assert_eq!(
                live_descriptors(),
                baseline + 2,
                "{procs} Ps: the new client and its server side"
            );
            assert!(!server.is_finished(), "the accept loop still runs");
            drop(limit);
        });
    }
}

/// A runtime that never did IO creates its poller (which needs descriptors) only when an idle
/// thread has to wait for a timer. With the process out of descriptors, its timers must still
/// fire: a sleep in a spawned task, and one that `block_on` waits for.
#[test]
fn timers_fire_while_the_process_is_out_of_descriptors() {
    let _turn = one_at_a_time();
    let _watchdog = watchdog(Duration::from_secs(120), "timers under EMFILE");
    for procs in [1, 2] {
        let rt = runtime(procs);
        let limit = LoweredFileLimit::to(highest_open_fd() + 1 + MARGIN);
        let files = use_up_descriptors();

        let (fired_tx, fired_rx) = mpsc::channel();
        drop(rt.spawn(async move {
            gort::time::sleep(Duration::from_millis(20)).await;
            let _ = fired_tx.send(());
        }));
        let spawned = fired_rx.recv_timeout(LIMIT);

        let (slept_tx, slept_rx) = mpsc::channel();
        let handle = rt.handle().clone();
        thread::spawn(move || {
            handle.block_on(gort::time::sleep(Duration::from_millis(20)));
            let _ = slept_tx.send(());
        });
        let in_block_on = slept_rx.recv_timeout(LIMIT);

        drop(files);
        drop(limit);
        assert!(
            spawned.is_ok() && in_block_on.is_ok(),
            "{procs} Ps, out of descriptors, within {LIMIT:?}: a spawned task's 20 ms sleep \
             fired: {}; block_on of a 20 ms sleep returned: {}",
            spawned.is_ok(),
            in_block_on.is_ok()
        );
        // A `block_on` still waiting returns (with a panic) when the runtime shuts down.
        drop(rt);
    }
}
