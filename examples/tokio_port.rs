//! A tokio program with the crate name changed: an actor that owns a map, driven over `mpsc`
//! with `oneshot` replies, a `broadcast` shutdown, a `watch` progress value, a `JoinSet` of
//! clients, and TCP through tokio's IO traits. Replace `gort` with `tokio` and it is a tokio
//! program again.
//!
//! `cargo run --release --example tokio_port`

use std::collections::HashMap;
use std::time::Duration;

use gort::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use gort::net::{TcpListener, TcpStream};
use gort::sync::{broadcast, mpsc, oneshot, watch};
use gort::task::JoinSet;

/// What clients ask the actor.
enum Command {
    Add {
        key: String,
        delta: u64,
        reply: oneshot::Sender<u64>,
    },
}

async fn actor(mut inbox: mpsc::Receiver<Command>, progress: watch::Sender<u64>) {
    let mut totals = HashMap::new();
    let mut handled = 0;
    while let Some(Command::Add { key, delta, reply }) = inbox.recv().await {
        let total = totals.entry(key).or_insert(0u64);
        *total += delta;
        let _ = reply.send(*total);
        handled += 1;
        progress.send_replace(handled);
    }
}

/// Serves `ADD key delta` lines until the shutdown broadcast.
async fn serve(
    listener: TcpListener,
    commands: mpsc::Sender<Command>,
    mut shutdown: broadcast::Receiver<()>,
) -> std::io::Result<()> {
    loop {
        let (stream, _) = gort::select! {
            accepted = listener.accept() => accepted?,
            _ = shutdown.recv() => return Ok(()),
        };
        let commands = commands.clone();
        gort::spawn(async move {
            let (reader, mut writer) = stream.into_split();
            let mut lines = BufReader::new(reader).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let mut words = line.split_whitespace().skip(1);
                let (Some(key), Some(Ok(delta))) = (words.next(), words.next().map(str::parse))
                else {
                    continue;
                };
                let (reply, answer) = oneshot::channel();
                let command = Command::Add {
                    key: key.to_owned(),
                    delta,
                    reply,
                };
                if commands.send(command).await.is_err() {
                    break;
                }
                let total = answer.await.expect("the actor replies");
                let _ = writer.write_all(format!("{total}\n").as_bytes()).await;
            }
        });
    }
}

#[gort::main]
async fn main() -> std::io::Result<()> {
    let (commands, inbox) = mpsc::channel(64);
    let (progress, mut watched) = watch::channel(0);
    let (shutdown, _) = broadcast::channel(1);
    gort::spawn(actor(inbox, progress));

    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let server = gort::spawn(serve(listener, commands, shutdown.subscribe()));

    let mut clients = JoinSet::new();
    for client in 0..8u64 {
        clients.spawn(async move {
            let stream = TcpStream::connect(addr).await?;
            let (reader, mut writer) = stream.into_split();
            let mut replies = BufReader::new(reader).lines();
            let mut last = 0;
            for _ in 0..100 {
                writer
                    .write_all(format!("ADD key{} 1\n", client % 2).as_bytes())
                    .await?;
                last = replies
                    .next_line()
                    .await?
                    .unwrap_or_default()
                    .parse()
                    .unwrap_or(0);
            }
            Ok::<u64, std::io::Error>(last)
        });
    }
    let mut highest = 0;
    while let Some(result) = clients.join_next().await {
        highest = highest.max(result.expect("a client panicked")?);
    }
    gort::time::timeout(Duration::from_secs(5), watched.wait_for(|&n| n == 800))
        .await
        .expect("the actor handled every command")
        .expect("the actor is alive");
    shutdown.send(()).expect("the server listens");
    server.await.expect("the server panicked")?;
    println!("800 commands over 8 connections; key0 and key1 reached {highest}");
    Ok(())
}
