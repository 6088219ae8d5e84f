//! `gort::fs::File` as users rely on it: writes accepted at once and written in the
//! background (staged behind the write in flight, still written if the handle is dropped),
//! errors reported by the next write or flush, seeks, appends, `set_len`, conversions to and
//! from std, and use from spawned tasks. Tests that must observe a write in flight give the
//! `File` a socket whose buffer is full, so that its job blocks until the test reads.

mod fs_support;

use std::io::ErrorKind;

use fs_support::Scratch;
use gort::fs;
// `gort::io` once the facade re-exports gort-io.
use gort_io as io;

/// A connected pair of Unix sockets whose first end is wrapped as a `File`, with its send
/// buffer filled: the file's first write job blocks until the second end is read, which lets a
/// test observe what happens while a write is in flight without timing anything. Returns the
/// file, the reading end, and the filler bytes the reader will see first.
#[cfg(unix)]
fn file_with_a_stuck_write() -> (fs::File, std::os::unix::net::UnixStream, usize) {
    use std::io::Write;
    use std::os::fd::OwnedFd;
    use std::os::unix::net::UnixStream;

    let (writer, reader) = UnixStream::pair().unwrap();
    writer.set_nonblocking(true).unwrap();
    let chunk = [b'.'; 4096];
    let mut filler = 0;
    loop {
        match (&writer).write(&chunk) {
            Ok(n) => filler += n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => break,
            Err(e) => panic!("filling the socket buffer: {e}"),
        }
    }
    writer.set_nonblocking(false).unwrap();
    (fs::File::from(OwnedFd::from(writer)), reader, filler)
}

/// Reads `reader` to its end on a plain thread (the end comes once every handle to the other
/// end, the file's jobs included, is closed).
#[cfg(unix)]
fn read_to_end_on_a_thread(
    mut reader: std::os::unix::net::UnixStream,
) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        use std::io::Read;
        let mut all = Vec::new();
        reader.read_to_end(&mut all).unwrap();
        all
    })
}

#[gort::test]
async fn file_write_then_read_back() {
    use io::{AsyncReadExt, AsyncWriteExt};

    let dir = Scratch::new("file_round_trip");
    let path = dir.join("f");
    let mut file = fs::File::create(&path).await.unwrap();
    file.write_all(b"written through a File").await.unwrap();
    file.flush().await.unwrap();
    drop(file);

    let mut contents = String::new();
    let mut file = fs::File::open(&path).await.unwrap();
    file.read_to_string(&mut contents).await.unwrap();
    assert_eq!(contents, "written through a File");
    // At the end, reads return 0.
    let mut more = [0u8; 8];
    assert_eq!(file.read(&mut more).await.unwrap(), 0);
}

