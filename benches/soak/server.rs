//! `soak_server [ADDR]`: the server under test of `benches/soak/soak.py`, a TCP echo server on
//! gort.
//!
//! ```text
//! cargo build --release -p gort-benches --bin soak_server
//! target/release/soak_server 127.0.0.1:0
//! ```
//!
//! It is `examples/echo.rs`'s server and nothing else: `#[gort::main]`, one
//! `gort::net::TcpListener` on `ADDR` (default `127.0.0.1:0`, a free port), and one G per
//! accepted connection that writes back everything it reads until the peer's EOF, then drops
//! the stream, which closes it. It runs in a process of its own so that what `soak.py` samples
//! from `/proc/<pid>` (descriptors, threads, resident set) is the server's alone, with the load
//! generator (`soak_client`) in another process.
//!
//! Protocol with `soak.py`: the first and only line on stdout is
//! `soak_server: listening on <addr>`, once the listener is bound. Every error (an `accept` that
//! fails, a connection whose read or write fails) is one line on stderr starting with
//! `soak_server:`; a healthy soak writes none, and `soak.py` counts them. The server runs until
//! it is killed (`soak.py` sends SIGTERM).

use std::io::Write;
use std::time::Duration;

use gort::io::{AsyncReadExt, AsyncWriteExt};
use gort::net::{TcpListener, TcpStream};

/// Address served when none is given: loopback, on a port the kernel picks.
const DEFAULT_ADDR: &str = "127.0.0.1:0";

/// Bytes each connection reads at a time, as `examples/echo.rs`.
const BUFFER_SIZE: usize = 16 * 1024;

/// How long the accept loop waits after a failed `accept` before it tries again, so that a
/// persistent error (say `EMFILE`) is reported at a bounded rate instead of in a hot loop.
const ACCEPT_RETRY_DELAY: Duration = Duration::from_millis(10);

#[gort::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1);
    let listener = TcpListener::bind(addr.as_deref().unwrap_or(DEFAULT_ADDR)).await?;
    let mut stdout = std::io::stdout().lock();
    writeln!(
        stdout,
        "soak_server: listening on {}",
        listener.local_addr()?
    )?;
    stdout.flush()?;
    drop(stdout);
    serve(listener).await
}

/// Accepts forever; each connection gets its own G.
async fn serve(listener: TcpListener) -> ! {
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => gort::go!(async move {
                if let Err(err) = echo(stream).await {
                    eprintln!("soak_server: {peer}: {err}");
                }
            }),
            Err(err) => {
                eprintln!("soak_server: accept: {err}");
                gort::time::sleep(ACCEPT_RETRY_DELAY).await;
            }
        }
    }
}

/// Writes back everything read until the peer closes its side; the stream is closed when it is
/// dropped on return.
async fn echo(mut stream: TcpStream) -> std::io::Result<()> {
    let mut buf = vec![0u8; BUFFER_SIZE];
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        stream.write_all(&buf[..n]).await?;
    }
}
