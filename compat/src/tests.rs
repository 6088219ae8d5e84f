//! hyper on gort end to end: HTTP/1 and HTTP/2 servers and clients over `gort::net` on loopback,
//! hyper-util's `auto::Builder`, and `GortIo`'s two directions on in-memory IO.
//!
//! Each network test binds `127.0.0.1:0`, serves from one G and drives the client from the test's
//! main future, so that both ends park on the netpoller of the test's runtime.

use std::convert::Infallible;
use std::io::{self, IoSlice};
use std::mem::MaybeUninit;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use futures::io::{AsyncReadExt, AsyncWriteExt, Cursor};
use gort::net::{TcpListener, TcpStream};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::client::conn::{http1 as client_http1, http2 as client_http2};
use hyper::server::conn::{http1 as server_http1, http2 as server_http2};
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode, Version};
use hyper_util::server::conn::auto;

use crate::{GortExecutor, GortIo};

/// The body [`hello`] answers with.
const HELLO: &[u8] = b"Hello, World!";

/// Answers every request with `200 OK` and [`HELLO`].
async fn hello(_request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from_static(HELLO))))
}

/// Answers with the request's own body, so that a large body crosses the adapter both ways.
async fn echo(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, hyper::Error> {
    let body = request.into_body().collect().await?.to_bytes();
    Ok(Response::new(Full::new(body)))
}

/// A listener on a free loopback port, and its address.
async fn listen() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    (listener, addr)
}

/// A request for `uri` carrying `body`.
fn request(method: &str, uri: &str, body: impl Into<Bytes>) -> Request<Full<Bytes>> {
    Request::builder()
        .method(method)
        .uri(uri)
        .header(hyper::header::HOST, "localhost")
        .body(Full::new(body.into()))
        .unwrap()
}

/// The whole body of `response`, after checking it is a `200 OK`.
async fn ok_body(response: Response<Incoming>) -> Bytes {
    assert_eq!(response.status(), StatusCode::OK);
    response.into_body().collect().await.unwrap().to_bytes()
}

/// Connects an HTTP/1 client to `addr`; its connection runs in a detached G.
async fn http1_client(addr: SocketAddr) -> client_http1::SendRequest<Full<Bytes>> {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (sender, connection) = client_http1::handshake(GortIo::new(stream)).await.unwrap();
    gort::go!(async move { connection.await.unwrap() });
    sender
}

/// Connects an HTTP/2 client to `addr`, with its background work on [`GortExecutor`].
async fn http2_client(addr: SocketAddr) -> client_http2::SendRequest<Full<Bytes>> {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (sender, connection) = client_http2::handshake(GortExecutor, GortIo::new(stream))
        .await
        .unwrap();
    gort::go!(async move { connection.await.unwrap() });
    sender
}

#[gort::test]
async fn http1_round_trips_on_one_keep_alive_connection() {
    let (listener, addr) = listen().await;
    let server = gort::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        server_http1::Builder::new()
            .serve_connection(GortIo::new(stream), service_fn(hello))
            .await
    });
    let mut sender = http1_client(addr).await;
    for _ in 0..3 {
        // The connection G must first see the previous response to its end: until then an
        // HTTP/1 sender is not ready, and `send_request` fails rather than queueing.
        sender.ready().await.unwrap();
        let response = sender.send_request(request("GET", "/", "")).await.unwrap();
        assert_eq!(response.version(), Version::HTTP_11);
        assert_eq!(ok_body(response).await, HELLO);
    }
    // Closing the client ends the server's connection cleanly (end of stream between requests).
    drop(sender);
    server.await.unwrap().unwrap();
}

#[gort::test]
async fn http1_echoes_a_body_larger_than_the_read_buffer() {
    let (listener, addr) = listen().await;
    gort::go!(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let served = server_http1::Builder::new()
            .serve_connection(GortIo::new(stream), service_fn(echo))
            .await;
        served.unwrap();
    });
    // 1 MiB: far more than hyper's 8 KiB first read and than one socket buffer, so both ends
    // see partial reads and writes and park on the netpoller in between.
    let body: Vec<u8> = (0..1 << 20).map(|i: u32| (i % 251) as u8).collect();
    let mut sender = http1_client(addr).await;
    let response = sender
        .send_request(request("POST", "/echo", body.clone()))
        .await
        .unwrap();
    assert_eq!(ok_body(response).await, body);
}

#[gort::test]
async fn http2_round_trips_concurrent_streams_on_gort_executor() {
    let (listener, addr) = listen().await;
    gort::go!(async move {
        let (stream, _) = listener.accept().await.unwrap();
        // The HTTP/2 server spawns every stream through GortExecutor: the 16 requests below are
        // in flight at once, so they are answered by 16 Gs.
        let _ = server_http2::Builder::new(GortExecutor)
            .serve_connection(GortIo::new(stream), service_fn(echo))
            .await;
    });
    let sender = http2_client(addr).await;
    let requests = (0..16).map(|i| {
        let mut sender = sender.clone();
        async move {
            let uri = format!("http://{addr}/{i}");
            let response = sender
                .send_request(request("POST", &uri, format!("stream {i}")))
                .await
                .unwrap();
            assert_eq!(response.version(), Version::HTTP_2);
            (i, ok_body(response).await)
        }
    });
    for (i, body) in futures::future::join_all(requests).await {
        assert_eq!(body, format!("stream {i}"));
    }
}

