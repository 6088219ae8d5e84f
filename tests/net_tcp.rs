//! TCP on the netpoller, as users rely on it: data integrity of concurrent echo connections, the
//! errors of `bind`, `connect` and a peer's reset, end of stream, readers woken by the peer's
//! shutdown or close, descriptor slots freed and reused, sockets made off any runtime, and IO
//! driven by the `block_on` future itself.
//!
//! The descriptor-table checks read `gort::net::__poll_descriptors()`: `(live, capacity)` of the
//! reactor that IO objects created on the calling thread register with (inside a runtime, that
//! runtime's reactor). Each `#[gort::test]` has its own runtime, so its counts start from zero.

mod common;

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::thread;
use std::time::Duration;

use gort::io::{AsyncReadExt, AsyncWriteExt};
use gort::net::{TcpListener, TcpStream};

use common::{
    eventually, one_byte_connections, pattern, record_pending, round_trip, runtime, watchdog,
    within,
};

/// How long an await whose completion is under test may take before the test fails: far longer
/// than it ever needs, even on a loaded 2-core machine.
const WAKE_LIMIT: Duration = Duration::from_secs(30);

/// Live poll descriptors in the current runtime's reactor.
fn live_descriptors() -> usize {
    gort::net::__poll_descriptors().0
}

/// A listener on an ephemeral loopback port, and its address.
async fn loopback_listener() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local_addr");
    (listener, addr)
}

/// A connected pair: (client, server).
async fn connected_pair(listener: &TcpListener, addr: SocketAddr) -> (TcpStream, TcpStream) {
    let client = TcpStream::connect(addr).await.expect("connect");
    let (server, peer) = listener.accept().await.expect("accept");
    assert_eq!(
        peer,
        client.local_addr().unwrap(),
        "accept returns the peer"
    );
    (client, server)
}

/// Echoes what `stream` reads until end of stream, then closes; returns the bytes echoed.
async fn echo(stream: TcpStream) -> u64 {
    gort::io::copy(&mut &stream, &mut &stream)
        .await
        .expect("echo copy")
}

// ---------------------------------------------------------------------------------------------
// Echo data integrity

const ECHO_CONNECTIONS: usize = 20;
const ECHO_MESSAGES: usize = 100;
const MAX_MESSAGE: usize = 64 * 1024;

/// Length of message `message` on connection `connection`: 1 byte, exactly 64 KiB, and sizes
/// spread in between.
fn message_len(connection: usize, message: usize) -> usize {
    match message % 10 {
        0 => 1,
        1 => MAX_MESSAGE,
        _ => 1 + (connection * 7919 + message * 104_729) % MAX_MESSAGE,
    }
}

/// One client of [`echo_round_trips`]: its messages, then end of stream, which the server
/// answers with its own.
async fn echo_client(addr: SocketAddr, connection: usize) {
    let stream = TcpStream::connect(addr).await.expect("connect");
    for message in 0..ECHO_MESSAGES {
        let sent = pattern(
            connection * ECHO_MESSAGES + message,
            message_len(connection, message),
        );
        round_trip(
            &stream,
            &sent,
            &format!("connection {connection}, message {message}"),
        )
        .await;
    }
    (&stream).shutdown().await.expect("shutdown(Write)");
    let mut rest = [0u8; 16];
    let end = within(
        WAKE_LIMIT,
        "the echo client's read of end of stream",
        async { (&stream).read(&mut rest).await },
    )
    .await;
    assert_eq!(
        end.expect("read end of stream"),
        0,
        "connection {connection}: the server echoes nothing more and closes"
    );
}

/// 20 concurrent connections, each 100 messages of 1 byte to 64 KiB, every byte echoed checked.
async fn echo_round_trips() {
    let (listener, addr) = loopback_listener().await;
    let server = gort::spawn(async move {
        let mut handlers = Vec::new();
        for _ in 0..ECHO_CONNECTIONS {
            let (stream, _) = listener.accept().await.expect("accept");
            handlers.push(gort::spawn(echo(stream)));
        }
        let mut echoed = 0;
        for handler in handlers {
            echoed += handler.await.unwrap();
        }
        echoed
    });
    let clients: Vec<_> = (0..ECHO_CONNECTIONS)
        .map(|connection| gort::spawn(echo_client(addr, connection)))
        .collect();
    for client in clients {
        client.await.unwrap();
    }
    let expected: usize = (0..ECHO_CONNECTIONS)
        .flat_map(|c| (0..ECHO_MESSAGES).map(move |m| message_len(c, m)))
        .sum();
    assert_eq!(server.await.unwrap(), expected as u64, "bytes echoed");
    assert_eq!(live_descriptors(), 0, "every socket deregistered");
}

