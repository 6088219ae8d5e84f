//! `accept` when the process is out of file descriptors (`EMFILE`): the error reaches the
//! caller, and the pending connection is not lost: once descriptors are free again, the same
//! listener's next `accept` returns it.
//!
//! A binary of its own because it lowers the process's `RLIMIT_NOFILE` soft limit, which would
//! make any test running beside it fail. The limit is restored when the test ends, also if it
//! fails.

mod common;

use std::fs::File;
use std::io;
use std::time::Duration;

use gort::io::{AsyncReadExt, AsyncWriteExt};
use gort::net::{TcpListener, TcpStream};

use common::{runtime, watchdog, within};

/// Descriptor numbers left free above the highest one in use when the limit is lowered: room
/// for the listener's accepted connection later, and for whatever the runtime opens meanwhile.
const MARGIN: u64 = 16;

/// The `RLIMIT_NOFILE` soft limit, lowered while this guard lives.
struct LoweredFileLimit {
    original: libc::rlimit,
}

impl LoweredFileLimit {
    /// Lowers the soft limit to `soft` (never above the current one).
    fn to(soft: u64) -> LoweredFileLimit {
        let original = file_limit();
        let lowered = libc::rlimit {
            rlim_cur: (soft as libc::rlim_t).min(original.rlim_cur),
            rlim_max: original.rlim_max,
        };
        set_file_limit(&lowered);
        LoweredFileLimit { original }
    }
}

impl Drop for LoweredFileLimit {
    fn drop(&mut self) {
        set_file_limit(&self.original);
    }
}

/// The current `RLIMIT_NOFILE`.
fn file_limit() -> libc::rlimit {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid, writable `rlimit` for the duration of the call.
    let result = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) };
    assert_eq!(result, 0, "getrlimit: {}", io::Error::last_os_error());
    limit
}

/// Sets `RLIMIT_NOFILE`.
fn set_file_limit(limit: &libc::rlimit) {
    // SAFETY: `limit` points to a valid `rlimit` for the duration of the call.
    let result = unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, limit) };
    assert_eq!(result, 0, "setrlimit: {}", io::Error::last_os_error());
}

/// The highest descriptor number open in this process (`/dev/fd` lists them).
fn highest_open_fd() -> u64 {
    std::fs::read_dir("/dev/fd")
        .expect("list /dev/fd")
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u64>().ok())
        .max()
        .expect("at least stdin, stdout and stderr are open")
}

/// Whether `err` is `EMFILE`.
fn is_emfile(err: &io::Error) -> bool {
    err.raw_os_error() == Some(libc::EMFILE)
}

/// Opens `/dev/null` until the process is out of descriptors; returns the files.
fn use_up_descriptors() -> Vec<File> {
    let mut files = Vec::new();
    loop {
        match File::open("/dev/null") {
            Ok(file) => files.push(file),
            Err(err) if is_emfile(&err) => return files,
            Err(err) => panic!("opening /dev/null: {err}"),
        }
    }
}

/// With no descriptor left, a connection pending on the listener makes `accept` fail with
/// `EMFILE` (every time it is tried); after some descriptors are freed, the same listener's next
/// `accept` returns that very connection, which then carries data both ways.
#[test]
fn accept_fails_with_emfile_and_the_pending_connection_is_kept() {
    let _watchdog = watchdog(Duration::from_secs(120), "accept under EMFILE");
    for procs in [1, 2] {
        let rt = runtime(procs);
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();

            let limit = LoweredFileLimit::to(highest_open_fd() + 1 + MARGIN);
            let mut files = use_up_descriptors();
            assert!(!files.is_empty(), "{procs} Ps: the limit left some room");

            // One descriptor for the client, then none at all.
            files.pop();
            let mut client = TcpStream::connect(addr).await.expect("connect");
            let err = File::open("/dev/null").expect_err("every descriptor is in use");
            assert!(is_emfile(&err), "{procs} Ps: {err}");

            for attempt in 0..2 {
                let err = within(
                    Duration::from_secs(30),
                    "accept with no descriptor left",
                    listener.accept(),
                )
                .await
                .expect_err("accept with no descriptor left");
                assert!(
                    is_emfile(&err),
                    "{procs} Ps, attempt {attempt}: expected EMFILE, got {err:?}"
                );
            }

            files.truncate(files.len().saturating_sub(4));
            let (server, peer) = within(
                Duration::from_secs(30),
                "accept after descriptors were freed",
                listener.accept(),
            )
            .await
            .expect("accept after descriptors were freed");
            assert_eq!(
                peer,
                client.local_addr().unwrap(),
                "{procs} Ps: the connection that was pending during EMFILE"
            );

            client.write_all(b"ping").await.unwrap();
            let mut got = [0u8; 4];
            (&server).read_exact(&mut got).await.unwrap();
            assert_eq!(&got, b"ping");
            (&server).write_all(b"pong").await.unwrap();
            client.read_exact(&mut got).await.unwrap();
            assert_eq!(&got, b"pong");

            drop(files);
            drop(limit);
        });
    }
}
