//! axum's graceful shutdown on a real signal, on gort through the tokio shim: the shutdown
//! future is `tokio::signal::unix::signal(SIGUSR1)`, the process sends itself SIGUSR1 (with
//! the `kill` program), and `axum::serve` returns after answering what was asked before it.
//! Its own test binary, since a signal goes to the whole process.

use std::future::IntoFuture;

use axum::routing::get;
use axum::Router;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tokio::net::TcpListener;
use tokio::signal::unix::{signal, SignalKind};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_shuts_down_gracefully_on_sigusr1() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    // Listening before the signal can be sent: a signal nobody listens for would end the process.
    let mut usr1 = signal(SignalKind::user_defined1()).unwrap();
    let app = Router::new().route("/", get(|| async { "still here" }));
    let server = tokio::spawn(
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                usr1.recv().await;
            })
            .into_future(),
    );

    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let response = client
        .get(format!("http://{addr}/").parse().unwrap())
        .await
        .unwrap();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(&body[..], b"still here");
    drop(client);

    let status = std::process::Command::new("kill")
        .args(["-USR1", &std::process::id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    tokio::time::timeout(std::time::Duration::from_secs(30), server)
        .await
        .expect("the server shut down on SIGUSR1")
        .unwrap()
        .unwrap();
    let refused = tokio::net::TcpStream::connect(addr).await.unwrap_err();
    assert_eq!(refused.kind(), std::io::ErrorKind::ConnectionRefused);
}