#[gort::test(flavor = "multi_thread", worker_threads = 1)]
async fn echo_keeps_every_byte_of_concurrent_connections_on_one_p() {
    let _watchdog = watchdog(Duration::from_secs(180), "echo, 1 P");
    echo_round_trips().await;
}

#[gort::test(flavor = "multi_thread", worker_threads = 2)]
async fn echo_keeps_every_byte_of_concurrent_connections_on_two_ps() {
    let _watchdog = watchdog(Duration::from_secs(180), "echo, 2 Ps");
    echo_round_trips().await;
}

// ---------------------------------------------------------------------------------------------
// Errors of bind and connect

#[gort::test]
async fn binding_a_port_in_use_fails_with_addr_in_use() {
    let _watchdog = watchdog(Duration::from_secs(60), "bind in use");
    let (first, addr) = loopback_listener().await;
    let err = TcpListener::bind(addr)
        .await
        .expect_err("a second listener on a port in use");
    assert_eq!(err.kind(), io::ErrorKind::AddrInUse, "{err}");
    assert_eq!(live_descriptors(), 1, "the failed bind registered nothing");

    // The same for a port held by a listener that gort does not know about.
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let err = TcpListener::bind(std_listener.local_addr().unwrap())
        .await
        .expect_err("a port held by a std listener");
    assert_eq!(err.kind(), io::ErrorKind::AddrInUse, "{err}");
    drop(first);
    assert_eq!(live_descriptors(), 0);
}

#[gort::test]
async fn connecting_to_a_closed_port_fails_with_connection_refused() {
    let _watchdog = watchdog(Duration::from_secs(60), "connect refused");
    let addr = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let err = TcpStream::connect(addr)
        .await
        .expect_err("nobody listens on the port any more");
    assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused, "{err}");
    assert_eq!(
        live_descriptors(),
        0,
        "the failed connection's socket was deregistered"
    );
}

// ---------------------------------------------------------------------------------------------
// Reset, end of stream, readers woken by the peer

/// The peer sets `SO_LINGER` to zero and drops its stream while the client's task is parked in
/// `read`: the close sends RST, and the read fails with `ConnectionReset`. Linux reports the
/// reset once (it is the socket's pending error, cleared when read); the connection is then
/// closed for reading, so the next read returns end of stream. Each drop frees its descriptor.
#[gort::test]
async fn a_peer_reset_fails_a_parked_read_with_connection_reset() {
    let _watchdog = watchdog(Duration::from_secs(60), "reset mid-read");
    let (listener, addr) = loopback_listener().await;
    let (client, server) = connected_pair(&listener, addr).await;
    assert_eq!(live_descriptors(), 3, "listener, client, server");

    let (read, parked) = record_pending(async move {
        let mut buf = [0u8; 64];
        let first = (&client).read(&mut buf).await;
        (first, client)
    });
    let reader = gort::spawn(read);
    assert!(
        eventually(|| parked.load(Ordering::SeqCst)).await,
        "the reader never parked in read"
    );

    server.set_zero_linger().unwrap();
    drop(server);
    assert_eq!(
        live_descriptors(),
        2,
        "the reset stream's descriptor is freed"
    );

    let (first, client) = within(WAKE_LIMIT, "the read parked before the reset", reader)
        .await
        .unwrap();
    let err = first.expect_err("a read parked when the peer reset the connection");
    assert_eq!(err.kind(), io::ErrorKind::ConnectionReset, "{err}");
    assert_eq!(err.raw_os_error(), Some(libc::ECONNRESET));
    let mut buf = [0u8; 64];
    let second = within(WAKE_LIMIT, "the read after the reset", async {
        (&client).read(&mut buf).await
    })
    .await;
    assert_eq!(
        second.expect("a read after the reset was reported"),
        0,
        "after the reset was reported, the connection reads as ended"
    );

    drop(client);
    assert_eq!(live_descriptors(), 1, "the client's descriptor is freed");
    drop(listener);
    assert_eq!(live_descriptors(), 0, "the listener's descriptor is freed");
}

