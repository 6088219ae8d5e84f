//! `hello_http [--addr ADDR] [--threads N]`: a hyper 1.x HTTP/1 server on gort answering every
//! request with `Hello, World!`.
//!
//! ```text
//! cargo run --release --example hello_http -- --addr 127.0.0.1:3000 --threads 2
//! curl http://127.0.0.1:3000/
//! ```
//!
//! It is the gort side of `benches/http.py`; its tokio counterpart is
//! `benches/src/bin/hello_http_tokio.rs`, with the same flags and the same shape: an accept loop
//! that spawns one G per connection, `TCP_NODELAY` on every accepted socket, and hyper's
//! `http1::Builder` serving the connection with one `service_fn`. Only the sockets and the runtime
//! differ (`gort::net` through `gort_compat::GortIo`), so that `wrk` against both measures the
//! runtimes rather than two different servers.
//!
//! It runs until killed: SIGTERM and SIGINT keep their default disposition, which ends the process
//! (the kernel closes the sockets), so there is nothing to clean up.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::process::ExitCode;

use bytes::Bytes;
use gort::net::TcpListener;
use gort_compat::GortIo;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};

/// Address served when `--addr` is not given; `http.py` passes its own.
const DEFAULT_ADDR: &str = "127.0.0.1:3000";

/// The body of every response.
const HELLO: &[u8] = b"Hello, World!";

/// What the command line asks for.
struct Args {
    /// Address to listen on.
    addr: SocketAddr,
    /// Number of Ps; `None` keeps gort's default (`GORT_MAXPROCS`, else the available
    /// parallelism).
    threads: Option<usize>,
}

/// Answers every request, whatever its method and path, with `200 OK` and [`HELLO`].
async fn hello(_request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from_static(HELLO))))
}

/// Accepts connections on `addr` forever, serving each in its own G.
async fn serve(addr: SocketAddr) -> std::io::Result<()> {
    let listener = TcpListener::bind(addr).await?;
    println!("hello_http: listening on {}", listener.local_addr()?);
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            // A failed accept (out of file descriptors, a connection reset while queued) concerns
            // one connection; the server carries on, as Go's net/http does.
            Err(error) => {
                eprintln!("hello_http: accept: {error}");
                continue;
            }
        };
        // Responses are small writes answering small requests: without TCP_NODELAY, Nagle's
        // algorithm would hold one back until the previous one is acknowledged.
        if let Err(error) = stream.set_nodelay(true) {
            eprintln!("hello_http: set_nodelay: {error}");
        }
        gort::go!(async move {
            let connection =
                http1::Builder::new().serve_connection(GortIo::new(stream), service_fn(hello));
            // Errors here are the client's doing (wrk closes its connections mid-request when its
            // time is up); they end this connection only.
            if let Err(error) = connection.await {
                eprintln!("hello_http: connection: {error}");
            }
        });
    }
}

/// Parses `--addr ADDR` and `--threads N`, in any order; `Err` carries the message to print.
fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        addr: DEFAULT_ADDR.parse().expect("DEFAULT_ADDR is an address"),
        threads: None,
    };
    let mut argv = std::env::args().skip(1);
    while let Some(flag) = argv.next() {
        if flag != "--addr" && flag != "--threads" {
            return Err(format!("unknown argument {flag}"));
        }
        let value = argv.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--addr" => {
                args.addr = value.parse().map_err(|e| format!("--addr {value}: {e}"))?;
            }
            "--threads" => {
                args.threads = match value.parse() {
                    Ok(threads) if threads > 0 => Some(threads),
                    _ => return Err(format!("--threads {value}: expected a positive integer")),
                };
            }
            _ => unreachable!("checked above"),
        }
    }
    Ok(args)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("hello_http: {message}");
            eprintln!("usage: hello_http [--addr {DEFAULT_ADDR}] [--threads N]");
            return ExitCode::from(2);
        }
    };
    let mut builder = gort::runtime::Builder::new();
    if let Some(threads) = args.threads {
        builder.worker_threads(threads);
    }
    let runtime = match builder.build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("hello_http: building the gort runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve(args.addr)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("hello_http: {}: {error}", args.addr);
            ExitCode::FAILURE
        }
    }
}
