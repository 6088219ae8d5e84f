//! The state machine's handling of read-ahead: bytes a read job fetched beyond what the caller
//! took put the OS cursor ahead of the caller, and whatever comes next must correct for that.
//! The public API produces read-ahead only through cancelled reads (timing-dependent), so these
//! tests plant it directly: the std cursor is moved forward by hand and the same bytes are put
//! in the idle buffer.

use std::future::poll_fn;
use std::io::{Read, Seek, SeekFrom};
use std::pin::Pin;

use gort_io::{AsyncRead, AsyncSeek, AsyncWrite, ReadBuf};

use super::inner::State;
use super::File;
use crate::buf::Buf;

/// A file holding `contents`, opened for reading and writing, with the caller's position at
/// `at` and the bytes `at..ahead` read ahead into the handle's buffer.
fn file_with_read_ahead(name: &str, contents: &[u8], at: usize, ahead: usize) -> (File, Scratch) {
    let scratch = Scratch::new(name);
    std::fs::write(&scratch.path, contents).unwrap();
    let mut std = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&scratch.path)
        .unwrap();
    std.seek(SeekFrom::Start(at as u64)).unwrap();
    let mut buf = Buf::default();
    let n = buf.read_from(&mut std, ahead - at).unwrap();
    assert_eq!(n, ahead - at);
    let mut file = File::from_std(std);
    file.inner.get_mut().state = State::Idle(Some(buf));
    (file, scratch)
}

/// A file path under the temporary directory, removed on drop.
struct Scratch {
    path: std::path::PathBuf,
}

impl Scratch {
    fn new(name: &str) -> Scratch {
        let path = std::env::temp_dir().join(format!("gort-fs-unit-{}-{name}", std::process::id()));
        Scratch { path }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

async fn read_up_to(file: &mut File, n: usize) -> Vec<u8> {
    let mut storage = vec![0; n];
    let mut dst = ReadBuf::new(&mut storage);
    poll_fn(|cx| Pin::new(&mut *file).poll_read(cx, &mut dst))
        .await
        .unwrap();
    let len = dst.filled().len();
    storage.truncate(len);
    storage
}

async fn write_and_flush(file: &mut File, src: &[u8]) {
    let n = poll_fn(|cx| Pin::new(&mut *file).poll_write(cx, src))
        .await
        .unwrap();
    assert_eq!(n, src.len());
    poll_fn(|cx| Pin::new(&mut *file).poll_flush(cx))
        .await
        .unwrap();
}

async fn seek(file: &mut File, to: SeekFrom) -> u64 {
    Pin::new(&mut *file).start_seek(to).unwrap();
    poll_fn(|cx| Pin::new(&mut *file).poll_complete(cx))
        .await
        .unwrap()
}

#[test]
fn reads_are_served_from_read_ahead_first() {
    let (mut file, _scratch) = file_with_read_ahead("served", b"0123456789", 2, 6);
    gort_executor::block_on(async {
        assert_eq!(read_up_to(&mut file, 3).await, b"234");
        assert_eq!(read_up_to(&mut file, 10).await, b"5");
        assert_eq!(read_up_to(&mut file, 10).await, b"6789");
    });
}

#[test]
fn a_write_after_read_ahead_lands_at_the_callers_position() {
    let (mut file, scratch) = file_with_read_ahead("write", b"0123456789", 3, 8);
    gort_executor::block_on(write_and_flush(&mut file, b"ab"));
    assert_eq!(std::fs::read(&scratch.path).unwrap(), b"012ab56789");
}

#[test]
fn a_relative_seek_after_read_ahead_counts_from_the_callers_position() {
    let (mut file, _scratch) = file_with_read_ahead("seek", b"0123456789", 4, 9);
    gort_executor::block_on(async {
        assert_eq!(seek(&mut file, SeekFrom::Current(1)).await, 5);
        assert_eq!(read_up_to(&mut file, 2).await, b"56");
    });
}

#[test]
fn an_absolute_seek_after_read_ahead_drops_it() {
    let (mut file, _scratch) = file_with_read_ahead("seek_abs", b"0123456789", 1, 9);
    gort_executor::block_on(async {
        assert_eq!(seek(&mut file, SeekFrom::Start(0)).await, 0);
        assert_eq!(read_up_to(&mut file, 3).await, b"012");
    });
}

#[test]
fn set_len_after_read_ahead_leaves_the_cursor_at_the_callers_position() {
    let (file, scratch) = file_with_read_ahead("set_len", b"0123456789", 2, 7);
    gort_executor::block_on(file.set_len(4)).unwrap();
    let mut std = gort_executor::block_on(file.into_std());
    assert_eq!(std.stream_position().unwrap(), 2);
    let mut rest = Vec::new();
    std.read_to_end(&mut rest).unwrap();
    assert_eq!(rest, b"23");
    drop(std);
    assert_eq!(std::fs::read(&scratch.path).unwrap(), b"0123");
}

#[test]
fn poll_complete_while_idle_reports_the_last_seek() {
    let (mut file, _scratch) = file_with_read_ahead("complete", b"0123456789", 0, 1);
    gort_executor::block_on(async {
        assert_eq!(seek(&mut file, SeekFrom::End(-3)).await, 7);
        let idle = poll_fn(|cx| Pin::new(&mut file).poll_complete(cx)).await;
        assert_eq!(idle.unwrap(), 7);
    });
}

#[test]
fn start_seek_while_a_job_is_in_flight_is_an_error() {
    let (mut file, _scratch) = file_with_read_ahead("busy", b"0123456789", 0, 1);
    Pin::new(&mut file).start_seek(SeekFrom::Start(0)).unwrap();
    let err = Pin::new(&mut file)
        .start_seek(SeekFrom::Start(1))
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::Other);
    gort_executor::block_on(async {
        let done = poll_fn(|cx| Pin::new(&mut file).poll_complete(cx)).await;
        assert_eq!(done.unwrap(), 0);
    });
}

#[test]
fn a_failed_write_leaves_nothing_to_read_back() {
    // Writing to a descriptor opened read-only fails in the job; the bytes must not come back
    // as read-ahead, and the error waits for the next flush.
    let scratch = Scratch::new("failed_write");
    std::fs::write(&scratch.path, b"on disk").unwrap();
    let std = std::fs::File::open(&scratch.path).unwrap();
    let mut file = File::from_std(std);
    gort_executor::block_on(async {
        let accepted = poll_fn(|cx| Pin::new(&mut file).poll_write(cx, b"XXXXXXX")).await;
        assert_eq!(accepted.unwrap(), 7);
        assert_eq!(read_up_to(&mut file, 64).await, b"on disk");
        let flushed = poll_fn(|cx| Pin::new(&mut file).poll_flush(cx)).await;
        assert!(
            flushed.is_err(),
            "the write's error is reported by the flush"
        );
        let again = poll_fn(|cx| Pin::new(&mut file).poll_flush(cx)).await;
        assert!(again.is_ok(), "and only once");
    });
    assert_eq!(std::fs::read(&scratch.path).unwrap(), b"on disk");
}
