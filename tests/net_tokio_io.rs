//! gort's sockets through tokio's IO traits (`gort::io`), over loopback, as ported tokio code
//! uses them: `read_buf` into a `BytesMut`, split halves (borrowed and owned, reunited or not),
//! `shutdown` giving the peer end of stream, `peek` leaving data queued, `poll_accept`,
//! readiness with `ready(Interest)`, the `try_*` family, `try_io`/`async_io`, a port in use,
//! peer credentials, and `ToSocketAddrs` in every form tokio takes.

mod common;

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::os::unix::fs::MetadataExt;
use std::time::Duration;

use bytes::BytesMut;
use gort::io::{AsyncReadExt, AsyncWriteExt, ReadBuf};
use gort::net::{Interest, TcpListener, TcpStream, UdpSocket, UnixListener, UnixStream};

use common::{pattern, within, TempSocketPath};

/// How long an await that must complete may take before the test fails.
const LIMIT: Duration = Duration::from_secs(30);

/// A listener on a free loopback port, and a connected client/server pair through it.
async fn tcp_pair() -> (TcpListener, TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (client, accepted) = futures::join!(TcpStream::connect(addr), listener.accept());
    let (server, peer) = accepted.unwrap();
    let client = client.unwrap();
    assert_eq!(peer, client.local_addr().unwrap());
    (listener, client, server)
}

#[gort::test]
async fn read_buf_fills_a_bytes_mut_and_read_to_end_stops_at_shutdown() {
    let (_listener, mut client, mut server) = tcp_pair().await;
    let sent = pattern(1, 200_000);
    let writer = {
        let sent = sent.clone();
        gort::spawn(async move {
            server.write_all(&sent).await.unwrap();
            server.shutdown().await.unwrap();
            server
        })
    };
    let mut got = BytesMut::with_capacity(4096);
    while got.len() < sent.len() {
        let n = within(LIMIT, "read_buf", client.read_buf(&mut got))
            .await
            .unwrap();
        assert!(
            n > 0,
            "end of stream after {} of {} bytes",
            got.len(),
            sent.len()
        );
    }
    assert!(got[..] == sent[..], "the bytes differ from what was sent");
    let mut rest = Vec::new();
    assert_eq!(client.read_to_end(&mut rest).await.unwrap(), 0);
    within(LIMIT, "the writer", writer).await.unwrap();
}

#[gort::test]
async fn shutdown_gives_the_peer_end_of_stream_and_it_can_still_answer() {
    let (_listener, mut client, mut server) = tcp_pair().await;
    client.write_all(b"question").await.unwrap();
    client.shutdown().await.unwrap();

    let mut request = Vec::new();
    within(LIMIT, "read to the end", server.read_to_end(&mut request))
        .await
        .unwrap();
    assert_eq!(request, b"question");
    let ready = server.ready(Interest::READABLE).await.unwrap();
    assert!(ready.is_read_closed(), "{ready:?}");

    server.write_all(b"answer").await.unwrap();
    drop(server);
    let mut answer = Vec::new();
    client.read_to_end(&mut answer).await.unwrap();
    assert_eq!(answer, b"answer", "a half-closed stream still reads");
}

#[gort::test]
async fn borrowed_halves_read_and_write_at_once() {
    let (_listener, mut client, mut server) = tcp_pair().await;
    let echo = gort::spawn(async move {
        let (mut read, mut write) = server.split();
        assert_eq!(read.peer_addr().unwrap(), write.peer_addr().unwrap());
        let copied = gort::io::copy(&mut read, &mut write).await.unwrap();
        write.shutdown().await.unwrap();
        copied
    });
    let sent = pattern(2, 300_000);
    let (mut read, mut write) = client.split();
    let mut got = Vec::new();
    let (written, read_back) = futures::join!(
        async {
            write.write_all(&sent).await?;
            write.shutdown().await
        },
        read.read_to_end(&mut got)
    );
    written.unwrap();
    read_back.unwrap();
    assert!(got == sent, "the echo differs from what was sent");
    assert_eq!(
        within(LIMIT, "the echo", echo).await.unwrap(),
        sent.len() as u64
    );
}