#[gort::test]
async fn auto_builder_serves_http1_and_http2_on_gort_executor() {
    let (listener, addr) = listen().await;
    gort::go!(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            gort::go!(async move {
                let _ = auto::Builder::new(GortExecutor)
                    .serve_connection(GortIo::new(stream), service_fn(hello))
                    .await;
            });
        }
    });
    let mut sender = http1_client(addr).await;
    let response = sender.send_request(request("GET", "/", "")).await.unwrap();
    assert_eq!(response.version(), Version::HTTP_11);
    assert_eq!(ok_body(response).await, HELLO);

    // HTTP/2 with prior knowledge: the builder recognises the connection preface.
    let mut sender = http2_client(addr).await;
    let uri = format!("http://{addr}/");
    let response = sender.send_request(request("GET", &uri, "")).await.unwrap();
    assert_eq!(response.version(), Version::HTTP_2);
    assert_eq!(ok_body(response).await, HELLO);
}

#[gort::test]
async fn gort_io_wrapped_twice_is_futures_io_again() {
    // futures -> hyper -> futures: every method of both directions is on the path.
    let mut reader = GortIo::new(GortIo::new(Cursor::new(b"through hyper's traits".to_vec())));
    let mut read = String::new();
    reader.read_to_string(&mut read).await.unwrap();
    assert_eq!(read, "through hyper's traits");

    let mut writer = GortIo::new(GortIo::new(Cursor::new(Vec::new())));
    writer.write_all(b"written ").await.unwrap();
    let written = writer
        .write_vectored(&[IoSlice::new(b"vector"), IoSlice::new(b"ed")])
        .await
        .unwrap();
    writer.flush().await.unwrap();
    writer.close().await.unwrap();
    let bytes = writer.into_inner().into_inner().into_inner();
    assert_eq!(&bytes[..], &b"written vectored"[..8 + written]);
}

#[test]
fn hyper_read_fills_an_uninitialised_buffer() {
    let mut io = GortIo::new(Cursor::new(b"abc".to_vec()));
    let mut storage = [MaybeUninit::<u8>::uninit(); 8];
    let mut buf = hyper::rt::ReadBuf::uninit(&mut storage);
    let poll = poll_hyper_read(&mut io, &mut buf);
    assert!(matches!(poll, Poll::Ready(Ok(()))));
    assert_eq!(buf.filled(), b"abc");
}

#[test]
#[should_panic(expected = "returned 9 bytes for a 8-byte buffer")]
fn reader_claiming_more_than_its_buffer_panics() {
    let mut io = GortIo::new(Overclaiming);
    let mut storage = [MaybeUninit::<u8>::uninit(); 8];
    let mut buf = hyper::rt::ReadBuf::uninit(&mut storage);
    let _ = poll_hyper_read(&mut io, &mut buf);
}

#[test]
fn hyper_vectored_writes_reach_the_inner_writer() {
    let mut io = GortIo::new(VectoredRecorder::default());
    assert!(hyper::rt::Write::is_write_vectored(&io));
    let bufs = [IoSlice::new(b"head"), IoSlice::new(b"body")];
    let mut cx = Context::from_waker(Waker::noop());
    let poll = hyper::rt::Write::poll_write_vectored(Pin::new(&mut io), &mut cx, &bufs);
    assert!(matches!(poll, Poll::Ready(Ok(8))));
    assert_eq!(io.inner().vectored_calls, vec![2]);
}

/// Polls hyper's `Read::poll_read` on `io` once, with a waker that does nothing.
fn poll_hyper_read<T: futures::io::AsyncRead + Unpin>(
    io: &mut GortIo<T>,
    buf: &mut hyper::rt::ReadBuf<'_>,
) -> Poll<io::Result<()>> {
    let mut cx = Context::from_waker(Waker::noop());
    hyper::rt::Read::poll_read(Pin::new(io), &mut cx, buf.unfilled())
}

/// A safe but buggy reader that claims one byte more than it was given.
struct Overclaiming;

impl futures::io::AsyncRead for Overclaiming {
    fn poll_read(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(Ok(buf.len() + 1))
    }
}

/// A writer that accepts everything and records how many buffers each vectored write carried.
#[derive(Default)]
struct VectoredRecorder {
    /// One entry per `poll_write_vectored` call: its number of buffers.
    vectored_calls: Vec<usize>,
}

impl futures::io::AsyncWrite for VectoredRecorder {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.vectored_calls.push(bufs.len());
        Poll::Ready(Ok(bufs.iter().map(|buf| buf.len()).sum()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