#[gort::test]
async fn file_open_errors_are_std_kinds() {
    let dir = Scratch::new("file_open_errors");
    let err = fs::File::open(dir.join("absent")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    let path = dir.join("exists");
    fs::File::create_new(&path).await.unwrap();
    let err = fs::File::create_new(&path).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AlreadyExists);
    let err = fs::OpenOptions::new()
        .read(true)
        .open(dir.join("absent"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

#[gort::test]
async fn many_small_writes_then_flush_produce_the_whole_content() {
    use io::AsyncWriteExt;

    let dir = Scratch::new("small_writes");
    let path = dir.join("lines");
    let mut file = fs::File::create(&path).await.unwrap();
    let mut expected = String::new();
    for i in 0..5000 {
        let line = format!("line {i}\n");
        file.write_all(line.as_bytes()).await.unwrap();
        expected.push_str(&line);
    }
    file.flush().await.unwrap();
    assert_eq!(fs::read_to_string(&path).await.unwrap(), expected);
    assert_eq!(file.metadata().await.unwrap().len(), expected.len() as u64);
}

#[cfg(unix)]
#[gort::test]
async fn writes_made_while_a_write_is_in_flight_are_accepted_and_written_in_order() {
    use io::{AsyncWrite, AsyncWriteExt};
    use std::pin::Pin;
    use std::task::{Context, Poll};

    let (mut file, reader, filler) = file_with_a_stuck_write();
    let mut cx = Context::from_waker(futures::task::noop_waker_ref());
    // The first write starts a job that cannot finish until the reader reads.
    let first = Pin::new(&mut file).poll_write(&mut cx, b"first;");
    assert!(matches!(first, Poll::Ready(Ok(6))));
    // Every later write is accepted at once, staged for that same job: none waits for it.
    let mut expected = b"first;".to_vec();
    for i in 0..100 {
        let small = format!("w{i};");
        let polled = Pin::new(&mut file).poll_write(&mut cx, small.as_bytes());
        assert!(
            matches!(polled, Poll::Ready(Ok(n)) if n == small.len()),
            "write {i} waited for the write in flight"
        );
        expected.extend_from_slice(small.as_bytes());
    }
    let reading = read_to_end_on_a_thread(reader);
    file.flush().await.unwrap();
    drop(file);
    let got = reading.join().unwrap();
    assert!(got[..filler].iter().all(|&b| b == b'.'));
    assert_eq!(&got[filler..], &expected[..]);
}

#[cfg(unix)]
#[gort::test]
async fn staged_writes_stop_at_max_buf_size_until_the_job_takes_them() {
    use io::{AsyncWrite, AsyncWriteExt};
    use std::pin::Pin;
    use std::task::{Context, Poll};

    let (mut file, reader, filler) = file_with_a_stuck_write();
    file.set_max_buf_size(8);
    assert_eq!(file.max_buf_size(), 8);
    let mut cx = Context::from_waker(futures::task::noop_waker_ref());
    // 8 bytes go to the job, 8 more are staged, and then the handle must wait.
    let polled = Pin::new(&mut file).poll_write(&mut cx, b"0123456789");
    assert!(matches!(polled, Poll::Ready(Ok(8))));
    let polled = Pin::new(&mut file).poll_write(&mut cx, b"89abcdefXYZ");
    assert!(matches!(polled, Poll::Ready(Ok(8))));
    let polled = Pin::new(&mut file).poll_write(&mut cx, b"XYZ");
    assert!(
        polled.is_pending(),
        "a full staging buffer makes the writer wait"
    );

    let reading = read_to_end_on_a_thread(reader);
    file.write_all(b"XYZ").await.unwrap();
    file.flush().await.unwrap();
    drop(file);
    let got = reading.join().unwrap();
    assert_eq!(&got[filler..], b"0123456789abcdefXYZ");
}

#[cfg(unix)]
#[gort::test]
async fn a_dropped_file_still_writes_what_it_accepted() {
    use io::AsyncWriteExt;

    let (mut file, reader, filler) = file_with_a_stuck_write();
    // Accepted, never flushed: one write in the job, the rest staged behind it.
    file.write_all(b"in flight;").await.unwrap();
    file.write_all(b"staged one;").await.unwrap();
    file.write_all(b"staged two").await.unwrap();
    drop(file);
    let got = read_to_end_on_a_thread(reader).join().unwrap();
    assert_eq!(&got[filler..], b"in flight;staged one;staged two");
}

#[gort::test]
async fn a_dropped_file_with_an_unflushed_write_leaves_it_on_disk() {
    use io::AsyncWriteExt;

    let dir = Scratch::new("dropped_unflushed");
    let path = dir.join("f");
    let mut file = fs::File::create(&path).await.unwrap();
    file.write_all(b"never flushed").await.unwrap();
    drop(file);
    // The write job outlives the handle; a later open on the same runtime sees its bytes once
    // it ends. Nothing signals that moment, so wait for it with a bounded number of yields.
    let mut attempts = 0;
    while fs::read(&path).await.unwrap() != b"never flushed" {
        attempts += 1;
        assert!(attempts < 100_000, "the dropped file's write never landed");
        gort::task::yield_now().await;
    }
}

#[gort::test]
async fn a_write_error_surfaces_on_the_next_write_or_flush() {
    use io::AsyncWriteExt;

    let dir = Scratch::new("write_error");
    let path = dir.join("read_only_handle");
    fs::write(&path, "x").await.unwrap();
    // Writing through a handle opened only for reading fails in the job, after the write
    // itself was accepted.
    let mut file = fs::File::open(&path).await.unwrap();
    assert_eq!(file.write(b"rejected").await.unwrap(), 8);
    let second = file.write(b"also").await;
    let flushed = file.flush().await;
    assert!(
        second.is_err() != flushed.is_err(),
        "exactly one of the next write and the flush reports the failure \
         (second: {second:?}, flush: {flushed:?})"
    );
    // Reported once: the handle is usable (and fails afresh) afterwards.
    file.flush().await.unwrap();
    assert_eq!(fs::read_to_string(&path).await.unwrap(), "x");
}

#[gort::test]
async fn seek_then_read() {
    use io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
    use std::io::SeekFrom;

    let dir = Scratch::new("seek");
    let path = dir.join("digits");
    let mut file = fs::File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&path)
        .await
        .unwrap();
    file.write_all(b"0123456789").await.unwrap();
    // A seek waits for the write in flight.
    assert_eq!(file.seek(SeekFrom::Start(3)).await.unwrap(), 3);
    let mut four = [0u8; 4];
    file.read_exact(&mut four).await.unwrap();
    assert_eq!(&four, b"3456");
    assert_eq!(file.stream_position().await.unwrap(), 7);
    assert_eq!(file.seek(SeekFrom::Current(-2)).await.unwrap(), 5);
    let mut rest = Vec::new();
    file.read_to_end(&mut rest).await.unwrap();
    assert_eq!(rest, b"56789");
    assert_eq!(file.seek(SeekFrom::End(-1)).await.unwrap(), 9);
    let mut last = [0u8; 1];
    file.read_exact(&mut last).await.unwrap();
    assert_eq!(&last, b"9");
    // Writing after a seek overwrites in place.
    file.seek(SeekFrom::Start(1)).await.unwrap();
    file.write_all(b"ab").await.unwrap();
    file.flush().await.unwrap();
    assert_eq!(fs::read(&path).await.unwrap(), b"0ab3456789");
    let err = file.seek(SeekFrom::Current(-100)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}

#[gort::test]
async fn reads_larger_than_max_buf_size_take_several_hops_and_lose_nothing() {
    use io::AsyncReadExt;

    let dir = Scratch::new("large_read");
    let path = dir.join("big");
    let contents: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    fs::write(&path, &contents).await.unwrap();
    let mut file = fs::File::open(&path).await.unwrap();
    file.set_max_buf_size(4096);
    let mut read = Vec::new();
    file.read_to_end(&mut read).await.unwrap();
    assert_eq!(read, contents);
}

#[gort::test]
async fn append_mode_writes_at_the_end_whatever_the_cursor() {
    use io::{AsyncSeekExt, AsyncWriteExt};
    use std::io::SeekFrom;

    let dir = Scratch::new("append");
    let path = dir.join("log");
    fs::write(&path, "first\n").await.unwrap();
    let mut log = fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .await
        .unwrap();
    log.write_all(b"second\n").await.unwrap();
    log.seek(SeekFrom::Start(0)).await.unwrap();
    log.write_all(b"third\n").await.unwrap();
    log.flush().await.unwrap();
    assert_eq!(
        fs::read_to_string(&path).await.unwrap(),
        "first\nsecond\nthird\n"
    );
}

#[gort::test]
async fn set_len_truncates_and_extends_with_zeros() {
    use io::AsyncWriteExt;

    let dir = Scratch::new("set_len");
    let path = dir.join("f");
    let mut file = fs::File::create(&path).await.unwrap();
    file.write_all(b"0123456789").await.unwrap();
    // set_len waits for the write in flight.
    file.set_len(4).await.unwrap();
    assert_eq!(fs::read(&path).await.unwrap(), b"0123");
    file.set_len(6).await.unwrap();
    assert_eq!(fs::read(&path).await.unwrap(), b"0123\0\0");
    assert_eq!(file.metadata().await.unwrap().len(), 6);
    let read_only = fs::File::open(&path).await.unwrap();
    assert!(read_only.set_len(0).await.is_err());
}

#[gort::test]
async fn sync_clone_and_std_conversions() {
    use io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
    use std::io::{Read, SeekFrom};

    let dir = Scratch::new("sync_clone");
    let path = dir.join("f");
    let mut file = fs::File::create_new(&path).await.unwrap();
    file.write_all(b"durable").await.unwrap();
    file.sync_all().await.unwrap();
    file.sync_data().await.unwrap();
    assert_eq!(fs::read(&path).await.unwrap(), b"durable");

    // A clone shares the cursor.
    let mut clone = file.try_clone().await.unwrap();
    clone.seek(SeekFrom::Start(3)).await.unwrap();
    let mut rest = String::new();
    file.read_to_string(&mut rest).await.unwrap();
    assert_eq!(rest, "able");

    // No job in flight: the std file comes back at once.
    let mut std = file.try_into_std().expect("no job in flight");
    let mut nothing = Vec::new();
    std.read_to_end(&mut nothing).unwrap();
    assert!(nothing.is_empty());
    let back = fs::File::from_std(std);
    let std = back.into_std().await;
    drop(std);
    drop(clone);
}

#[gort::test]
async fn file_permissions_and_times() {
    use std::time::{Duration, SystemTime};

    let dir = Scratch::new("file_meta");
    let path = dir.join("f");
    let file = fs::File::create(&path).await.unwrap();
    let mut perms = file.metadata().await.unwrap().permissions();
    perms.set_readonly(true);
    file.set_permissions(perms).await.unwrap();
    assert!(fs::metadata(&path).await.unwrap().permissions().readonly());

    let when = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
    file.set_modified(when).await.unwrap();
    assert_eq!(fs::metadata(&path).await.unwrap().modified().unwrap(), when);
    let earlier = when - Duration::from_secs(3600);
    let times = fs::FileTimes::new()
        .set_accessed(earlier)
        .set_modified(earlier);
    file.set_times(times).await.unwrap();
    let meta = fs::metadata(&path).await.unwrap();
    assert_eq!(meta.modified().unwrap(), earlier);
    assert_eq!(meta.accessed().unwrap(), earlier);
}

#[gort::test]
async fn vectored_writes_keep_the_slices_in_order() {
    use io::AsyncWriteExt;
    use std::io::IoSlice;

    let dir = Scratch::new("vectored");
    let path = dir.join("f");
    let mut file = fs::File::create(&path).await.unwrap();
    assert!(io::AsyncWrite::is_write_vectored(&file));
    let slices = [IoSlice::new(b"ab"), IoSlice::new(b""), IoSlice::new(b"cde")];
    assert_eq!(file.write_vectored(&slices).await.unwrap(), 5);
    let slices = [IoSlice::new(b"fg"), IoSlice::new(b"h")];
    assert_eq!(file.write_vectored(&slices).await.unwrap(), 3);
    file.flush().await.unwrap();
    assert_eq!(fs::read(&path).await.unwrap(), b"abcdefgh");
}

#[gort::test]
async fn files_are_usable_from_spawned_tasks() {
    use io::{AsyncReadExt, AsyncWriteExt};

    let dir = Scratch::new("spawned");
    let handles: Vec<_> = (0..8)
        .map(|i| {
            let path = dir.join(format!("task{i}"));
            gort::spawn(async move {
                let mut file = fs::File::create(&path).await.unwrap();
                file.write_all(format!("task {i}").as_bytes())
                    .await
                    .unwrap();
                file.shutdown().await.unwrap();
                let mut back = String::new();
                fs::File::open(&path)
                    .await
                    .unwrap()
                    .read_to_string(&mut back)
                    .await
                    .unwrap();
                back
            })
        })
        .collect();
    for (i, handle) in handles.into_iter().enumerate() {
        assert_eq!(handle.await.unwrap(), format!("task {i}"));
    }
}

/// tokio's auto traits: every fs type can be sent, shared and moved freely.
#[test]
fn fs_types_are_send_sync_unpin_and_debug() {
    fn check<T: Send + Sync + Unpin + std::fmt::Debug>() {}
    check::<fs::File>();
    check::<fs::OpenOptions>();
    check::<fs::ReadDir>();
    check::<fs::DirEntry>();
    check::<fs::DirBuilder>();
    check::<fs::FileTimes>();
}
