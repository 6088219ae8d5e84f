//! `net::unix::pipe`: an anonymous pipe through tokio's IO traits (a transfer larger than the
//! pipe's buffer, end of file when the sender goes, read-closed and write-closed readiness),
//! the `try_*`/`readable` protocol, named FIFOs through `OpenOptions` (no reader yet: `ENXIO`;
//! `read_write`), and the checks on `from_file` (not a pipe, wrong direction).

mod common;

use std::ffi::CString;
use std::fs::File;
use std::io::{self, Read};
use std::os::unix::ffi::OsStrExt;
use std::time::Duration;

use bytes::BytesMut;
use gort::io::{AsyncReadExt, AsyncWriteExt};
use gort::net::unix::pipe;
use gort::net::Interest;

use common::{pattern, within, TempSocketPath};

const LIMIT: Duration = Duration::from_secs(30);

/// Makes a FIFO at `path`.
fn mkfifo(path: &std::path::Path) {
    let path = CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: `path` is a live NUL-terminated string for the call.
    assert_eq!(unsafe { libc::mkfifo(path.as_ptr(), 0o600) }, 0, "mkfifo");
}

#[gort::test]
async fn a_pipe_carries_more_than_its_buffer_and_ends_when_the_sender_goes() {
    let (mut sender, mut receiver) = pipe::pipe().unwrap();
    let sent = pattern(3, 1 << 20);
    let writer = {
        let sent = sent.clone();
        gort::spawn(async move {
            sender.write_all(&sent).await.unwrap();
            sender.shutdown().await.unwrap();
        })
    };
    let mut got = BytesMut::with_capacity(8192);
    while within(LIMIT, "read_buf", receiver.read_buf(&mut got))
        .await
        .unwrap()
        > 0
    {
        if got.capacity() == got.len() {
            got.reserve(8192);
        }
    }
    assert!(got[..] == sent[..], "the bytes differ from what was sent");
    within(LIMIT, "the writer", writer).await.unwrap();
    let ready = receiver.ready(Interest::READABLE).await.unwrap();
    assert!(ready.is_read_closed(), "{ready:?}");
}

#[gort::test]
async fn try_read_waits_for_readable_and_a_lone_sender_sees_write_closed() {
    let (sender, receiver) = pipe::pipe().unwrap();
    let mut buf = [0u8; 8];
    assert_eq!(
        receiver.try_read(&mut buf).unwrap_err().kind(),
        io::ErrorKind::WouldBlock
    );
    assert!(futures::poll!(std::pin::pin!(receiver.readable())).is_pending());
    // A pipe's readiness is learnt from the poller, not assumed (tokio's): wait for it.
    within(LIMIT, "writable", sender.writable()).await.unwrap();
    sender.try_write(b"abc").unwrap();
    within(LIMIT, "readable", receiver.readable())
        .await
        .unwrap();
    let mut spare = BytesMut::with_capacity(8);
    assert_eq!(receiver.try_read_buf(&mut spare).unwrap(), 3);
    assert_eq!(&spare[..], b"abc");

    // Fill the pipe, so that the writable readiness is spent and only the reader leaving
    // can bring it back.
    let chunk = [0u8; 4096];
    loop {
        match sender.try_write(&chunk) {
            Ok(_) => continue,
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => break,
            Err(err) => panic!("try_write: {err}"),
        }
    }
    drop(receiver);
    let ready = within(LIMIT, "ready", sender.ready(Interest::WRITABLE))
        .await
        .unwrap();
    assert!(ready.is_write_closed(), "{ready:?}");
    let err = sender.try_write(b"nobody reads").unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::BrokenPipe, "{err}");
}

#[gort::test]
async fn a_fifo_opens_through_open_options() {
    let path = TempSocketPath::new("fifo");
    mkfifo(path.path());

    let err = pipe::OpenOptions::new()
        .open_sender(path.path())
        .unwrap_err();
    assert_eq!(
        err.raw_os_error(),
        Some(libc::ENXIO),
        "no reader yet: {err}"
    );

    let mut receiver = pipe::OpenOptions::new().open_receiver(path.path()).unwrap();
    let mut sender = pipe::OpenOptions::new().open_sender(path.path()).unwrap();
    sender.write_all(b"through the fifo").await.unwrap();
    drop(sender);
    let mut got = Vec::new();
    within(LIMIT, "read_to_end", receiver.read_to_end(&mut got))
        .await
        .unwrap();
    assert_eq!(got, b"through the fifo");

    // Read-write: a sender opens with no reader around.
    let sender = pipe::OpenOptions::new()
        .read_write(true)
        .open_sender(path.path())
        .unwrap();
    within(LIMIT, "writable", sender.writable()).await.unwrap();
    sender.try_write(b"kept").unwrap();
    let fd = sender.into_blocking_fd().unwrap();
    let mut buf = [0u8; 4];
    File::from(fd).read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"kept", "a read-write end reads its own bytes back");
}

#[gort::test]
async fn from_file_checks_for_a_pipe_open_in_the_right_direction() {
    let path = TempSocketPath::new("not-a-pipe");
    let file = File::create(path.path()).unwrap();
    let err = pipe::Receiver::from_file(file).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err}");
    let err = pipe::OpenOptions::new()
        .open_receiver(path.path())
        .unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err}");

    let (sender, receiver) = pipe::pipe().unwrap();
    let read_end = File::from(receiver.into_nonblocking_fd().unwrap());
    let err = pipe::Sender::from_file(read_end).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err}");
    let write_end = File::from(sender.into_blocking_fd().unwrap());
    let sender = pipe::Sender::from_file(write_end).unwrap();
    assert!(sender.ready(Interest::WRITABLE).await.is_ok());
}

/// A FIFO's receiver opened before any writer waits for the writer's data: it does not read
/// the empty FIFO as end of file (its end starts not readable, so it waits for the poller).
#[gort::test]
async fn a_fifo_receiver_opened_before_its_writer_waits_for_the_data() {
    let path = TempSocketPath::new("fifo-reader-first");
    mkfifo(path.path());
    let mut receiver = pipe::OpenOptions::new().open_receiver(path.path()).unwrap();
    let reader = gort::spawn(async move {
        let mut buf = [0u8; 5];
        receiver.read_exact(&mut buf).await.map(|_| buf)
    });
    gort::task::yield_now().await;
    let mut sender = pipe::OpenOptions::new().open_sender(path.path()).unwrap();
    sender.write_all(b"later").await.unwrap();
    let got = within(LIMIT, "read_exact", reader).await.unwrap();
    assert_eq!(&got.expect("no early end of file"), b"later");
}
