//! UDP sockets, Unix-domain sockets and `lookup_host`, as users rely on them: datagrams with and
//! without `connect`, the `try_*`/`readable()` protocol, Unix listeners on a path (echo, path in
//! use), socket pairs, owned halves in separate tasks, and name resolution.

mod common;

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use gort::io::{AsyncReadExt, AsyncWriteExt};
use gort::net::{lookup_host, UdpSocket, UnixListener, UnixStream};

use common::{pattern, round_trip, watchdog, within, TempSocketPath};

/// How long an await whose completion is under test may take before the test fails.
const WAKE_LIMIT: Duration = Duration::from_secs(30);

/// A UDP socket on an ephemeral loopback port.
async fn loopback_udp() -> UdpSocket {
    UdpSocket::bind("127.0.0.1:0").await.expect("bind UDP")
}

// ---------------------------------------------------------------------------------------------
// UDP

#[gort::test]
async fn udp_send_to_and_recv_from_carry_datagrams_and_their_sender() {
    let _watchdog = watchdog(Duration::from_secs(60), "udp send_to/recv_from");
    let a = loopback_udp().await;
    let b = loopback_udp().await;
    let (a_addr, b_addr) = (a.local_addr().unwrap(), b.local_addr().unwrap());

    // b parks in recv_from before anything is sent, in a task of its own.
    let receiver = gort::spawn(async move {
        let mut buf = [0u8; 1500];
        let mut got = Vec::new();
        for _ in 0..10 {
            let (n, from) = b.recv_from(&mut buf).await.expect("recv_from");
            got.push((buf[..n].to_vec(), from));
        }
        got
    });
    for i in 0..10 {
        let sent = a.send_to(&pattern(i, 100 + i), b_addr).await.unwrap();
        assert_eq!(sent, 100 + i, "a datagram is sent whole");
    }
    let got = within(WAKE_LIMIT, "recv_from of 10 datagrams", receiver)
        .await
        .unwrap();
    // Loopback UDP neither loses nor reorders datagrams.
    for (i, (datagram, from)) in got.into_iter().enumerate() {
        assert_eq!(datagram, pattern(i, 100 + i), "datagram {i}");
        assert_eq!(from, a_addr, "datagram {i}'s sender");
    }
}

#[gort::test]
async fn udp_connect_then_send_and_recv() {
    let _watchdog = watchdog(Duration::from_secs(60), "udp connect/send/recv");
    let a = loopback_udp().await;
    let b = loopback_udp().await;
    a.connect(b.local_addr().unwrap()).await.unwrap();
    b.connect(a.local_addr().unwrap()).await.unwrap();
    assert_eq!(a.peer_addr().unwrap(), b.local_addr().unwrap());

    let b = Arc::new(b);
    let echoer = {
        let b = Arc::clone(&b);
        gort::spawn(async move {
            let mut buf = [0u8; 1500];
            for _ in 0..20 {
                let n = b.recv(&mut buf).await.expect("recv");
                b.send(&buf[..n]).await.expect("send");
            }
        })
    };
    let mut buf = [0u8; 1500];
    for i in 0..20 {
        let sent = pattern(i, 1 + i * 50);
        assert_eq!(a.send(&sent).await.unwrap(), sent.len());
        let n = within(WAKE_LIMIT, "recv of the echoed datagram", a.recv(&mut buf))
            .await
            .unwrap();
        assert_eq!(&buf[..n], &sent[..], "datagram {i}");
    }
    echoer.await.unwrap();

    // A connected socket only accepts datagrams from its peer: one from a third socket is
    // dropped, and the next from the peer is what `recv` returns.
    let stranger = loopback_udp().await;
    stranger
        .send_to(b"from a stranger", a.local_addr().unwrap())
        .await
        .unwrap();
    b.send(b"from the peer").await.unwrap();
    let n = within(
        WAKE_LIMIT,
        "recv after a stranger's datagram",
        a.recv(&mut buf),
    )
    .await
    .unwrap();
    assert_eq!(&buf[..n], b"from the peer");
}

/// `try_recv` on an empty socket fails with `WouldBlock` at once; after `readable()` returns
/// for a datagram that was sent, `try_recv` gets it.
#[gort::test]
async fn udp_try_recv_would_block_until_readable_reports_a_datagram() {
    let _watchdog = watchdog(Duration::from_secs(60), "udp try_recv/readable");
    let a = loopback_udp().await;
    let b = Arc::new(loopback_udp().await);
    b.connect(a.local_addr().unwrap()).await.unwrap();
    let mut buf = [0u8; 64];
    for attempt in 0..2 {
        let err = b.try_recv(&mut buf).expect_err("nothing is queued");
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock, "attempt {attempt}");
        let err = b.try_recv_from(&mut buf).expect_err("nothing is queued");
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock, "attempt {attempt}");
    }

    for round in 0..5u8 {
        // readable() waits in a task of its own until the datagram arrives.
        let waiter = {
            let b = Arc::clone(&b);
            gort::spawn(async move { b.readable().await })
        };
        a.send_to(&[round; 3], b.local_addr().unwrap())
            .await
            .unwrap();
        within(WAKE_LIMIT, "readable() for a sent datagram", waiter)
            .await
            .unwrap()
            .expect("readable");
        assert_eq!(b.try_recv(&mut buf).expect("readable said so"), 3);
        assert_eq!(&buf[..3], &[round; 3]);
        let err = b
            .try_recv(&mut buf)
            .expect_err("the one datagram was taken");
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock, "round {round}");
    }
}

