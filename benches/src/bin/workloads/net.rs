//! `echo50x2000`: TCP echo over loopback, one body per runtime through `echo_workload!`.

use super::*;

/// Client connections in `echo50x2000`; the server runs one echo task per connection.
pub(super) const ECHO_CONNS: usize = 50;

/// Round trips each `echo50x2000` client performs on its connection.
pub(super) const ECHO_ROUND_TRIPS: usize = 2_000;

/// Bytes of one `echo50x2000` message, each way.
pub(super) const ECHO_MSG_LEN: usize = 64;

/// The bytes every `echo50x2000` request carries; the client checks the echo against them.
pub(super) const ECHO_REQUEST: [u8; ECHO_MSG_LEN] = [b'x'; ECHO_MSG_LEN];

/// Defines `$name`, the `echo50x2000` workload on the [`Rt`] `$rt`, with its sockets from
/// `$krate::net` and its IO extension traits from `$io_krate::io`.
///
/// A macro rather than a function generic over [`Rt`] because each runtime's sockets implement
/// its own crate's IO traits (gort's are tokio's traits, but gort's own definitions): the calls
/// are spelled alike, so one body serves both with no adapter in the measured code.
///
/// The body: a listener on 127.0.0.1 (port 0) is bound before the clock starts. Timed: a task
/// accepts [`ECHO_CONNS`] connections and spawns one echo task for each (read up to
/// [`ECHO_MSG_LEN`] bytes, write them back, until the client closes); [`ECHO_CONNS`] client tasks
/// each connect and do [`ECHO_ROUND_TRIPS`] round trips (write [`ECHO_MSG_LEN`] bytes, read exactly
/// as many back, check them), then tick the countdown. Both ends set `TCP_NODELAY`, which Go sets
/// on every TCP connection by default: without it, Nagle's algorithm and delayed ACKs could hold a
/// 64-byte message back for tens of milliseconds.
macro_rules! echo_workload {
    ($(#[$doc:meta])* $name:ident, $rt:ident, $krate:ident, $io_krate:ident) => {
        $(#[$doc])*
        pub(super) fn $name() -> Vec<Metric> {
            use $io_krate::io::{AsyncReadExt, AsyncWriteExt};
            use $krate::net::{TcpListener, TcpStream};

            let elapsed = in_spawned_task::<$rt, _>(async {
                let listener = TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("binding the echo server");
                let addr = listener.local_addr().expect("the echo server's address");
                let done = COUNTDOWN.arm(ECHO_CONNS);
                let start = Instant::now();
                $rt::spawn_detached(async move {
                    for _ in 0..ECHO_CONNS {
                        let (mut stream, _) =
                            listener.accept().await.expect("accepting a connection");
                        stream.set_nodelay(true).expect("setting TCP_NODELAY");
                        $rt::spawn_detached(async move {
                            let mut buf = [0; ECHO_MSG_LEN];
                            loop {
                                let n = stream.read(&mut buf).await.expect("reading a request");
                                if n == 0 {
                                    break; // the client closed: its round trips are done
                                }
                                stream
                                    .write_all(&buf[..n])
                                    .await
                                    .expect("writing the echo");
                            }
                        });
                    }
                });
                for _ in 0..ECHO_CONNS {
                    $rt::spawn_detached(async move {
                        let mut stream = TcpStream::connect(addr).await.expect("connecting");
                        stream.set_nodelay(true).expect("setting TCP_NODELAY");
                        let mut reply = [0; ECHO_MSG_LEN];
                        for _ in 0..ECHO_ROUND_TRIPS {
                            stream
                                .write_all(&ECHO_REQUEST)
                                .await
                                .expect("writing a request");
                            stream
                                .read_exact(&mut reply)
                                .await
                                .expect("reading the echo");
                            assert_eq!(reply, ECHO_REQUEST, "the echo differs from the request");
                        }
                        // Closing is part of the client's work, as in Go, which closes before
                        // it ticks; the EOF ends the server's echo task.
                        drop(stream);
                        COUNTDOWN.tick();
                    });
                }
                done.await.unwrap();
                start.elapsed()
            });
            per_op(elapsed, ECHO_CONNS * ECHO_ROUND_TRIPS, 1e3, "µs/round trip")
        }
    };
}

echo_workload!(
    /// `echo50x2000` on tokio: `tokio::net` sockets and `tokio::io`'s extension traits.
    echo50x2000_tokio,
    Tokio,
    tokio,
    tokio
);

echo_workload!(
    /// `echo50x2000` on gort: `gort::net` sockets and `gort::io`'s extension traits (tokio's).
    echo50x2000_gort,
    Gort,
    gort,
    gort
);
