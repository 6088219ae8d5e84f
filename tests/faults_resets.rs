//! Fault injection (issue 14, `faults/support.rs` has what the three files share): user code
//! that misbehaves inside the runtime's machinery, and what users rely on despite it. For each
//! fault: the runtime keeps serving the other tasks, every other task's output arrives
//! (counted, and checked), `shutdown_timeout` returns within a generous bound of its timeout,
//! and the process goes on. The panics are deliberate; a hook keeps them off stderr. A fault
//! that could end the process runs in a child process, so that it fails its test alone.
//! Running out of descriptors lives in `net_emfile.rs`: lowering the limit is process-wide.
//!
//! This file: peers resetting their connections mid-stream while an echo server is under load.

mod common;
#[path = "faults/support.rs"]
mod support;

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::{mpsc, Arc};
use std::time::Duration;

use gort::io::{AsyncReadExt, AsyncWriteExt};
use gort::net::{TcpListener, TcpStream};

use common::{count, counter, eventually, pattern, round_trip, runtime, watchdog, within};
use support::*;

// ---------------------------------------------------------------------------------------------
// Peers that reset under load

/// Connections of [`an_echo_server_survives_peers_that_reset_mid_stream`], all at once.
const CONNECTIONS: usize = 200;
/// Every this many connections, the client resets mid-stream.
const RESET_EVERY: usize = 5;
/// Messages each well-behaved client round-trips (1600 in all).
const MESSAGES: usize = 10;
/// The largest message.
const MAX_MESSAGE: usize = 16 * 1024;

/// Length of message `message` on connection `connection`, 1 byte to [`MAX_MESSAGE`].
fn message_len(connection: usize, message: usize) -> usize {
    1 + (connection * 7919 + message * 104_729) % MAX_MESSAGE
}

/// How a server handler's connection ended: the bytes echoed until end of stream, or the kind
/// of the error that ended it.
type Ended = (SocketAddr, Result<u64, io::ErrorKind>);

/// Echoes what `stream` reads until end of stream or an error.
async fn echo_until_end(stream: &TcpStream) -> Result<u64, io::ErrorKind> {
    let mut buf = vec![0u8; MAX_MESSAGE];
    let mut echoed = 0;
    loop {
        let (mut reader, mut writer) = (stream, stream);
        let n = reader.read(&mut buf).await.map_err(|err| err.kind())?;
        if n == 0 {
            return Ok(echoed);
        }
        writer
            .write_all(&buf[..n])
            .await
            .map_err(|err| err.kind())?;
        echoed += n as u64;
    }
}

/// One client: returns its address and, if it behaved, the bytes it sent. A well-behaved one
/// round-trips its messages, closes its side and reads the server's end of stream. A resetting
/// one round-trips two messages, writes one more whose echo it never reads, and resets the
/// connection (`SO_LINGER` of zero, then close) while the server is in the middle of it.
async fn client(addr: SocketAddr, connection: usize) -> (SocketAddr, Option<u64>) {
    let stream = TcpStream::connect(addr).await.expect("connect");
    let local = stream.local_addr().unwrap();
    let resets = connection % RESET_EVERY == 0;
    let messages = if resets { 2 } else { MESSAGES };
    let mut sent = 0;
    for message in 0..messages {
        let bytes = pattern(
            connection * MESSAGES + message,
            message_len(connection, message),
        );
        round_trip(
            &stream,
            &bytes,
            &format!("connection {connection}, message {message}"),
        )
        .await;
        sent += bytes.len() as u64;
    }
    if resets {
        (&stream)
            .write_all(&pattern(connection, MAX_MESSAGE))
            .await
            .expect("write");
        stream.set_zero_linger().unwrap();
        drop(stream);
        return (local, None);
    }
    (&stream).shutdown().await.expect("shutdown(Write)");
    let mut rest = [0u8; 16];
    let end = (&stream).read(&mut rest).await.expect("read end of stream");
    assert_eq!(
        end, 0,
        "connection {connection}: the server echoes nothing more"
    );
    (local, Some(sent))
}

