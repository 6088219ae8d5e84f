//! Readiness kinds that need raw socket calls to provoke (socket2's, which the integration
//! tests cannot reach): priority data and a pending error.

use std::net::{Ipv4Addr, SocketAddr};

use socket2::{Domain, SockRef, Socket, Type};

use crate::async_fd::AsyncFd;
use crate::{Interest, Ready, TcpListener, TcpStream};

#[test]
#[cfg(any(target_os = "linux", target_os = "android"))]
fn out_of_band_data_is_priority_readiness() {
    gort_executor::block_on(async {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (server, _) = listener.accept().await.unwrap();
        SockRef::from(&client).send_out_of_band(b"!").unwrap();
        let ready = server.ready(Interest::PRIORITY).await.unwrap();
        assert!(ready.is_priority(), "{ready:?}");
        assert!(!ready.is_readable(), "only what was asked for: {ready:?}");
    });
}

#[test]
fn a_refused_connect_is_error_readiness() {
    gort_executor::block_on(async {
        // A port that was free a moment ago: the connect is refused at once (RST on loopback).
        let addr: SocketAddr = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .unwrap()
            .local_addr()
            .unwrap();
        let socket = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
        socket.set_nonblocking(true).unwrap();
        let _ = socket.connect(&addr.into());
        // SAFETY: `socket` owns its fd for the AsyncFd's whole life.
        let fd = unsafe { AsyncFd::register_with_interest(socket, Interest::ERROR) }.unwrap();
        let guard = fd.ready(Interest::ERROR).await.unwrap();
        assert_eq!(guard.ready(), Ready::ERROR);
        let err = fd.get_ref().take_error().unwrap().expect("SO_ERROR is set");
        assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused, "{err}");
    });
}
