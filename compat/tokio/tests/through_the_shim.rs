//! A tokio program's calls, made through the shim under tokio's names, run on gort: the entry
//! attributes with their options, spawn, the channels, a TCP round trip, `select!`/`join!`,
//! the paused clock, and `try_current` outside a runtime.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};

#[tokio::test]
async fn the_default_test_runtime_is_gorts_current_thread_flavor() {
    let flavor = tokio::runtime::Handle::current().runtime_flavor();
    assert_eq!(flavor, tokio::runtime::RuntimeFlavor::CurrentThread);
    assert_eq!(tokio::spawn(async { 6 * 7 }).await.unwrap(), 42);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn channels_and_a_tcp_round_trip_work_under_tokios_names() {
    let (tx, mut rx) = mpsc::channel::<oneshot::Sender<u32>>(4);
    tokio::spawn(async move {
        while let Some(reply) = rx.recv().await {
            let _ = reply.send(7);
        }
    });
    let (reply, answer) = oneshot::channel();
    tx.send(reply).await.unwrap();
    assert_eq!(answer.await.unwrap(), 7);

    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut buf = [0u8; 4];
        stream.read_exact(&mut buf).await.unwrap();
        stream.write_all(&buf).await.unwrap();
    });
    let mut client = TcpStream::connect(addr).await.unwrap();
    client.write_all(b"ping").await.unwrap();
    let mut echo = [0u8; 4];
    client.read_exact(&mut echo).await.unwrap();
    assert_eq!(&echo, b"ping");
    server.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn select_join_and_the_paused_clock_work_under_tokios_names() {
    let start = tokio::time::Instant::now();
    let (a, b) = tokio::join!(
        async {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            1
        },
        async { 2 }
    );
    assert_eq!((a, b), (1, 2));
    assert!(
        start.elapsed() >= Duration::from_secs(3600),
        "the clock advanced"
    );
    let winner = tokio::select! {
        _ = tokio::time::sleep(Duration::from_secs(10)) => "sleep",
        v = async { 5 } => if v == 5 { "ready" } else { "wrong" },
    };
    assert_eq!(winner, "ready");
}

#[test]
fn outside_a_runtime_try_current_says_there_is_none() {
    assert!(tokio::runtime::Handle::try_current().is_err());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    assert_eq!(
        rt.block_on(async { tokio::spawn(async { 1 }).await.unwrap() }),
        1
    );
}