#[gort::test]
async fn owned_halves_move_to_tasks_and_reunite_only_with_their_own() {
    let (_listener, client, server) = tcp_pair().await;
    let (mut client_read, mut client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();

    let writer = gort::spawn(async move {
        client_write
            .write_all(b"through the owned half")
            .await
            .unwrap();
        client_write
    });
    let client_write = within(LIMIT, "the writer", writer).await.unwrap();
    let mut buf = [0u8; 22];
    let mut server_read = server_read;
    server_read.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"through the owned half");

    // Halves of two different streams: both come back in the error.
    let mismatched = client_read.reunite(server_write);
    let gort::net::tcp::ReuniteError(read, write) =
        mismatched.expect_err("halves of different streams reunited");
    client_read = read;
    let server_write = write;

    let client = client_read.reunite(client_write).expect("its own halves");
    let server = server_read.reunite(server_write).expect("its own halves");
    assert_eq!(client.peer_addr().unwrap(), server.local_addr().unwrap());
}

#[gort::test]
async fn dropping_the_owned_write_half_ends_the_peers_stream() {
    let (_listener, client, mut server) = tcp_pair().await;
    let (_client_read, mut client_write) = client.into_split();
    client_write.write_all(b"last words").await.unwrap();
    drop(client_write);
    let mut got = Vec::new();
    within(LIMIT, "read to the end", server.read_to_end(&mut got))
        .await
        .unwrap();
    assert_eq!(got, b"last words");
}

#[gort::test]
async fn peek_leaves_the_data_for_the_next_read() {
    let (_listener, mut client, mut server) = tcp_pair().await;
    server.write_all(b"hello").await.unwrap();

    let mut peeked = [0u8; 16];
    let n = within(LIMIT, "peek", client.peek(&mut peeked))
        .await
        .unwrap();
    assert_eq!(&peeked[..n], &b"hello"[..n]);

    let mut storage = [0u8; 16];
    let mut buf = ReadBuf::new(&mut storage);
    let n = std::future::poll_fn(|cx| client.poll_peek(cx, &mut buf))
        .await
        .unwrap();
    assert_eq!(buf.filled(), &b"hello"[..n]);

    let (mut read, _write) = client.split();
    let mut again = [0u8; 16];
    let n = read.peek(&mut again).await.unwrap();
    assert_eq!(&again[..n], &b"hello"[..n]);

    let mut got = [0u8; 5];
    read.read_exact(&mut got).await.unwrap();
    assert_eq!(&got, b"hello", "peeking consumed nothing");
}

#[gort::test]
async fn poll_accept_is_pending_until_a_client_connects() {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let first = futures::poll!(std::future::poll_fn(|cx| listener.poll_accept(cx)));
    assert!(first.is_pending(), "nobody has connected yet");
    let client = TcpStream::connect(addr).await.unwrap();
    let (server, peer) = within(
        LIMIT,
        "poll_accept",
        std::future::poll_fn(|cx| listener.poll_accept(cx)),
    )
    .await
    .unwrap();
    assert_eq!(peer, client.local_addr().unwrap());
    assert_eq!(server.peer_addr().unwrap(), peer);
}

#[gort::test]
async fn binding_a_port_in_use_fails_with_addr_in_use() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let err = TcpListener::bind(addr).await.unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::AddrInUse, "{err}");
}

