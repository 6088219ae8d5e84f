//! A TCP echo server on gort: one G per connection, each parked on the netpoller between reads.
//!
//! ```text
//! cargo run --release --example echo -- 127.0.0.1:7000
//! ```
//!
//! then `nc 127.0.0.1 7000` and type. With no address it binds a free port, connects a client to
//! itself, echoes one line, and exits (what the README's demo runs).

use gort::io::{AsyncReadExt, AsyncWriteExt};
use gort::net::{TcpListener, TcpStream};

#[gort::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1);
    let listener = TcpListener::bind(addr.as_deref().unwrap_or("127.0.0.1:0")).await?;
    let local = listener.local_addr()?;
    println!("echo: listening on {local}");
    if addr.is_none() {
        gort::go!(serve(listener));
        let mut client = TcpStream::connect(local).await?;
        client.write_all(b"hello, gort\n").await?;
        let mut reply = [0u8; 12];
        client.read_exact(&mut reply).await?;
        println!("echo: got back {:?}", String::from_utf8_lossy(&reply));
        return Ok(());
    }
    serve(listener).await;
    Ok(())
}

/// Accepts forever; each connection gets its own G.
async fn serve(listener: TcpListener) {
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => gort::go!(async move {
                if let Err(err) = echo(stream).await {
                    eprintln!("echo: {peer}: {err}");
                }
            }),
            Err(err) => eprintln!("echo: accept: {err}"),
        }
    }
}

/// Writes back everything read until the peer closes its side.
async fn echo(mut stream: TcpStream) -> std::io::Result<()> {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        stream.write_all(&buf[..n]).await?;
    }
}