/// Closing the write side of a connection the peer already reset succeeds: there is nothing left
/// to close (hyper closes every HTTP/1 connection this way when it ends).
#[gort::test]
async fn closing_a_connection_the_peer_reset_succeeds() {
    let (listener, addr) = loopback_listener().await;
    let (mut client, server) = connected_pair(&listener, addr).await;
    server.set_zero_linger().unwrap();
    drop(server);
    let mut buf = [0u8; 8];
    let err = within(WAKE_LIMIT, "the read that sees the reset", async {
        (&client).read(&mut buf).await
    })
    .await
    .expect_err("the reset is reported to the first read");
    assert_eq!(err.kind(), io::ErrorKind::ConnectionReset, "{err}");
    // The `futures` trait's close (hyper closes every HTTP/1 connection this way, through
    // gort-compat) and tokio's `shutdown` both succeed on a dead connection (tokio 1.54 turns
    // `ENOTCONN` into `Ok` too), however often they are called.
    futures::io::AsyncWriteExt::close(&mut client)
        .await
        .expect("closing a reset connection");
    futures::io::AsyncWriteExt::close(&mut client)
        .await
        .expect("closing it twice");
    client
        .shutdown()
        .await
        .expect("tokio's shutdown after a reset");
}

/// A hand-written future built on `poll_read_ready` and `try_read` (tokio's pattern for custom
/// protocols) parks until the peer writes, then reads what it wrote.
#[gort::test]
async fn poll_read_ready_and_try_read_make_a_reader() {
    let (listener, addr) = loopback_listener().await;
    let (mut client, server) = connected_pair(&listener, addr).await;
    let (read, parked) = record_pending(async move {
        let mut buf = [0u8; 16];
        let n = std::future::poll_fn(|cx| loop {
            match server.poll_read_ready(cx) {
                std::task::Poll::Ready(Ok(())) => {}
                other => return other.map_ok(|()| 0),
            }
            match server.try_read(&mut buf) {
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => continue,
                result => return std::task::Poll::Ready(result),
            }
        })
        .await
        .expect("the hand-written read");
        buf[..n].to_vec()
    });
    let reader = gort::spawn(read);
    assert!(
        eventually(|| parked.load(Ordering::SeqCst)).await,
        "the reader never parked"
    );
    client.write_all(b"ready").await.unwrap();
    let got = within(WAKE_LIMIT, "the hand-written reader", reader)
        .await
        .unwrap();
    assert_eq!(got, b"ready");
}

/// Once the peer closed, every read returns `Ok(0)` at once: after the data it sent, and again.
#[gort::test(flavor = "multi_thread", worker_threads = 1)]
async fn reads_after_the_peer_closed_return_zero_every_time() {
    let _watchdog = watchdog(Duration::from_secs(60), "reads after close");
    let (listener, addr) = loopback_listener().await;

    // The peer sends some data first, then closes.
    let (client, mut server) = connected_pair(&listener, addr).await;
    server.write_all(b"last words").await.unwrap();
    drop(server);
    let mut got = Vec::new();
    within(WAKE_LIMIT, "read_to_end of the peer's last words", async {
        (&client).read_to_end(&mut got).await
    })
    .await
    .unwrap();
    assert_eq!(got, b"last words");
    let mut buf = [0u8; 32];
    for attempt in 0..3 {
        let n = within(WAKE_LIMIT, "a read after end of stream", async {
            (&client).read(&mut buf).await
        })
        .await;
        assert_eq!(n.unwrap(), 0, "read {attempt} after end of stream");
    }

    // The peer closes without sending anything, while nobody reads yet.
    let (client, server) = connected_pair(&listener, addr).await;
    drop(server);
    for attempt in 0..3 {
        let n = within(
            WAKE_LIMIT,
            "a read of a connection closed with no data",
            async { (&client).read(&mut buf).await },
        )
        .await;
        assert_eq!(
            n.unwrap(),
            0,
            "read {attempt} of a connection closed with no data"
        );
    }
}

