//! `GortTimer` through hyper's `rt::Timer`: an HTTP/1 server's `header_read_timeout` closes a
//! silent connection on time, and the timer's `sleep`, `reset` and `now` on their own.
//!
//! The server tests bind `127.0.0.1:0` and serve each connection from its own G, with the client
//! driven from the test's main future, as in `src/tests.rs`. Elapsed times are measured with
//! `std::time::Instant` and checked against generous bounds, so that a loaded machine does not
//! fail them.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::io::{AsyncReadExt, AsyncWriteExt};
use gort::net::{TcpListener, TcpStream};
use gort_compat::{GortIo, GortSleep, GortTimer};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::rt::Timer;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};

/// The server's `header_read_timeout`.
const HEADER_READ_TIMEOUT: Duration = Duration::from_millis(200);

/// Sooner than this, the server closed a silent connection before its timeout.
const TOO_EARLY: Duration = Duration::from_millis(150);

/// Later than this, the timeout did not fire (or fired far too late).
const TOO_LATE: Duration = Duration::from_secs(2);

/// The body every response carries.
const HELLO: &[u8] = b"Hello, World!";

/// Answers every request with `200 OK` and [`HELLO`].
async fn hello(_request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from_static(HELLO))))
}

/// Starts an HTTP/1 server timed by [`GortTimer`] with [`HEADER_READ_TIMEOUT`], one G per
/// connection, and returns its address. It runs until the test's runtime ends.
async fn serve_with_header_read_timeout() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    gort::go!(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            gort::go!(async move {
                // A timed-out connection ends in a header-timeout error: expected, so ignored.
                let _ = http1::Builder::new()
                    .timer(GortTimer)
                    .header_read_timeout(HEADER_READ_TIMEOUT)
                    .serve_connection(GortIo::new(stream), service_fn(hello))
                    .await;
            });
        }
    });
    addr
}

/// Reads from `stream` until the server closes it (end of stream or a reset), bounded by
/// [`TOO_LATE`] so that a timeout that never fires fails the test instead of hanging it.
/// Returns everything read.
async fn read_until_closed(stream: &mut TcpStream) -> Vec<u8> {
    let mut received = Vec::new();
    let read_all = async {
        let mut buf = [0; 1024];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(read) => received.extend_from_slice(&buf[..read]),
            }
        }
    };
    gort::time::timeout(TOO_LATE, read_all)
        .await
        .expect("the server did not close the connection");
    received
}

#[gort::test]
async fn silent_connection_is_closed_after_header_read_timeout() {
    let addr = serve_with_header_read_timeout().await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let start = Instant::now();
    // Half a request line: hyper has started reading a head it never gets to the end of.
    stream.write_all(b"GET / HT").await.unwrap();
    read_until_closed(&mut stream).await;
    let elapsed = start.elapsed();
    assert!(elapsed >= TOO_EARLY, "closed after {elapsed:?}");
}

#[gort::test]
async fn connection_that_sends_nothing_is_closed_after_header_read_timeout() {
    let addr = serve_with_header_read_timeout().await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let start = Instant::now();
    assert_eq!(read_until_closed(&mut stream).await, b"");
    let elapsed = start.elapsed();
    assert!(elapsed >= TOO_EARLY, "closed after {elapsed:?}");
}

#[gort::test]
async fn prompt_request_is_answered_then_idle_keep_alive_times_out() {
    let addr = serve_with_header_read_timeout().await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    // The connection stays open after the response (keep-alive); hyper then waits for the next
    // head under the same timeout, so the read ends when that one fires.
    let received = read_until_closed(&mut stream).await;
    let response = String::from_utf8(received).unwrap();
    assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
    assert!(response.ends_with("\r\n\r\nHello, World!"), "{response}");
}

#[gort::test]
async fn reset_to_an_earlier_deadline_completes_then_in_place() {
    let mut sleep = GortTimer.sleep(Duration::from_secs(60));
    assert!(sleep.as_ref().get_ref().is::<GortSleep>());
    // Poll once so that the reset has an armed timer to move, hyper's case.
    assert!(poll_once(&mut sleep).await.is_pending());
    let before = allocation(&sleep);
    let deadline = Instant::now() + Duration::from_millis(50);
    GortTimer.reset(&mut sleep, deadline);
    assert_eq!(allocation(&sleep), before, "reset replaced the sleep");
    gort::time::timeout(TOO_LATE, sleep)
        .await
        .expect("the sleep did not complete at its new deadline");
    assert!(Instant::now() >= deadline);
}

#[gort::test]
async fn reset_to_a_later_deadline_does_not_complete_early() {
    let start = Instant::now();
    let mut sleep = GortTimer.sleep(Duration::from_millis(20));
    assert!(poll_once(&mut sleep).await.is_pending());
    let deadline = start + Duration::from_millis(300);
    GortTimer.reset(&mut sleep, deadline);
    // Past the first deadline, the sleep is still pending.
    gort::time::sleep(Duration::from_millis(100)).await;
    assert!(poll_once(&mut sleep).await.is_pending());
    sleep.await;
    assert!(Instant::now() >= deadline);
}

#[gort::test]
async fn reset_replaces_a_sleep_from_another_timer() {
    let mut sleep: Pin<Box<dyn hyper::rt::Sleep>> = Box::pin(Never);
    let deadline = Instant::now() + Duration::from_millis(20);
    GortTimer.reset(&mut sleep, deadline);
    assert!(sleep.as_ref().get_ref().is::<GortSleep>());
    gort::time::timeout(TOO_LATE, sleep)
        .await
        .expect("the replacement did not complete");
    assert!(Instant::now() >= deadline);
}

#[gort::test]
async fn now_reads_the_runtime_clock() {
    // hyper's deadlines are `timer.now() + timeout`: they must follow a paused, advanced clock.
    gort::time::pause();
    let before = GortTimer.now();
    gort::time::advance(Duration::from_secs(3600)).await;
    assert_eq!(GortTimer.now() - before, Duration::from_secs(3600));
}

/// Polls `sleep` once, with the current task's waker.
async fn poll_once(sleep: &mut Pin<Box<dyn hyper::rt::Sleep>>) -> Poll<()> {
    std::future::poll_fn(|cx| Poll::Ready(sleep.as_mut().poll(cx))).await
}

/// The address of the sleep in `sleep`'s box: unchanged by a reset in place.
fn allocation(sleep: &Pin<Box<dyn hyper::rt::Sleep>>) -> *const () {
    let sleep: &dyn hyper::rt::Sleep = sleep.as_ref().get_ref();
    sleep as *const dyn hyper::rt::Sleep as *const ()
}

/// A sleep from some other timer, which never completes.
struct Never;

impl Future for Never {
    type Output = ();

    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        Poll::Pending
    }
}

impl hyper::rt::Sleep for Never {}
