//! tokio-stream 0.1, unchanged, on gort: `TcpListenerStream`, `IntervalStream`,
//! `ReceiverStream`, and `StreamExt::timeout` on the paused clock.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_stream::wrappers::{IntervalStream, ReceiverStream, TcpListenerStream};
use tokio_stream::StreamExt;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_listener_stream_yields_each_connection() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let mut incoming = TcpListenerStream::new(listener).take(3);
        let mut total = 0u32;
        while let Some(stream) = incoming.next().await {
            let mut stream = stream.unwrap();
            let mut byte = [0u8; 1];
            stream.read_exact(&mut byte).await.unwrap();
            total += u32::from(byte[0]);
            stream.write_all(b"k").await.unwrap();
        }
        total
    });
    for n in 1..=3u8 {
        let mut client = TcpStream::connect(addr).await.unwrap();
        client.write_all(&[n]).await.unwrap();
        let mut ack = [0u8; 1];
        client.read_exact(&mut ack).await.unwrap();
        assert_eq!(&ack, b"k");
    }
    assert_eq!(server.await.unwrap(), 1 + 2 + 3);
}

#[tokio::test(start_paused = true)]
async fn interval_stream_ticks_on_the_period() {
    let start = tokio::time::Instant::now();
    let ticks: Vec<u128> = IntervalStream::new(tokio::time::interval(Duration::from_millis(10)))
        .take(5)
        .map(|instant| (instant - start).as_millis())
        .collect()
        .await;
    assert_eq!(ticks, [0, 10, 20, 30, 40]);
}

#[tokio::test(start_paused = true)]
async fn stream_timeout_reports_a_gap_between_items() {
    let (tx, rx) = tokio::sync::mpsc::channel::<u32>(4);
    let stream = ReceiverStream::new(rx).timeout(Duration::from_millis(50));
    tokio::pin!(stream);
    tx.send(1).await.unwrap();
    assert_eq!(stream.next().await.unwrap().unwrap(), 1);
    // Nothing sent: the next item is a timeout error, and the stream goes on after it.
    assert!(stream.next().await.unwrap().is_err());
    tx.send(2).await.unwrap();
    assert_eq!(stream.next().await.unwrap().unwrap(), 2);
    drop(tx);
    assert!(stream.next().await.is_none());
}
