//! hyper 1.x with hyper-util's tokio glue, unchanged, on gort: the protocol-detecting server
//! (`server::conn::auto`), the legacy pooled `Client` over HTTP/1 and HTTP/2, hyper's own
//! connection-level HTTP/1 API through `TokioIo`, and hyper-util's graceful shutdown watcher.

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Method, Request, Response};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::{TcpListener, TcpStream};

/// Answers `"<METHOD> <path> <body>"`, so a test sees that the request arrived whole.
async fn echo(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let body = request.into_body().collect().await.unwrap().to_bytes();
    let text = format!("{method} {path} {}", String::from_utf8_lossy(&body));
    Ok(Response::new(Full::new(Bytes::from(text))))
}

/// Binds a loopback listener and serves `echo` with the auto (HTTP/1 or HTTP/2) builder,
/// counting accepted connections.
async fn start_auto_server() -> (std::net::SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let connections = Arc::new(AtomicUsize::new(0));
    let counter = connections.clone();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            counter.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service_fn(echo))
                    .await
                    .unwrap();
            });
        }
    });
    (addr, connections)
}

async fn body_text(response: Response<Incoming>) -> String {
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_client_round_trips_get_and_post_over_http1() {
    let (addr, _) = start_auto_server().await;
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();

    let get = client
        .get(format!("http://{addr}/hello").parse().unwrap())
        .await
        .unwrap();
    assert_eq!(get.status(), 200);
    assert_eq!(get.version(), hyper::Version::HTTP_11);
    assert_eq!(body_text(get).await, "GET /hello ");

    let post = Request::builder()
        .method(Method::POST)
        .uri(format!("http://{addr}/echo"))
        .body(Full::new(Bytes::from_static(b"payload")))
        .unwrap();
    let post = client.request(post).await.unwrap();
    assert_eq!(body_text(post).await, "POST /echo payload");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_client_multiplexes_concurrent_requests_on_one_connection() {
    let (addr, connections) = start_auto_server().await;
    let client = Client::builder(TokioExecutor::new())
        .http2_only(true)
        .build_http::<Full<Bytes>>();
    // The first request establishes the HTTP/2 connection; the rest share it concurrently.
    let first = client
        .get(format!("http://{addr}/first").parse().unwrap())
        .await
        .unwrap();
    assert_eq!(first.version(), hyper::Version::HTTP_2);
    assert_eq!(body_text(first).await, "GET /first ");

    let requests = (0..8).map(|i| {
        let client = client.clone();
        async move {
            let response = client
                .get(format!("http://{addr}/r{i}").parse().unwrap())
                .await
                .unwrap();
            body_text(response).await
        }
    });
    let bodies = futures::future::join_all(requests).await;
    let expected: Vec<String> = (0..8).map(|i| format!("GET /r{i} ")).collect();
    assert_eq!(bodies, expected);
    assert_eq!(connections.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn hyper_http1_connection_api_works_through_tokio_io() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        hyper::server::conn::http1::Builder::new()
            .serve_connection(TokioIo::new(stream), service_fn(echo))
            .await
    });

    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    let driver = tokio::spawn(connection);
    for word in ["one", "two", "three"] {
        let request = Request::builder()
            .method(Method::PUT)
            .uri(format!("/{word}"))
            .header("host", "localhost")
            .body(Full::new(Bytes::from(word)))
            .unwrap();
        sender.ready().await.unwrap();
        let response = sender.send_request(request).await.unwrap();
        assert_eq!(body_text(response).await, format!("PUT /{word} {word}"));
    }
    // Dropping the sender closes the connection cleanly on both sides.
    drop(sender);
    driver.await.unwrap().unwrap();
    server.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_waits_for_the_open_connection_to_finish() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        let graceful = hyper_util::server::graceful::GracefulShutdown::new();
        let (stream, _) = listener.accept().await.unwrap();
        let connection = hyper::server::conn::http1::Builder::new()
            .serve_connection(TokioIo::new(stream), service_fn(echo));
        let connection = graceful.watch(connection);
        let served = tokio::spawn(connection);
        stopped.await.unwrap();
        graceful.shutdown().await;
        served.await.unwrap()
    });

    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let response = client
        .get(format!("http://{addr}/before").parse().unwrap())
        .await
        .unwrap();
    assert_eq!(body_text(response).await, "GET /before ");
    stop.send(()).unwrap();
    // The watched connection was idle, so shutdown closes it and returns.
    server.await.unwrap().unwrap();
}
