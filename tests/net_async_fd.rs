//! `AsyncFd` on fds gort did not create: a pipe's two ends (readable waits for data, the guard's
//! `try_io` clears stale readiness, writable comes back once the reader drains a full pipe, a
//! closed writer reads as read-closed), a socket pair's combined readiness and
//! `clear_ready_matching`, `async_io`, `into_inner`, and a regular file refused as tokio's is.
//!
//! `AsyncFd::register` is `unsafe` (tokio 1.54's signature): each call below owns its fd for the
//! `AsyncFd`'s whole life, which is what it asks for.

mod common;

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::Duration;

use gort::net::async_fd::AsyncFd;
use gort::net::{Interest, Ready};

use common::{within, TempSocketPath};

const LIMIT: Duration = Duration::from_secs(30);

/// A non-blocking pipe: (read end, write end).
fn pipe() -> (File, File) {
    let mut fds = [0; 2];
    // SAFETY: `fds` is a live array of two ints, which `pipe` fills on success.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0, "pipe");
    for fd in fds {
        // SAFETY: `fd` was just opened by `pipe`; F_GETFL/F_SETFL only change its flags.
        let set = unsafe {
            let flags = libc::fcntl(fd, libc::F_GETFL);
            libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK)
        };
        assert_ne!(set, -1, "O_NONBLOCK");
    }
    // SAFETY: `pipe` succeeded: both fds are open and owned by nothing else.
    unsafe {
        (
            File::from(OwnedFd::from_raw_fd(fds[0])),
            File::from(OwnedFd::from_raw_fd(fds[1])),
        )
    }
}

/// Registers `inner`, which owns its fd for as long as the `AsyncFd` holds it.
fn register<T: AsRawFd>(inner: T) -> AsyncFd<T> {
    // SAFETY: every `T` used here owns its fd and closes it only when dropped, after the
    // `AsyncFd` deregistered it.
    unsafe { AsyncFd::register(inner) }.unwrap_or_else(|err| panic!("register: {err}"))
}

#[gort::test]
async fn a_pipes_read_end_waits_for_data_and_clears_stale_readiness() {
    let (reader, mut writer) = pipe();
    let reader = register(reader);
    assert!(
        futures::poll!(std::pin::pin!(reader.readable())).is_pending(),
        "an empty pipe is not readable"
    );

    writer.write_all(b"data").unwrap();
    let mut guard = within(LIMIT, "readable", reader.readable()).await.unwrap();
    assert!(guard.ready().is_readable(), "{:?}", guard.ready());
    let mut buf = [0u8; 16];
    let n = guard
        .try_io(|fd| fd.get_ref().read(&mut buf))
        .expect("data was waiting")
        .unwrap();
    assert_eq!(&buf[..n], b"data");
    // Drained: the next read says WouldBlock, which clears the readiness.
    assert!(guard.try_io(|fd| fd.get_ref().read(&mut buf)).is_err());
    assert_eq!(guard.ready(), Ready::EMPTY);
    drop(guard);
    assert!(
        futures::poll!(std::pin::pin!(reader.readable())).is_pending(),
        "cleared readiness waits for the next edge"
    );

    writer.write_all(b"more").unwrap();
    let n = within(
        LIMIT,
        "async_io",
        reader.async_io(Interest::READABLE, |fd| (&*fd).read(&mut buf)),
    )
    .await
    .unwrap();
    assert_eq!(&buf[..n], b"more");
}

#[gort::test]
async fn a_full_pipe_becomes_writable_again_when_the_reader_drains_it() {
    let (mut reader, writer) = pipe();
    let writer = register(writer);
    let chunk = [7u8; 4096];
    let mut written = 0;
    loop {
        let mut guard = within(LIMIT, "writable", writer.writable()).await.unwrap();
        match guard.try_io(|fd| fd.get_ref().write(&chunk)) {
            Ok(result) => written += result.unwrap(),
            Err(_would_block) => break,
        }
    }
    assert!(written > 0);
    assert!(
        futures::poll!(std::pin::pin!(writer.writable())).is_pending(),
        "a full pipe is not writable"
    );

    let mut drained = vec![0u8; written];
    reader.read_exact(&mut drained).unwrap();
    let guard = within(LIMIT, "writable after draining", writer.writable())
        .await
        .unwrap();
    assert!(guard.ready().is_writable(), "{:?}", guard.ready());
}

#[gort::test]
async fn a_closed_writer_reads_as_read_closed() {
    let (reader, writer) = pipe();
    let reader = register(reader);
    drop(writer);
    let guard = within(LIMIT, "readable", reader.readable()).await.unwrap();
    assert!(guard.ready().is_read_closed(), "{:?}", guard.ready());
    let mut buf = [0u8; 4];
    assert_eq!(reader.get_ref().read(&mut buf).unwrap(), 0, "end of file");
}