/// How the peer of a parked reader ends its side of the connection.
#[derive(Debug, Clone, Copy)]
enum PeerEnds {
    /// Shuts down its write side (`close`, `shutdown(SHUT_WR)`): half-close, the peer still
    /// reads.
    ShutdownWrite,
    /// Drops the `OwnedWriteHalf` of its `into_split`, which shuts down the write side.
    DropsOwnedWriteHalf,
    /// Drops the whole stream.
    Drops,
}

/// A task parked in `read` on an `OwnedReadHalf` wakes with `Ok(0)` when the peer ends its
/// write side, however it does so; after a half-close the reader's side can still send, and
/// the peer reads it.
#[gort::test]
async fn a_reader_parked_on_an_owned_read_half_wakes_with_zero_when_the_peer_ends() {
    let _watchdog = watchdog(Duration::from_secs(60), "parked reader, peer ends");
    let (listener, addr) = loopback_listener().await;
    for how in [
        PeerEnds::ShutdownWrite,
        PeerEnds::DropsOwnedWriteHalf,
        PeerEnds::Drops,
    ] {
        let (client, server) = connected_pair(&listener, addr).await;
        let (mut read_half, mut write_half) = client.into_split();
        let (read, parked) = record_pending(async move {
            let mut buf = [0u8; 64];
            let n = read_half.read(&mut buf).await;
            (n, read_half)
        });
        let reader = gort::spawn(read);
        assert!(
            eventually(|| parked.load(Ordering::SeqCst)).await,
            "{how:?}: the reader never parked in read"
        );

        // What the peer keeps to read with, if its read side stays open.
        let peer_reader: Option<Box<dyn gort::io::AsyncRead + Unpin + Send>> = match how {
            PeerEnds::ShutdownWrite => {
                (&server).shutdown().await.unwrap();
                Some(Box::new(server))
            }
            PeerEnds::DropsOwnedWriteHalf => {
                let (server_read, server_write) = server.into_split();
                drop(server_write);
                Some(Box::new(server_read))
            }
            PeerEnds::Drops => {
                drop(server);
                None
            }
        };
        let (n, read_half) = within(WAKE_LIMIT, "the read parked before the peer ended", reader)
            .await
            .unwrap();
        assert_eq!(n.expect("the parked read"), 0, "{how:?}: end of stream");

        if let Some(mut peer_reader) = peer_reader {
            // Half-closed: this side may still send, and the peer still reads it.
            write_half.write_all(b"still open").await.unwrap();
            drop(write_half);
            let mut got = Vec::new();
            within(WAKE_LIMIT, "the half-closed peer's read_to_end", async {
                peer_reader.read_to_end(&mut got).await
            })
            .await
            .unwrap();
            assert_eq!(
                got, b"still open",
                "{how:?}: the peer reads after its half-close"
            );
        }
        drop(read_half);
    }
}

/// Regression: a read that returned fewer bytes than asked for, when the peer's FIN had
/// already been reported by the poller (in the same edge as the data, or an earlier one), must
/// still see end of stream. Every read below (`read_to_end` asks for 32 bytes, gets 1) is such a
/// short read; an implementation that takes a short read as proof that the socket is drained
/// parks the next read for an edge that never comes.
#[gort::test(flavor = "multi_thread", worker_threads = 2)]
async fn end_of_stream_that_arrived_with_the_last_data_ends_read_to_end() {
    let _watchdog = watchdog(Duration::from_secs(120), "end of stream after a short read");
    let (listener, addr) = loopback_listener().await;
    for round in 0..20 {
        let (mut client, server) = connected_pair(&listener, addr).await;
        // Nothing to read yet: the read direction waits for the poller's next edge.
        let err = server.try_read(&mut [0u8; 1]).expect_err("no data yet");
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
        client.write_all(b"x").await.unwrap();
        client.shutdown().await.unwrap();
        within(
            WAKE_LIMIT,
            "readable() after the data came",
            server.readable(),
        )
        .await
        .unwrap();
        // Gives the idle M blocked in the poller time to report the FIN too, if it came in an
        // edge of its own, so that both edges are consumed before the read (not an assertion).
        std::thread::sleep(Duration::from_millis(20));
        let mut got = Vec::new();
        within(
            WAKE_LIMIT,
            "read_to_end after data and FIN were reported",
            async { (&server).read_to_end(&mut got).await },
        )
        .await
        .unwrap_or_else(|err| panic!("round {round}: {err}"));
        assert_eq!(got, b"x", "round {round}");
    }
}

