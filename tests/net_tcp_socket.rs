//! `TcpSocket`: options set before `bind`/`connect`/`listen` take effect and read back, a
//! client bound to a chosen local address, `SO_REUSEPORT` letting two listeners share a port
//! (and its absence refusing the second with `AddrInUse`), refused connects, and taking over a
//! std stream's socket.

mod common;

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd};
use std::time::Duration;

use gort::io::{AsyncReadExt, AsyncWriteExt};
use gort::net::{TcpListener, TcpSocket};

use common::within;

const LIMIT: Duration = Duration::from_secs(30);

/// A loopback address with port 0 (any free port).
fn any_loopback_port() -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, 0))
}

#[gort::test]
async fn listen_then_connect_carries_data_both_ways() {
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_reuseaddr(true).unwrap();
    socket.bind(any_loopback_port()).unwrap();
    let listener = socket.listen(16).unwrap();
    let addr = listener.local_addr().unwrap();

    let client = TcpSocket::new_v4().unwrap();
    client.set_nodelay(true).unwrap();
    let (connected, accepted) = futures::join!(client.connect(addr), listener.accept());
    let mut client = connected.unwrap();
    let (mut server, peer) = accepted.unwrap();
    assert_eq!(peer, client.local_addr().unwrap());
    assert!(client.nodelay().unwrap(), "set before connect, kept after");

    client.write_all(b"ping").await.unwrap();
    let mut buf = [0u8; 4];
    within(LIMIT, "read", server.read_exact(&mut buf))
        .await
        .unwrap();
    assert_eq!(&buf, b"ping");
}

#[gort::test]
async fn a_client_bound_before_connect_uses_that_local_address() {
    let listener = TcpListener::bind(any_loopback_port()).await.unwrap();
    let server_addr = listener.local_addr().unwrap();

    let client = TcpSocket::new_v4().unwrap();
    client.bind(any_loopback_port()).unwrap();
    let bound = client.local_addr().unwrap();
    assert_ne!(bound.port(), 0, "bind chose a port");

    let (connected, accepted) = futures::join!(client.connect(server_addr), listener.accept());
    let stream = connected.unwrap();
    let (_, peer) = accepted.unwrap();
    assert_eq!(stream.local_addr().unwrap(), bound);
    assert_eq!(peer, bound);
}

#[gort::test]
async fn options_read_back() {
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_reuseaddr(true).unwrap();
    assert!(socket.reuseaddr().unwrap());
    socket.set_reuseport(true).unwrap();
    assert!(socket.reuseport().unwrap());
    socket.set_keepalive(true).unwrap();
    assert!(socket.keepalive().unwrap());
    socket.set_nodelay(true).unwrap();
    assert!(socket.nodelay().unwrap());
    assert_eq!(socket.linger().unwrap(), None);
    socket.set_zero_linger().unwrap();
    assert_eq!(socket.linger().unwrap(), Some(Duration::ZERO));
    // The kernel rounds buffer sizes (Linux doubles them), never below what was asked.
    socket.set_send_buffer_size(64 * 1024).unwrap();
    assert!(socket.send_buffer_size().unwrap() >= 64 * 1024);
    socket.set_recv_buffer_size(64 * 1024).unwrap();
    assert!(socket.recv_buffer_size().unwrap() >= 64 * 1024);
    socket.set_tos_v4(0x10).unwrap();
    assert_eq!(socket.tos_v4().unwrap(), 0x10);
    assert!(socket.take_error().unwrap().is_none());

    let v6 = TcpSocket::new_v6().unwrap();
    v6.set_tclass_v6(0x20).unwrap();
    assert_eq!(v6.tclass_v6().unwrap(), 0x20);
}

#[gort::test]
async fn reuseport_lets_two_listeners_share_a_port_and_its_absence_refuses() {
    let first = TcpSocket::new_v4().unwrap();
    first.set_reuseport(true).unwrap();
    first.bind(any_loopback_port()).unwrap();
    let addr = first.local_addr().unwrap();
    let first = first.listen(16).unwrap();

    let second = TcpSocket::new_v4().unwrap();
    second.set_reuseport(true).unwrap();
    second.bind(addr).unwrap();
    let second = second.listen(16).unwrap();
    assert_eq!(second.local_addr().unwrap(), first.local_addr().unwrap());

    let third = TcpSocket::new_v4().unwrap();
    let err = third.bind(addr).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::AddrInUse, "{err}");
}

#[gort::test]
async fn connecting_to_a_port_nobody_listens_on_is_refused() {
    // A port that was free a moment ago: bound, then closed.
    let addr = TcpListener::bind(any_loopback_port())
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    let err = within(LIMIT, "connect", TcpSocket::new_v4().unwrap().connect(addr))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused, "{err}");
}

#[gort::test]
async fn a_std_streams_socket_can_be_taken_over_and_fds_move_in_and_out() {
    let listener = TcpListener::bind(any_loopback_port()).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let std_stream = std::net::TcpStream::connect(addr).unwrap();
    let local = std_stream.local_addr().unwrap();
    let socket = TcpSocket::from_std_stream(std_stream);
    assert_eq!(socket.local_addr().unwrap(), local);

    let fd = socket.into_raw_fd();
    // SAFETY: `fd` came from `into_raw_fd` just above: open, and owned by nobody else.
    let socket = unsafe { TcpSocket::from_raw_fd(fd) };
    assert_eq!(socket.as_raw_fd(), fd);
    assert_eq!(socket.local_addr().unwrap(), local);
}