#[gort::test]
async fn ready_try_read_and_try_write_follow_tokios_protocol() {
    let (_listener, client, server) = tcp_pair().await;
    let mut buf = [0u8; 64];
    // Nothing sent yet: a try_read finds nothing, and clears the readiness.
    let err = client.try_read(&mut buf).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
    assert!(
        futures::poll!(std::pin::pin!(client.readable())).is_pending(),
        "readable after a WouldBlock read, with nothing sent"
    );

    let ready = server.ready(Interest::WRITABLE).await.unwrap();
    assert!(ready.is_writable(), "{ready:?}");
    let n = server
        .try_write_vectored(&[io::IoSlice::new(b"ab"), io::IoSlice::new(b"cd")])
        .unwrap();
    assert_eq!(n, 4);

    let ready = within(LIMIT, "ready", client.ready(Interest::READABLE))
        .await
        .unwrap();
    assert!(
        ready.is_readable() && !ready.is_writable(),
        "only what was asked: {ready:?}"
    );
    let both = client
        .ready(Interest::READABLE | Interest::WRITABLE)
        .await
        .unwrap();
    assert!(both.is_readable() && both.is_writable(), "{both:?}");
    let (mut first, mut second) = ([0u8; 1], [0u8; 8]);
    let n = client
        .try_read_vectored(&mut [
            io::IoSliceMut::new(&mut first),
            io::IoSliceMut::new(&mut second),
        ])
        .unwrap();
    assert_eq!(n, 4);
    assert_eq!((&first[..], &second[..3]), (&b"a"[..], &b"bcd"[..]));

    server.try_write(b"more").unwrap();
    client.readable().await.unwrap();
    let mut spare = BytesMut::with_capacity(16);
    loop {
        match client.try_read_buf(&mut spare) {
            Ok(n) => {
                assert_eq!(n, 4);
                break;
            }
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                client.readable().await.unwrap();
            }
            Err(err) => panic!("try_read_buf: {err}"),
        }
    }
    assert_eq!(&spare[..], b"more");
}

#[gort::test]
async fn try_io_and_async_io_run_the_callers_own_system_call() {
    use std::io::Read;

    let (_listener, client, server) = tcp_pair().await;
    // The caller's own handle on the socket (a duplicate fd): its reads are the kernel's answer.
    let duplicate = client_fd_copy(&client);
    let mut buf = [0u8; 8];
    let nothing_yet = client.try_io(Interest::READABLE, || (&duplicate).read(&mut buf));
    assert_eq!(nothing_yet.unwrap_err().kind(), io::ErrorKind::WouldBlock);

    server.try_write(b"xyz").unwrap();
    let n = within(
        LIMIT,
        "async_io",
        client.async_io(Interest::READABLE, || (&duplicate).read(&mut buf)),
    )
    .await
    .unwrap();
    assert_eq!(&buf[..n], b"xyz");
}

/// A std stream on a duplicate of `stream`'s fd (same socket), for `try_io`'s callback.
fn client_fd_copy(stream: &TcpStream) -> std::net::TcpStream {
    use std::os::fd::AsFd;
    std::net::TcpStream::from(stream.as_fd().try_clone_to_owned().unwrap())
}

#[gort::test]
async fn socket_options_read_back() {
    let (_listener, client, _server) = tcp_pair().await;
    client.set_nodelay(true).unwrap();
    assert!(client.nodelay().unwrap());
    client.set_ttl(42).unwrap();
    assert_eq!(client.ttl().unwrap(), 42);
    assert_eq!(client.linger().unwrap(), None);
    client.set_zero_linger().unwrap();
    assert_eq!(client.linger().unwrap(), Some(Duration::ZERO));
    assert!(client.take_error().unwrap().is_none());
}

#[gort::test]
async fn std_streams_convert_both_ways() {
    let (_listener, client, server) = tcp_pair().await;
    let std_client = client.into_std().unwrap();
    let mut client = TcpStream::try_from(std_client).unwrap();
    let std_listener = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .into_std()
        .unwrap();
    let listener = TcpListener::from_std(std_listener).unwrap();
    assert!(listener.local_addr().unwrap().port() != 0);
    let mut server = server;
    server.write_all(b"after the round trip").await.unwrap();
    let mut got = [0u8; 20];
    client.read_exact(&mut got).await.unwrap();
    assert_eq!(&got, b"after the round trip");
}