#[gort::test]
async fn clear_ready_matching_keeps_the_other_readiness() {
    let (ours, mut theirs) = std::os::unix::net::UnixStream::pair().unwrap();
    ours.set_nonblocking(true).unwrap();
    // Data waits before the registration, whose first edge then reports both kinds at once.
    theirs.write_all(b"x").unwrap();
    let ours = register(ours);

    let mut guard = within(
        LIMIT,
        "ready",
        ours.ready(Interest::READABLE | Interest::WRITABLE),
    )
    .await
    .unwrap();
    assert_eq!(guard.ready(), Ready::READABLE | Ready::WRITABLE);
    guard.clear_ready_matching(Ready::READABLE);
    assert_eq!(guard.ready(), Ready::WRITABLE);
    drop(guard);
    let guard = ours.writable().await.unwrap();
    assert!(guard.ready().is_writable(), "writable was kept");
}

#[gort::test]
async fn into_inner_hands_the_object_back_and_the_mut_guard_lends_it() {
    let (reader, mut writer) = pipe();
    let mut reader = register(reader);
    writer.write_all(b"abc").unwrap();
    let mut guard = within(LIMIT, "readable_mut", reader.readable_mut())
        .await
        .unwrap();
    let mut buf = [0u8; 3];
    let n = guard
        .try_io(|fd| fd.get_mut().read(&mut buf))
        .expect("data was waiting")
        .unwrap();
    assert_eq!(&buf[..n], b"abc");
    let fd = reader.as_raw_fd();
    let file = reader.into_inner();
    assert_eq!(file.as_raw_fd(), fd, "the same object, fd still open");
}

#[gort::test]
async fn a_regular_file_is_refused_and_given_back() {
    let path = TempSocketPath::new("regular-file");
    let file = File::create(path.path()).unwrap();
    let fd = file.as_raw_fd();
    // SAFETY: `file` owns its fd; the failed registration hands it back.
    let err = unsafe { AsyncFd::register(file) }.expect_err("epoll refuses regular files");
    let (file, cause) = err.into_parts();
    assert_eq!(cause.raw_os_error(), Some(libc::EPERM), "{cause}");
    assert_eq!(file.as_raw_fd(), fd, "the file came back");
    let err: io::Error = {
        // SAFETY: as above.
        unsafe { AsyncFd::register(file) }
            .expect_err("still a regular file")
            .into()
    };
    assert_eq!(err.raw_os_error(), Some(libc::EPERM));
}

/// An object whose fd is -1 (it names none) is refused with `EBADF` and handed back; nothing
/// treats -1 as an fd.
#[gort::test]
async fn an_object_without_an_fd_is_refused_with_ebadf_and_given_back() {
    #[derive(Debug)]
    struct NoFd(u32);
    impl AsRawFd for NoFd {
        fn as_raw_fd(&self) -> std::os::fd::RawFd {
            -1
        }
    }
    // SAFETY: nothing to own: the registration is refused before the fd is used.
    let err = unsafe { AsyncFd::register_with_interest(NoFd(7), Interest::READABLE) }
        .expect_err("-1 is no fd");
    let (returned, cause) = err.into_parts();
    assert_eq!(returned.0, 7, "the object came back");
    assert_eq!(cause.raw_os_error(), Some(libc::EBADF), "{cause}");
}

/// `readable_mut`'s future borrows the `AsyncFd` mutably, so it is `Send` when the object is
/// `Send` but not `Sync` (a `Cell` inside): such an `AsyncFd` can be awaited in a spawned task.
#[gort::test]
async fn readable_mut_on_a_send_but_not_sync_object_can_be_awaited_in_a_spawned_task() {
    struct Unshared {
        file: File,
        reads: std::cell::Cell<u32>,
    }
    impl AsRawFd for Unshared {
        fn as_raw_fd(&self) -> std::os::fd::RawFd {
            self.file.as_raw_fd()
        }
    }
    let (reader, mut writer) = pipe();
    let mut reader = register(Unshared {
        file: reader,
        reads: std::cell::Cell::new(0),
    });
    writer.write_all(b"x").unwrap();
    let task = gort::spawn(async move {
        let mut guard = reader.readable_mut().await.unwrap();
        let inner = guard.get_inner_mut();
        inner.reads.set(inner.reads.get() + 1);
        let mut byte = [0u8; 1];
        inner.file.read_exact(&mut byte).unwrap();
        (byte, inner.reads.get())
    });
    let (byte, reads) = within(LIMIT, "readable_mut in a task", task).await.unwrap();
    assert_eq!((byte, reads), (*b"x", 1));
}
