//! tokio-util 0.7, unchanged, on gort: `Framed` with `LinesCodec` over a `TcpStream`,
//! `CancellationToken` trees, `DelayQueue` on the paused clock, `SyncIoBridge` from a blocking
//! thread, and `PollSender`.

use std::io::{Read, Write};
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::codec::{Framed, LinesCodec, LinesCodecError};
use tokio_util::io::SyncIoBridge;
use tokio_util::sync::{CancellationToken, PollSender};
use tokio_util::time::DelayQueue;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn framed_lines_codec_echoes_uppercased_lines_over_tcp() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let mut lines = Framed::new(stream, LinesCodec::new());
        let mut served = 0;
        while let Some(line) = lines.next().await {
            lines.send(line.unwrap().to_uppercase()).await.unwrap();
            served += 1;
        }
        served
    });

    let mut client = Framed::new(TcpStream::connect(addr).await.unwrap(), LinesCodec::new());
    for word in ["gort", "runs", "tokio-util"] {
        client.send(word).await.unwrap();
        assert_eq!(client.next().await.unwrap().unwrap(), word.to_uppercase());
    }
    drop(client);
    assert_eq!(server.await.unwrap(), 3);
}

#[tokio::test]
async fn lines_codec_rejects_a_line_over_its_limit() {
    let (mut writer, reader) = tokio::io::duplex(64);
    let mut lines = Framed::new(reader, LinesCodec::new_with_max_length(8));
    writer
        .write_all(b"short\nmuch-too-long-line\n")
        .await
        .unwrap();
    assert_eq!(lines.next().await.unwrap().unwrap(), "short");
    assert!(matches!(
        lines.next().await.unwrap(),
        Err(LinesCodecError::MaxLineLengthExceeded)
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_a_parent_token_stops_every_child_task() {
    let root = CancellationToken::new();
    let workers: Vec<_> = (0..4)
        .map(|i| {
            let token = root.child_token();
            tokio::spawn(async move {
                tokio::select! {
                    _ = token.cancelled() => i,
                    _ = std::future::pending::<()>() => unreachable!(),
                }
            })
        })
        .collect();
    // A sibling tree that is not cancelled.
    let other = CancellationToken::new();
    let other_child = other.child_token();

    root.cancel();
    let mut stopped = Vec::new();
    for worker in workers {
        stopped.push(worker.await.unwrap());
    }
    assert_eq!(stopped, [0, 1, 2, 3]);
    assert!(root.child_token().is_cancelled());
    assert!(!other_child.is_cancelled());

    // A drop guard cancels its token when it goes out of scope.
    {
        let _guard = other.clone().drop_guard();
    }
    assert!(other_child.is_cancelled());
    other_child.cancelled().await;
}

#[tokio::test(start_paused = true)]
async fn delay_queue_yields_items_in_deadline_order() {
    let mut queue = DelayQueue::new();
    queue.insert("thirty", Duration::from_millis(30));
    let ten = queue.insert("ten", Duration::from_millis(10));
    queue.insert("twenty", Duration::from_millis(20));
    let dropped = queue.insert("dropped", Duration::from_millis(5));
    queue.remove(&dropped);
    // Push "ten" past the others.
    queue.reset(&ten, Duration::from_millis(40));

    let start = tokio::time::Instant::now();
    let mut order = Vec::new();
    while let Some(expired) = queue.next().await {
        order.push((expired.into_inner(), start.elapsed().as_millis()));
    }
    assert_eq!(order, [("twenty", 20), ("thirty", 30), ("ten", 40)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_io_bridge_reads_and_writes_a_socket_from_a_blocking_thread() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let peer = tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        stream.write_all(b"ping from async").await.unwrap();
        let mut reply = String::new();
        stream.read_to_string(&mut reply).await.unwrap();
        reply
    });
    let stream = TcpStream::connect(addr).await.unwrap();
    let heard = tokio::task::spawn_blocking(move || {
        let mut bridge = SyncIoBridge::new(stream);
        let mut heard = [0u8; 15];
        bridge.read_exact(&mut heard).unwrap();
        bridge.write_all(b"pong from sync").unwrap();
        bridge.shutdown().unwrap();
        String::from_utf8(heard.to_vec()).unwrap()
    })
    .await
    .unwrap();
    assert_eq!(heard, "ping from async");
    assert_eq!(peer.await.unwrap(), "pong from sync");
}

#[tokio::test]
async fn poll_sender_is_a_sink_over_a_bounded_channel() {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<u32>(2);
    let producer = tokio::spawn(async move {
        let mut sink = PollSender::new(tx);
        for n in 1..=5 {
            sink.send(n).await.unwrap();
        }
    });
    let mut got = Vec::new();
    while let Some(n) = rx.recv().await {
        got.push(n);
    }
    producer.await.unwrap();
    assert_eq!(got, [1, 2, 3, 4, 5]);
}