#[gort::test]
async fn unix_streams_speak_tokios_traits_and_know_their_peer() {
    let path = TempSocketPath::new("tokio-io");
    let listener = UnixListener::bind(path.path()).unwrap();
    assert_eq!(
        listener.local_addr().unwrap().as_pathname(),
        Some(path.path())
    );
    let (client, accepted) = futures::join!(UnixStream::connect(path.path()), listener.accept());
    let (mut server, peer) = accepted.unwrap();
    let mut client = client.unwrap();
    assert!(peer.is_unnamed(), "the client never bound: {peer:?}");
    assert_eq!(client.peer_addr().unwrap().as_pathname(), Some(path.path()));

    // The socket file was created by this process, so its owner is this process's user.
    let our_uid = std::fs::metadata(path.path()).unwrap().uid();
    let cred = server.peer_cred().unwrap();
    assert_eq!(cred.uid(), our_uid);
    #[cfg(any(target_os = "linux", target_os = "android"))]
    assert_eq!(cred.pid(), Some(std::process::id() as i32));

    client.write_all(b"over a path").await.unwrap();
    client.shutdown().await.unwrap();
    let mut got = BytesMut::new();
    while within(LIMIT, "read_buf", server.read_buf(&mut got))
        .await
        .unwrap()
        > 0
    {}
    assert_eq!(&got[..], b"over a path");

    let (a, b) = UnixStream::pair().unwrap();
    assert!(a.local_addr().unwrap().is_unnamed());
    assert_eq!(a.peer_cred().unwrap().uid(), our_uid);
    let (mut a_read, _a_write) = a.into_split();
    let (_b_read, mut b_write) = b.into_split();
    b_write.write_all(b"pair").await.unwrap();
    let mut buf = [0u8; 4];
    a_read.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"pair");
}

#[gort::test]
async fn udp_receives_into_read_bufs_and_peeks_without_consuming() {
    let receiver = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let sender = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
    let to = receiver.local_addr().unwrap();
    sender.send_to(b"first", to).await.unwrap();
    sender.send_to(b"second", to.to_string()).await.unwrap();

    assert_eq!(
        within(LIMIT, "peek_sender", receiver.peek_sender())
            .await
            .unwrap(),
        sender.local_addr().unwrap()
    );
    let mut buf = [0u8; 16];
    let (n, from) = receiver.peek_from(&mut buf).await.unwrap();
    assert_eq!(
        (&buf[..n], from),
        (&b"first"[..], sender.local_addr().unwrap())
    );

    let mut storage = [0u8; 16];
    let mut read_buf = ReadBuf::new(&mut storage);
    let from = std::future::poll_fn(|cx| receiver.poll_recv_from(cx, &mut read_buf))
        .await
        .unwrap();
    assert_eq!(read_buf.filled(), b"first", "the peek left the datagram");
    assert_eq!(from, sender.local_addr().unwrap());

    let mut spare = BytesMut::with_capacity(32);
    let (n, _) = receiver.recv_buf_from(&mut spare).await.unwrap();
    assert_eq!(&spare[..n], b"second");

    // Connected sockets: the ReadBuf form of recv.
    receiver
        .connect(sender.local_addr().unwrap())
        .await
        .unwrap();
    sender.connect(("127.0.0.1", to.port())).await.unwrap();
    sender.send(b"third").await.unwrap();
    let mut storage = [0u8; 16];
    let mut read_buf = ReadBuf::new(&mut storage);
    std::future::poll_fn(|cx| receiver.poll_recv(cx, &mut read_buf))
        .await
        .unwrap();
    assert_eq!(read_buf.filled(), b"third");
}

#[gort::test]
async fn every_form_of_to_socket_addrs_binds_and_connects() {
    let listener = TcpListener::bind(String::from("127.0.0.1:0"))
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let port = addr.port();
    let text = addr.to_string();
    let list = [addr];
    let slice: &[SocketAddr] = &list;
    let forms = [
        TcpStream::connect(addr).await,
        TcpStream::connect(&addr).await,
        TcpStream::connect(text.as_str()).await,
        TcpStream::connect(&text).await,
        TcpStream::connect(("127.0.0.1", port)).await,
        TcpStream::connect((String::from("localhost"), port)).await,
        TcpStream::connect((Ipv4Addr::LOCALHOST, port)).await,
        TcpStream::connect(slice).await,
    ];
    for (i, stream) in forms.into_iter().enumerate() {
        let stream = stream.unwrap_or_else(|err| panic!("form {i}: {err}"));
        assert_eq!(stream.peer_addr().unwrap().port(), port, "form {i}");
        let _ = listener.accept().await.unwrap();
    }
    let resolved: Vec<SocketAddr> = gort::net::lookup_host(("localhost", port))
        .await
        .unwrap()
        .collect();
    assert!(resolved
        .iter()
        .all(|a| a.port() == port && a.ip().is_loopback()));
}