// ---------------------------------------------------------------------------------------------
// Descriptor slots

/// 10,000 connections opened and closed in batches of 50: the live count returns to where it
/// started and the table stays near the largest number open at once, so slots are reused.
#[gort::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_connections_reuse_descriptor_slots() {
    const CONNECTIONS: usize = 10_000;
    const BATCH: usize = 50;
    let _watchdog = watchdog(Duration::from_secs(180), "10k connections");
    let baseline = live_descriptors();
    within(
        Duration::from_secs(120),
        "10,000 connections",
        one_byte_connections(CONNECTIONS, BATCH),
    )
    .await;

    let (live, capacity) = gort::net::__poll_descriptors();
    assert_eq!(live, baseline, "every connection's descriptors were freed");
    assert!(
        capacity < 200,
        "the table grew to {capacity} slots for at most {} sockets open at once",
        2 * BATCH + 1
    );
}

// ---------------------------------------------------------------------------------------------
// Sockets made off any runtime, IO from the block_on future

/// A listener and a client made with `from_std` on a plain thread (no runtime there) belong to
/// the default runtime: `gort::block_on` accepts, echoes through a spawned task, and a later
/// connection wakes an `accept` parked on the listener.
#[test]
fn sockets_made_on_a_plain_thread_work_in_block_on() {
    let _watchdog = watchdog(Duration::from_secs(60), "sockets from a plain thread");
    let (listener, client) = thread::spawn(|| {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let std_client = std::net::TcpStream::connect(std_listener.local_addr().unwrap()).unwrap();
        (
            TcpListener::from_std(std_listener).expect("TcpListener::from_std off any runtime"),
            TcpStream::from_std(std_client).expect("TcpStream::from_std off any runtime"),
        )
    })
    .join()
    .unwrap();
    let addr = listener.local_addr().unwrap();

    gort::block_on(async move {
        let (server, peer) = listener.accept().await.unwrap();
        assert_eq!(peer, client.local_addr().unwrap());
        let echoer = gort::spawn(echo(server));
        for message in 0..50 {
            let sent = pattern(message, 1 + message * 997);
            round_trip(&client, &sent, &format!("message {message}")).await;
        }
        (&client).shutdown().await.unwrap();
        let mut rest = Vec::new();
        (&client).read_to_end(&mut rest).await.unwrap();
        assert!(rest.is_empty());
        echoer.await.unwrap();

        // An accept parked on the listener made off-runtime is woken by a new connection.
        let (accept, parked) = record_pending(async move { listener.accept().await });
        let acceptor = gort::spawn(accept);
        assert!(
            eventually(|| parked.load(Ordering::SeqCst)).await,
            "accept never parked"
        );
        let late = thread::spawn(move || std::net::TcpStream::connect(addr).unwrap())
            .join()
            .unwrap();
        let (_accepted, peer) = acceptor.await.unwrap().expect("the parked accept");
        assert_eq!(peer, late.local_addr().unwrap());
    });
}