/// A gort echo server serving 200 connections at once, every 5th of which the client resets
/// mid-stream. Every well-behaved client gets each byte back (checked), the server's handler of
/// each such connection ends at end of stream having echoed exactly what was sent, the
/// handler of each reset connection ends too (with the reset, or end of stream), the server
/// keeps accepting (a connection made afterwards is served), its descriptor table returns to
/// its baseline, and it shuts down in time. Clients run on a runtime of their own.
#[test]
fn an_echo_server_survives_peers_that_reset_mid_stream() {
    let _watchdog = watchdog(Duration::from_secs(180), "resets under load");
    let server_rt = runtime(2);
    let client_rt = runtime(1);
    let (listener, addr, baseline) = server_rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().unwrap();
        (listener, addr, gort::net::__poll_descriptors().0)
    });
    let (ended_tx, ended_rx) = mpsc::channel::<Ended>();
    let accepted = counter();
    let server = {
        let accepted = Arc::clone(&accepted);
        server_rt.spawn(async move {
            loop {
                let (stream, peer) = listener.accept().await.expect("accept");
                accepted.fetch_add(1, Ordering::SeqCst);
                let ended_tx = ended_tx.clone();
                gort::go!(async move {
                    let ended = echo_until_end(&stream).await;
                    drop(stream);
                    let _ = ended_tx.send((peer, ended));
                });
            }
        })
    };

    let clients: Vec<_> = (0..CONNECTIONS)
        .map(|connection| client_rt.spawn(client(addr, connection)))
        .collect();
    let outcomes: Vec<(SocketAddr, Option<u64>)> = client_rt.block_on(async {
        let mut outcomes = Vec::new();
        for client in clients {
            outcomes.push(
                within(LIMIT * 3, "a client", client)
                    .await
                    .expect("a client failed"),
            );
        }
        outcomes
    });

    let ended = receive_within(&ended_rx, CONNECTIONS, LIMIT);
    assert_eq!(ended.len(), CONNECTIONS, "server handlers that ended");
    let ended: std::collections::HashMap<_, _> = ended.into_iter().collect();
    let mut resets_seen = 0;
    for (index, (client_addr, sent)) in outcomes.iter().enumerate() {
        let handler = ended
            .get(client_addr)
            .unwrap_or_else(|| panic!("connection {index} was never served"));
        match sent {
            Some(sent) => assert_eq!(handler, &Ok(*sent), "connection {index}: bytes echoed"),
            None => match handler {
                Ok(_) => {}
                Err(io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe) => resets_seen += 1,
                Err(kind) => {
                    panic!("connection {index}: the reset ended its handler with {kind:?}")
                }
            },
        }
    }
    assert!(
        resets_seen > 0,
        "no handler saw a reset: the clients did not reset"
    );
    assert_eq!(count(&accepted), CONNECTIONS);

    // The server keeps accepting and serving.
    client_rt.block_on(async {
        let late = TcpStream::connect(addr)
            .await
            .expect("connect after the resets");
        round_trip(
            &late,
            &pattern(7, MAX_MESSAGE),
            "the connection after the resets",
        )
        .await;
    });
    let (_, late) = ended_rx
        .recv_timeout(LIMIT)
        .expect("the late connection's handler ended");
    assert_eq!(
        late,
        Ok(MAX_MESSAGE as u64),
        "the late connection's handler"
    );
    assert_eq!(count(&accepted), CONNECTIONS + 1);

    server_rt.block_on(async {
        let back = eventually(|| gort::net::__poll_descriptors().0 == baseline).await;
        assert!(
            back,
            "the server's descriptors: {} live, {baseline} before the connections",
            gort::net::__poll_descriptors().0
        );
    });
    client_rt.block_on(async {
        assert!(eventually(|| gort::net::__poll_descriptors().0 == 0).await);
    });
    assert!(!server.is_finished(), "the accept loop still runs");
    assert_shuts_down_in_time(server_rt, "the echo server");
    assert_shuts_down_in_time(client_rt, "the clients");
}
