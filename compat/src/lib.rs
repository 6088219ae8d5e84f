//! Adapters between gort and the hyper ecosystem: run hyper 1.x on gort's scheduler and sockets.
//!
//! hyper 1.x brings no runtime. It asks for three things, as traits in `hyper::rt`, and this
//! crate supplies all three:
//!
//! - [`GortIo`]: hyper's `rt::Read`/`rt::Write` for any `futures` reader/writer, such as
//!   `gort::net::TcpStream` (and the `futures` traits for hyper's IO, such as an upgraded
//!   connection). hyper-util's `TokioIo`, for gort.
//! - [`GortExecutor`]: hyper's `rt::Executor`, which spawns what hyper asks for as a detached G.
//!   HTTP/2 (server and client) and hyper-util's `server::conn::auto::Builder` need it; HTTP/1
//!   does not. hyper-util's `TokioExecutor`, for gort.
//! - [`GortTimer`]: hyper's `rt::Timer`, on `gort::time`'s sleeps ([`GortSleep`]). Hand it to
//!   a builder's `timer` method: without a timer hyper leaves its default timeouts off (HTTP/1's
//!   30 s `header_read_timeout` is not enforced) and panics if a timeout is set explicitly, and
//!   HTTP/2 keep-alive pings cannot be enabled. hyper-util's `TokioTimer`, for gort.
//!
//! The accept loop is the program's own, as in every hyper 1.x server: accept on a gort
//! listener, spawn one G per connection, and serve it with hyper's connection builder.
//!
//! ```no_run
//! use std::convert::Infallible;
//!
//! use bytes::Bytes;
//! use gort_compat::{GortIo, GortTimer};
//! use http_body_util::Full;
//! use hyper::{body::Incoming, server::conn::http1, service::service_fn, Request, Response};
//!
//! async fn hello(_: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
//!     Ok(Response::new(Full::new(Bytes::from_static(b"Hello, World!"))))
//! }
//!
//! #[gort::main]
//! async fn main() -> std::io::Result<()> {
//!     let listener = gort::net::TcpListener::bind("127.0.0.1:3000").await?;
//!     loop {
//!         let (stream, _peer) = listener.accept().await?;
//!         gort::go!(async move {
//!             let io = GortIo::new(stream);
//!             // The timer enforces hyper's 30 s default header read timeout, so that a client
//!             // that connects and sends nothing does not hold its G and socket forever.
//!             let connection = http1::Builder::new()
//!                 .timer(GortTimer)
//!                 .serve_connection(io, service_fn(hello));
//!             if let Err(error) = connection.await {
//!                 eprintln!("connection: {error}");
//!             }
//!         });
//!     }
//! }
//! ```
//!
//! For HTTP/2, or for both protocols on one port, hand the builder a [`GortExecutor`]:
//! `hyper::server::conn::http2::Builder::new(GortExecutor)`, or
//! `hyper_util::server::conn::auto::Builder::new(GortExecutor)` (hyper-util without its `tokio`
//! feature: `server-auto` needs no tokio runtime). A client is the same in reverse: connect a
//! `gort::net::TcpStream`, `hyper::client::conn::http1::handshake(GortIo::new(stream))`, and
//! `gort::go!` the connection future it returns.
//!
//! Besides this crate only `benches` and the root package's examples name hyper
//! (ARCHITECTURE.md). hyper itself depends on tokio with the `sync` feature only (channels, no
//! runtime, no reactor, no timer), so no tokio runtime comes with this crate.

mod executor;
mod io;
mod timer;

pub use executor::GortExecutor;
pub use io::GortIo;
pub use timer::{GortSleep, GortTimer};

#[cfg(test)]
mod tests;