/// A socket made and used entirely under another executor (`futures::executor::block_on`, no
/// gort runtime on the thread): it registers with the default runtime, whose Ms poll it, so an
/// `accept` and the reads after it wake (issue 14: nobody polled the reactor it registered
/// with, and the `accept` hung).
#[test]
fn sockets_used_under_another_executor_are_driven() {
    let _watchdog = watchdog(Duration::from_secs(60), "sockets under futures' block_on");
    futures::executor::block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().unwrap();
        let client = thread::spawn(move || {
            // Connect only once the accept has parked, so that its wake-up comes from a poll.
            thread::sleep(Duration::from_millis(50));
            let mut stream = std::net::TcpStream::connect(addr).unwrap();
            io::Write::write_all(&mut stream, b"ping").unwrap();
            let mut pong = [0u8; 4];
            io::Read::read_exact(&mut stream, &mut pong).unwrap();
            pong
        });
        let (stream, _) = listener.accept().await.expect("accept");
        let mut ping = [0u8; 4];
        (&stream).read_exact(&mut ping).await.expect("read");
        (&stream).write_all(b"pong").await.expect("write");
        assert_eq!(&ping, b"ping");
        assert_eq!(&client.join().unwrap(), b"pong");
    });
}

/// A socket made off any runtime and then used inside an explicitly built one works: it
/// belongs to the default runtime, whose Ms poll it and wake the task on the other runtime.
#[test]
fn a_socket_made_off_any_runtime_works_inside_another_runtime() {
    let _watchdog = watchdog(Duration::from_secs(60), "off-runtime socket in a runtime");
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = std_listener.local_addr().unwrap();
    let listener = TcpListener::from_std(std_listener).unwrap();
    let client = thread::spawn(move || {
        thread::sleep(Duration::from_millis(50));
        std::net::TcpStream::connect(addr).unwrap()
    });
    let peer = runtime(1).block_on(async move { listener.accept().await.unwrap().1 });
    assert_eq!(peer, client.join().unwrap().local_addr().unwrap());
}

/// A read parked on a socket of a runtime that is shut down elsewhere fails at once with an
/// error that says so, instead of waiting for a poll that will never come; so does a socket made
/// on a thread of that runtime afterwards.
#[test]
fn io_on_a_runtime_shut_down_elsewhere_fails_clearly() {
    let _watchdog = watchdog(Duration::from_secs(60), "IO after shutdown");
    let rt = runtime(1);
    let handle = rt.handle().clone();
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = std_listener.local_addr().unwrap();
    let _peer = thread::spawn(move || std_listener.accept().map(|(stream, _)| stream));
    let (parked_tx, parked_rx) = std::sync::mpsc::channel();
    let reader = thread::spawn(move || {
        handle.block_on(async move {
            let client = TcpStream::connect(addr).await.unwrap();
            let mut byte = [0u8; 1];
            let mut reading = &client;
            let (read, parked) = record_pending(reading.read(&mut byte));
            let watcher = thread::spawn(move || {
                while !parked.load(Ordering::SeqCst) {
                    thread::sleep(Duration::from_millis(1));
                }
                parked_tx.send(()).unwrap();
            });
            let result = read.await;
            watcher.join().unwrap();
            let late = TcpStream::connect(addr).await;
            (result.map(drop), late.map(drop))
        })
    });
    parked_rx.recv().unwrap();
    drop(rt);
    let (read, late) = reader.join().expect("block_on returned");
    for (what, result) in [("the parked read", read), ("a connect after", late)] {
        let error = result.expect_err(what);
        assert!(
            error.to_string().contains("shut down"),
            "{what}: unclear error {error}"
        );
        assert!(
            gort::runtime::is_rt_shutdown_err(&error),
            "{what}: tokio's predicate does not recognise {error}"
        );
    }
    let other = io::Error::other("gort: something else");
    assert!(!gort::runtime::is_rt_shutdown_err(&other));
}

/// Round trips where the `block_on` future itself owns the client socket (no spawn) and a
/// spawned task serves the other end: when main waits on its socket, its thread parks in the
/// netpoller (or runs the server's G) and must be woken by the socket's readiness.
async fn block_on_round_trips() {
    let (listener, addr) = loopback_listener().await;
    let server = gort::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        echo(stream).await
    });
    let client = TcpStream::connect(addr).await.unwrap();
    let mut expected = 0;
    for message in 0..1_000 {
        let len = if message % 100 == 99 {
            MAX_MESSAGE
        } else {
            1 + message % 300
        };
        round_trip(
            &client,
            &pattern(message, len),
            &format!("message {message}"),
        )
        .await;
        expected += len as u64;
    }
    drop(client);
    assert_eq!(server.await.unwrap(), expected);
}