// ---------------------------------------------------------------------------------------------
// Unix-domain sockets

/// Echoes what `stream` reads until end of stream; returns the bytes echoed.
async fn unix_echo(stream: UnixStream) -> u64 {
    gort::io::copy(&mut &stream, &mut &stream)
        .await
        .expect("echo copy")
}

#[gort::test]
async fn unix_listener_accepts_and_echoes_over_a_path() {
    let _watchdog = watchdog(Duration::from_secs(60), "unix echo");
    let path = TempSocketPath::new("unix-echo");
    let listener = UnixListener::bind(path.path()).expect("bind a new path");
    assert_eq!(
        listener.local_addr().unwrap().as_pathname(),
        Some(path.path())
    );
    let server = gort::spawn(async move {
        let mut echoed = 0;
        for _ in 0..3 {
            let (stream, _) = listener.accept().await.expect("accept");
            echoed += unix_echo(stream).await;
        }
        echoed
    });
    let mut expected = 0;
    for connection in 0..3 {
        let client = UnixStream::connect(path.path()).await.expect("connect");
        assert_eq!(client.peer_addr().unwrap().as_pathname(), Some(path.path()));
        for message in 0..20 {
            let sent = pattern(connection * 100 + message, 1 + message * 3001);
            round_trip(&client, &sent, &format!("{connection}/{message}")).await;
            expected += sent.len() as u64;
        }
    }
    assert_eq!(
        within(WAKE_LIMIT, "the unix echo server", server)
            .await
            .unwrap(),
        expected
    );
}

#[gort::test]
async fn unix_listener_on_a_path_in_use_fails_with_addr_in_use() {
    let _watchdog = watchdog(Duration::from_secs(60), "unix bind in use");
    let path = TempSocketPath::new("unix-in-use");
    let _listener = UnixListener::bind(path.path()).expect("bind a new path");
    let err = UnixListener::bind(path.path()).expect_err("the path exists");
    assert_eq!(err.kind(), io::ErrorKind::AddrInUse, "{err}");

    // Also when the path is a leftover socket file nobody listens on.
    let stale = TempSocketPath::new("unix-stale");
    drop(std::os::unix::net::UnixListener::bind(stale.path()).unwrap());
    assert!(stale.path().exists());
    let err = UnixListener::bind(stale.path()).expect_err("the path exists");
    assert_eq!(err.kind(), io::ErrorKind::AddrInUse, "{err}");
}

#[gort::test]
async fn unix_stream_pair_round_trips_both_ways() {
    let _watchdog = watchdog(Duration::from_secs(60), "unix pair");
    let (a, b) = UnixStream::pair().unwrap();
    let echoer = gort::spawn(unix_echo(b));
    let mut expected = 0;
    for message in 0..50 {
        let sent = pattern(message, 1 + message * 1311);
        round_trip(&a, &sent, &format!("message {message}")).await;
        expected += sent.len() as u64;
    }
    drop(a);
    assert_eq!(
        within(WAKE_LIMIT, "the pair's echo task", echoer)
            .await
            .unwrap(),
        expected
    );
}

/// The owned halves of a `UnixStream` move into two tasks: one writes (and its drop shuts down
/// the write side), the other reads everything echoed back until end of stream.
#[gort::test]
async fn unix_owned_halves_work_in_separate_tasks() {
    let _watchdog = watchdog(Duration::from_secs(60), "unix owned halves");
    let (a, b) = UnixStream::pair().unwrap();
    let echoer = gort::spawn(unix_echo(b));
    let (mut read_half, mut write_half) = a.into_split();
    let sent: Vec<u8> = pattern(7, 256 * 1024);
    let writer = {
        let sent = sent.clone();
        gort::spawn(async move {
            for chunk in sent.chunks(10_000) {
                write_half.write_all(chunk).await.expect("write half");
            }
            // Dropping the half shuts down the write side: the echo task sees end of stream.
        })
    };
    let reader = gort::spawn(async move {
        let mut got = Vec::new();
        read_half.read_to_end(&mut got).await.expect("read half");
        got
    });
    within(WAKE_LIMIT, "the writing half's task", writer)
        .await
        .unwrap();
    let got = within(WAKE_LIMIT, "the reading half's task", reader)
        .await
        .unwrap();
    assert_eq!(got.len(), sent.len(), "bytes read back");
    assert!(
        got == sent,
        "the data read back differs from what was written"
    );
    assert_eq!(echoer.await.unwrap(), sent.len() as u64);
}

// ---------------------------------------------------------------------------------------------
// lookup_host

