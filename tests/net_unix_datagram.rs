//! `UnixDatagram` and `UnixSocket`: datagrams between paths with their senders' addresses,
//! connected sockets, pairs, unbound senders, the `try_*`/`readable` protocol, receives into a
//! `ReadBuf` and a `BytesMut`, shutdown, and the socket builder's conversions and refusals.

mod common;

use std::io;
use std::net::Shutdown;
use std::time::Duration;

use bytes::BytesMut;
use gort::io::{AsyncReadExt, AsyncWriteExt, ReadBuf};
use gort::net::{UnixDatagram, UnixSocket};

use common::{within, TempSocketPath};

const LIMIT: Duration = Duration::from_secs(30);

#[gort::test]
async fn datagrams_between_paths_carry_their_senders_address() {
    let (a_path, b_path) = (
        TempSocketPath::new("dgram-a"),
        TempSocketPath::new("dgram-b"),
    );
    let a = UnixDatagram::bind(a_path.path()).unwrap();
    let b = UnixDatagram::bind(b_path.path()).unwrap();
    assert_eq!(a.local_addr().unwrap().as_pathname(), Some(a_path.path()));

    a.send_to(b"one", b_path.path()).await.unwrap();
    let mut buf = [0u8; 16];
    let (n, from) = within(LIMIT, "recv_from", b.recv_from(&mut buf))
        .await
        .unwrap();
    assert_eq!(&buf[..n], b"one");
    assert_eq!(from.as_pathname(), Some(a_path.path()));

    // The ReadBuf form, into uninitialised space.
    a.send_to(b"two", b_path.path()).await.unwrap();
    let mut storage = [std::mem::MaybeUninit::<u8>::uninit(); 16];
    let mut read_buf = ReadBuf::uninit(&mut storage);
    let from = std::future::poll_fn(|cx| b.poll_recv_from(cx, &mut read_buf))
        .await
        .unwrap();
    assert_eq!(read_buf.filled(), b"two");
    assert_eq!(from.as_pathname(), Some(a_path.path()));

    // And into a BytesMut's spare capacity.
    a.send_to(b"three", b_path.path()).await.unwrap();
    let mut spare = BytesMut::with_capacity(16);
    let (n, from) = b.recv_buf_from(&mut spare).await.unwrap();
    assert_eq!(&spare[..n], b"three");
    assert_eq!(from.as_pathname(), Some(a_path.path()));
}

#[gort::test]
async fn connected_sockets_send_and_recv_without_addresses() {
    let (a_path, b_path) = (TempSocketPath::new("conn-a"), TempSocketPath::new("conn-b"));
    let a = UnixDatagram::bind(a_path.path()).unwrap();
    let b = UnixDatagram::bind(b_path.path()).unwrap();
    a.connect(b_path.path()).unwrap();
    b.connect(a_path.path()).unwrap();
    assert_eq!(a.peer_addr().unwrap().as_pathname(), Some(b_path.path()));

    a.send(b"hello").await.unwrap();
    let mut buf = [0u8; 16];
    let n = within(LIMIT, "recv", b.recv(&mut buf)).await.unwrap();
    assert_eq!(&buf[..n], b"hello");

    b.send(b"back").await.unwrap();
    let mut storage = [0u8; 16];
    let mut read_buf = ReadBuf::new(&mut storage);
    std::future::poll_fn(|cx| a.poll_recv(cx, &mut read_buf))
        .await
        .unwrap();
    assert_eq!(read_buf.filled(), b"back");

    std::future::poll_fn(|cx| b.poll_send(cx, b"polled"))
        .await
        .unwrap();
    let mut spare = BytesMut::with_capacity(16);
    a.recv_buf(&mut spare).await.unwrap();
    assert_eq!(&spare[..], b"polled");
}