#[test]
fn the_block_on_future_does_socket_io_on_one_p() {
    let _watchdog = watchdog(Duration::from_secs(120), "block_on IO, 1 P");
    let rt = runtime(1);
    rt.block_on(block_on_round_trips());
}

#[test]
fn the_block_on_future_does_socket_io_on_two_ps() {
    let _watchdog = watchdog(Duration::from_secs(120), "block_on IO, 2 Ps");
    let rt = runtime(2);
    rt.block_on(block_on_round_trips());
}

#[test]
fn the_block_on_future_does_socket_io_on_the_default_runtime() {
    let _watchdog = watchdog(Duration::from_secs(120), "block_on IO, default runtime");
    gort::block_on(block_on_round_trips());
}

/// The `block_on` future's only peer is a plain thread with a blocking std socket, so no G is
/// ever runnable: every wake-up of main comes from the netpoller.
#[test]
fn the_block_on_future_is_woken_by_the_netpoller_alone() {
    let _watchdog = watchdog(Duration::from_secs(120), "block_on IO, plain-thread peer");
    for procs in [1, 2] {
        let rt = runtime(procs);
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = std_listener.local_addr().unwrap();
        let peer = thread::spawn(move || {
            let (mut stream, _) = std_listener.accept().unwrap();
            io::copy(&mut stream.try_clone().unwrap(), &mut stream).unwrap()
        });
        let sent_total = rt.block_on(async {
            let client = TcpStream::connect(addr).await.unwrap();
            let mut total = 0;
            for message in 0..300 {
                let len = if message % 50 == 49 {
                    MAX_MESSAGE
                } else {
                    1 + message % 100
                };
                round_trip(
                    &client,
                    &pattern(message, len),
                    &format!("{procs} Ps, message {message}"),
                )
                .await;
                total += len as u64;
            }
            total
        });
        assert_eq!(peer.join().unwrap(), sent_total, "{procs} Ps");
    }
}

/// A connecting stream is not taken for readable: its readiness comes from the poller, so
/// `ready(READABLE)` waits for the peer's data (tokio's connect starts so).
#[gort::test]
async fn a_connected_stream_is_readable_only_once_the_peer_writes() {
    use futures::FutureExt;
    use gort::io::Interest;
    let (listener, addr) = loopback_listener().await;
    let (client, mut server) = connected_pair(&listener, addr).await;
    let mut ready = Box::pin(client.ready(Interest::READABLE));
    assert!(
        (&mut ready).now_or_never().is_none(),
        "nothing was written yet"
    );
    server.write_all(b"ping").await.unwrap();
    let event = within(WAKE_LIMIT, "readable after the write", ready)
        .await
        .unwrap();
    assert!(event.is_readable() && !event.is_read_closed());
}

/// After its runtime is dropped, a stream's `try_read` still reads what the socket holds (the
/// fd is open), and only a read that would wait reports the shutdown, in another runtime too.
#[test]
fn try_read_after_the_runtime_is_dropped_still_reads_and_waiting_reports_the_shutdown() {
    use std::io::Write;
    let first = gort::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (stream, mut peer) = first.block_on(async {
        let (listener, addr) = loopback_listener().await;
        let peer = std::net::TcpStream::connect(addr).unwrap();
        let (stream, _) = listener.accept().await.unwrap();
        (stream, peer)
    });
    peer.write_all(b"hello").unwrap();
    drop(first);
    let mut buf = [0u8; 5];
    let deadline = std::time::Instant::now() + WAKE_LIMIT;
    let n = loop {
        // The bytes may still be on their way through loopback.
        match stream.try_read(&mut buf) {
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                assert!(std::time::Instant::now() < deadline, "the bytes never came");
                std::thread::yield_now();
            }
            other => break other.unwrap(),
        }
    };
    assert_eq!(&buf[..n], b"hello");
    let second = gort::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut stream = stream;
    let err = second
        .block_on(async { gort::io::AsyncReadExt::read(&mut stream, &mut buf).await })
        .unwrap_err();
    assert!(gort::runtime::is_rt_shutdown_err(&err), "{err}");
}
