//! reqwest 0.13, unchanged, on gort, against a local axum server: GET, POST with a streaming
//! body, JSON, a per-request timeout that fires against a handler that never answers in time,
//! connection reuse across sequential requests, and `reqwest::blocking` on a plain thread (which
//! builds its own current-thread runtime, here gort's).

use std::future::IntoFuture;
use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::ConnectInfo;
use axum::routing::{get, post};
use axum::{Json, Router};
use futures::StreamExt;
use tokio::net::TcpListener;

fn app() -> Router {
    Router::new()
        .route("/hello", get(|| async { "hello from gort" }))
        .route(
            "/length",
            post(|body: Bytes| async move { body.len().to_string() }),
        )
        .route(
            "/sum",
            post(|Json(numbers): Json<Vec<u64>>| async move { Json(numbers.iter().sum::<u64>()) }),
        )
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(30)).await;
                "too late"
            }),
        )
        .route(
            "/peer",
            get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move { peer.to_string() }),
        )
}

/// Serves `app` on a loopback port of the current runtime; the server lives as long as it.
async fn start_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let service = app().into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(axum::serve(listener, service).into_future());
    addr
}

/// The body of a GET of `url` as text, failing the test on any error.
async fn get_text(client: &reqwest::Client, url: String) -> String {
    client.get(url).send().await.unwrap().text().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_and_json_post() {
    let addr = start_server().await;
    let client = reqwest::Client::new();

    let response = client
        .get(format!("http://{addr}/hello"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "hello from gort");

    let sum: u64 = client
        .post(format!("http://{addr}/sum"))
        .json(&vec![1u64, 2, 3, 4])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(sum, 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn post_with_a_streaming_body() {
    let addr = start_server().await;
    // 64 chunks of 1 KiB, produced lazily with a yield between chunks: sent chunked.
    let chunks = futures::stream::iter(0..64u8).then(|i| async move {
        tokio::task::yield_now().await;
        Ok::<_, std::io::Error>(vec![i; 1024])
    });
    let response = reqwest::Client::new()
        .post(format!("http://{addr}/length"))
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .unwrap();
    assert_eq!(response.text().await.unwrap(), (64 * 1024).to_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_timeout_fires_against_a_slow_handler() {
    let addr = start_server().await;
    let client = reqwest::Client::new();
    let error = client
        .get(format!("http://{addr}/slow"))
        .timeout(Duration::from_millis(100))
        .send()
        .await
        .unwrap_err();
    assert!(error.is_timeout(), "not a timeout: {error:?}");

    // The client is still usable after the timed-out request.
    let text = get_text(&client, format!("http://{addr}/hello")).await;
    assert_eq!(text, "hello from gort");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sequential_requests_reuse_one_keep_alive_connection() {
    let addr = start_server().await;
    let client = reqwest::Client::builder().http1_only().build().unwrap();
    let mut peers = Vec::new();
    for _ in 0..5 {
        let peer = get_text(&client, format!("http://{addr}/peer")).await;
        peers.push(peer);
        // hyper puts a connection back in its pool from the connection's own task once the
        // response is done; a request sent before that task ran opens a second connection.
        // Give it that moment, so the test checks reuse rather than that race.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The server saw every request come from the same client port: one pooled connection.
    assert!(peers.iter().all(|peer| *peer == peers[0]), "{peers:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_prior_knowledge_multiplexes_concurrent_requests() {
    let addr = start_server().await;
    let client = reqwest::Client::builder()
        .http2_prior_knowledge()
        .build()
        .unwrap();
    let first = client
        .get(format!("http://{addr}/peer"))
        .send()
        .await
        .unwrap();
    assert_eq!(first.version(), reqwest::Version::HTTP_2);
    let first_peer = first.text().await.unwrap();
    let requests = (0..6).map(|_| {
        let client = client.clone();
        async move { get_text(&client, format!("http://{addr}/peer")).await }
    });
    for peer in futures::future::join_all(requests).await {
        assert_eq!(peer, first_peer);
    }
}

#[test]
fn blocking_client_on_a_plain_thread() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let addr = runtime.block_on(start_server());

    let fetched = std::thread::spawn(move || {
        let client = reqwest::blocking::Client::new();
        let hello = client
            .get(format!("http://{addr}/hello"))
            .send()
            .unwrap()
            .text()
            .unwrap();
        let length = client
            .post(format!("http://{addr}/length"))
            .body(vec![7u8; 5000])
            .send()
            .unwrap()
            .text()
            .unwrap();
        let timed_out = client
            .get(format!("http://{addr}/slow"))
            .timeout(Duration::from_millis(100))
            .send()
            .unwrap_err()
            .is_timeout();
        (hello, length, timed_out)
    })
    .join()
    .unwrap();
    assert_eq!(
        fetched,
        ("hello from gort".to_string(), "5000".to_string(), true)
    );
    runtime.shutdown_background();
}