#[gort::test]
async fn lookup_host_resolves_localhost_to_loopback_addresses() {
    let _watchdog = watchdog(Duration::from_secs(60), "lookup localhost");
    let addrs: Vec<SocketAddr> = within(WAKE_LIMIT, "lookup_host(localhost)", async {
        lookup_host("localhost:80").await
    })
    .await
    .expect("localhost resolves")
    .collect();
    assert!(!addrs.is_empty(), "localhost resolves to some address");
    for addr in &addrs {
        assert_eq!(addr.port(), 80, "{addrs:?}");
        assert!(addr.ip().is_loopback(), "{addrs:?}");
    }
}

/// A name lookup blocks in `getaddrinfo`; it runs on the runtime's blocking pool (bounded and
/// reused, as tokio's), not on a scheduler thread or a thread of its own.
#[test]
fn lookup_host_runs_on_the_blocking_pool() {
    let _watchdog = watchdog(Duration::from_secs(60), "lookup on the pool");
    let runtime = gort::runtime::Builder::new()
        .worker_threads(1)
        .build()
        .expect("runtime");
    assert_eq!(runtime.handle().blocking_threads(), 0);
    let addrs: Vec<SocketAddr> = runtime
        .block_on(lookup_host("localhost:80"))
        .expect("localhost resolves")
        .collect();
    assert!(!addrs.is_empty());
    // The pool's thread stays alive for its keep-alive (10 s) after the job.
    assert_eq!(runtime.handle().blocking_threads(), 1);
}

#[gort::test]
async fn lookup_host_returns_a_numeric_address_as_it_is() {
    let _watchdog = watchdog(Duration::from_secs(60), "lookup numeric");
    let cases: &[(&str, SocketAddr)] = &[
        (
            "127.0.0.1:8080",
            SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 8080),
        ),
        ("10.1.2.3:1", "10.1.2.3:1".parse().unwrap()),
        ("[::1]:443", "[::1]:443".parse().unwrap()),
    ];
    for (target, expected) in cases {
        let addrs: Vec<SocketAddr> = lookup_host(*target).await.expect(target).collect();
        assert_eq!(addrs, [*expected], "{target}");
    }
    let addrs: Vec<SocketAddr> = lookup_host(("192.168.0.1", 53)).await.unwrap().collect();
    assert_eq!(addrs, ["192.168.0.1:53".parse::<SocketAddr>().unwrap()]);
}

#[gort::test]
async fn lookup_host_of_an_invalid_string_fails_with_invalid_input() {
    let _watchdog = watchdog(Duration::from_secs(60), "lookup invalid");
    for target in [
        "not an address",
        "localhost",
        "127.0.0.1:99999",
        "host:port",
    ] {
        let err = lookup_host(target)
            .await
            .err()
            .unwrap_or_else(|| panic!("{target:?} resolved"));
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{target:?}: {err}");
    }
}

/// A fresh pair's ends are writable at once but not readable until the peer writes: readiness
/// of a pair is known, not assumed (tokio's pairs start this way), for streams and datagrams;
/// and a datagram socket is not assumed readable either.
#[gort::test]
async fn a_fresh_pair_starts_writable_and_not_readable() {
    use futures::FutureExt;
    let (a, b) = gort::net::UnixStream::pair().unwrap();
    assert!(a.writable().now_or_never().is_some());
    assert!(
        a.readable().now_or_never().is_none(),
        "nothing was written yet"
    );
    assert_eq!(b.try_write(b"hi").unwrap(), 2);
    a.readable().await.unwrap();
    assert_eq!(a.try_read(&mut [0u8; 8]).unwrap(), 2);

    let (c, d) = gort::net::UnixDatagram::pair().unwrap();
    assert!(c.writable().now_or_never().is_some());
    assert!(
        c.readable().now_or_never().is_none(),
        "nothing was sent yet"
    );
    d.try_send(b"yo").unwrap();
    c.readable().await.unwrap();
    assert_eq!(c.try_recv(&mut [0u8; 8]).unwrap(), 2);

    // A datagram socket too: nothing is assumed readable until the poller says so.
    let e = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let f = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    assert!(e.writable().now_or_never().is_some());
    assert!(
        e.readable().now_or_never().is_none(),
        "nothing was sent yet"
    );
    f.send_to(b"hey", e.local_addr().unwrap()).await.unwrap();
    e.readable().await.unwrap();
    assert_eq!(e.try_recv(&mut [0u8; 8]).unwrap(), 3);
}

/// A Unix connect that the listener's end drops before the connection is seen reports an error
/// rather than handing out a dead stream: the stream is connected only once the poller says so.
#[gort::test]
async fn a_unix_connect_whose_listener_goes_away_fails() {
    let path = TempSocketPath::new("connect-then-drop");
    let listener = UnixListener::bind(path.path()).unwrap();
    let mut connect = Box::pin(UnixStream::connect(path.path().to_owned()));
    assert!(futures::poll!(connect.as_mut()).is_pending());
    drop(listener);
    let err = within(WAKE_LIMIT, "connect after the listener went", connect)
        .await
        .expect_err("the listener is gone");
    assert!(
        matches!(
            err.kind(),
            io::ErrorKind::ConnectionRefused | io::ErrorKind::ConnectionReset
        ),
        "{err}"
    );
}
