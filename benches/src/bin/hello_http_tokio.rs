//! `hello_http_tokio [--addr ADDR] [--threads N]`: the tokio side of `http.py`, a hyper 1.x HTTP/1
//! server answering every request with `Hello, World!`.
//!
//! Its gort counterpart is the root package's `examples/hello_http.rs`, with the same flags and
//! the same shape: an accept loop that spawns one task per connection, `TCP_NODELAY` on every
//! accepted socket, and hyper's `http1::Builder` serving the connection with one `service_fn`.
//! Only the sockets and the runtime differ (here `tokio::net` through `hyper_util::rt::TokioIo`),
//! so that `wrk` against both measures the runtimes rather than two different servers.
//!
//! This binary does not link `gort_benches`, so it allocates with the system allocator even when
//! the package is built with `--features mimalloc`, as the gort example does.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::process::ExitCode;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// Address served when `--addr` is not given; `http.py` passes its own.
const DEFAULT_ADDR: &str = "127.0.0.1:3000";

/// Worker threads when `--threads` is not given: `gort_benches::NUM_WORKERS`, as every other
/// benchmark (the machine has 2 cores). Not imported from there, to keep this binary off the
/// library and its optional global allocator.
const DEFAULT_THREADS: usize = 2;

/// The body of every response.
const HELLO: &[u8] = b"Hello, World!";

/// What the command line asks for.
struct Args {
    /// Address to listen on.
    addr: SocketAddr,
    /// Worker threads of the tokio runtime.
    threads: usize,
}

/// Answers every request, whatever its method and path, with `200 OK` and [`HELLO`].
async fn hello(_request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from_static(HELLO))))
}

/// Accepts connections on `addr` forever, serving each in its own task.
async fn serve(addr: SocketAddr) -> std::io::Result<()> {
    let listener = TcpListener::bind(addr).await?;
    // http.py waits for the port to accept; this line is for a human starting it by hand.
    eprintln!(
        "hello_http_tokio: listening on http://{}",
        listener.local_addr()?
    );
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            // A failed accept (out of file descriptors, a connection reset while queued) concerns
            // one connection; the server carries on, as Go's net/http does.
            Err(error) => {
                eprintln!("hello_http_tokio: accept: {error}");
                continue;
            }
        };
        // Responses are small writes answering small requests: without TCP_NODELAY, Nagle's
        // algorithm would hold one back until the previous one is acknowledged.
        if let Err(error) = stream.set_nodelay(true) {
            eprintln!("hello_http_tokio: set_nodelay: {error}");
        }
        tokio::spawn(async move {
            let connection =
                http1::Builder::new().serve_connection(TokioIo::new(stream), service_fn(hello));
            // Errors here are the client's doing (wrk closes its connections mid-request when its
            // time is up); they end this connection only.
            if let Err(error) = connection.await {
                eprintln!("hello_http_tokio: connection: {error}");
            }
        });
    }
}

/// Parses `--addr ADDR` and `--threads N`, in any order; `Err` carries the message to print.
fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        addr: DEFAULT_ADDR.parse().expect("DEFAULT_ADDR is an address"),
        threads: DEFAULT_THREADS,
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
                    Ok(threads) if threads > 0 => threads,
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
            eprintln!("hello_http_tokio: {message}");
            eprintln!(
                "usage: hello_http_tokio [--addr {DEFAULT_ADDR}] [--threads {DEFAULT_THREADS}]"
            );
            return ExitCode::from(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.threads)
        .enable_all()
        .build()
        .expect("building the tokio runtime");
    match runtime.block_on(serve(args.addr)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("hello_http_tokio: {}: {error}", args.addr);
            ExitCode::FAILURE
        }
    }
}