#[gort::test]
async fn try_recv_would_block_until_readable_reports_a_datagram() {
    let (a, b) = UnixDatagram::pair().unwrap();
    assert!(a.local_addr().unwrap().is_unnamed());
    let mut buf = [0u8; 16];
    let err = b.try_recv(&mut buf).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
    assert!(
        futures::poll!(std::pin::pin!(b.readable())).is_pending(),
        "readable with nothing sent"
    );

    a.try_send(b"now").unwrap();
    loop {
        within(LIMIT, "readable", b.readable()).await.unwrap();
        match b.try_recv_from(&mut buf) {
            Ok((n, from)) => {
                assert_eq!(&buf[..n], b"now");
                assert!(from.is_unnamed(), "a pair's ends have no names");
                break;
            }
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => continue,
            Err(err) => panic!("try_recv_from: {err}"),
        }
    }
    let mut spare = BytesMut::with_capacity(8);
    assert_eq!(
        b.try_recv_buf(&mut spare).unwrap_err().kind(),
        io::ErrorKind::WouldBlock
    );
}

#[gort::test]
async fn an_unbound_sender_is_heard_from_an_unnamed_address() {
    let path = TempSocketPath::new("unbound");
    let receiver = UnixDatagram::bind(path.path()).unwrap();
    let sender = UnixDatagram::unbound().unwrap();
    sender.try_send_to(b"anon", path.path()).unwrap();
    let mut buf = [0u8; 8];
    let (n, from) = within(LIMIT, "recv_from", receiver.recv_from(&mut buf))
        .await
        .unwrap();
    assert_eq!(&buf[..n], b"anon");
    assert!(from.is_unnamed(), "{from:?}");
    assert!(from.as_pathname().is_none());
}

#[gort::test]
async fn shutdown_refuses_sends_from_either_side() {
    let (a, b) = UnixDatagram::pair().unwrap();
    b.shutdown(Shutdown::Read).unwrap();
    let err = a.send(b"to a closed reader").await.unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::BrokenPipe, "{err}");

    let (a, _b) = UnixDatagram::pair().unwrap();
    a.shutdown(Shutdown::Write).unwrap();
    let err = a.send(b"after closing").await.unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::BrokenPipe, "{err}");
}

#[gort::test]
async fn binding_a_path_in_use_fails_with_addr_in_use() {
    let path = TempSocketPath::new("dgram-in-use");
    let _first = UnixDatagram::bind(path.path()).unwrap();
    let err = UnixDatagram::bind(path.path()).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::AddrInUse, "{err}");
}

#[gort::test]
async fn std_sockets_convert_both_ways() {
    let (a, b) = std::os::unix::net::UnixDatagram::pair().unwrap();
    let a = UnixDatagram::from_std(a).unwrap();
    let b = UnixDatagram::try_from(b).unwrap();
    let a = UnixDatagram::from_std(a.into_std().unwrap()).unwrap();
    a.send(b"round trip").await.unwrap();
    let mut buf = [0u8; 16];
    let n = b.recv(&mut buf).await.unwrap();
    assert_eq!(&buf[..n], b"round trip");
}

#[gort::test]
async fn unix_socket_builds_listeners_streams_and_datagram_sockets() {
    let path = TempSocketPath::new("builder");
    let socket = UnixSocket::new_stream().unwrap();
    socket.bind(path.path()).unwrap();
    let listener = socket.listen(8).unwrap();

    let client = UnixSocket::new_stream().unwrap();
    let (connected, accepted) = futures::join!(client.connect(path.path()), listener.accept());
    let mut client = connected.unwrap();
    let (mut server, _) = accepted.unwrap();
    client.write_all(b"built").await.unwrap();
    let mut buf = [0u8; 5];
    server.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"built");

    let dgram_path = TempSocketPath::new("builder-dgram");
    let dgram = UnixSocket::new_datagram().unwrap();
    dgram.bind(dgram_path.path()).unwrap();
    let dgram = dgram.datagram().unwrap();
    assert_eq!(
        dgram.local_addr().unwrap().as_pathname(),
        Some(dgram_path.path())
    );

    // The conversions refuse the wrong kind of socket, saying which call it was (tokio's texts).
    let err = UnixSocket::new_datagram().unwrap().listen(8).unwrap_err();
    assert_eq!(
        err.to_string(),
        "listen cannot be called on a datagram socket"
    );
    let err = UnixSocket::new_stream().unwrap().datagram().unwrap_err();
    assert_eq!(
        err.to_string(),
        "datagram cannot be called on a stream socket"
    );
    let err = UnixSocket::new_datagram()
        .unwrap()
        .connect(path.path())
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "connect cannot be called on a datagram socket"
    );
}
