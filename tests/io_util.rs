//! `gort::io`: tokio's IO traits and utilities as a user sees them, on gort's runtime, with
//! in-memory endpoints (slices, cursors, `duplex`, `simplex`) so that the tests need no sockets.

use std::io::{Cursor, ErrorKind, SeekFrom};

use gort::io::{
    self, AsyncBufReadExt, AsyncReadExt, AsyncSeekExt, AsyncWriteExt, BufReader, BufWriter,
};

#[gort::test]
async fn read_exact_at_end_of_file_is_unexpected_eof() {
    let mut source: &[u8] = b"abc";
    let mut buf = [0u8; 5];
    let err = source.read_exact(&mut buf).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnexpectedEof);
    assert_eq!(&buf[..3], b"abc");
}

#[gort::test]
async fn read_to_string_rejects_invalid_utf8_and_keeps_the_original() {
    let mut source: &[u8] = b"valid then \xf0\x28\x8c\xbc";
    let mut text = String::from("already here; ");
    let err = source.read_to_string(&mut text).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidData);
    assert_eq!(text, "already here; ", "nothing of the original is lost");

    let mut good: &[u8] = "ünïcödé".as_bytes();
    let n = good.read_to_string(&mut text).await.unwrap();
    assert_eq!(n, "ünïcödé".len());
    assert_eq!(text, "already here; ünïcödé");
}

#[gort::test]
async fn lines_and_split() {
    let mut lines = BufReader::new(&b"first\r\nsecond\n\nlast"[..]).lines();
    let mut got = Vec::new();
    while let Some(line) = lines.next_line().await.unwrap() {
        got.push(line);
    }
    assert_eq!(got, ["first", "second", "", "last"]);

    let mut fields = BufReader::new(&b"a,b,,c"[..]).split(b',');
    let mut got = Vec::new();
    while let Some(field) = fields.next_segment().await.unwrap() {
        got.push(String::from_utf8(field).unwrap());
    }
    assert_eq!(got, ["a", "b", "", "c"]);
}

#[gort::test]
async fn buf_writer_holds_small_writes_until_flush() {
    let (client, mut server) = io::duplex(1024);
    let mut writer = BufWriter::with_capacity(64, client);
    writer.write_all(b"hello").await.unwrap();

    // Nothing reached the pipe: a read finds nothing to take right now.
    let mut buf = [0u8; 5];
    let pending = gort::select! {
        _ = server.read(&mut buf) => false,
        default => true,
    };
    assert!(
        pending,
        "a write smaller than the capacity was forwarded before flush"
    );

    writer.flush().await.unwrap();
    server.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"hello");
}

#[gort::test]
async fn buf_reader_serves_small_reads_from_one_fill() {
    let mut reader = BufReader::with_capacity(16, &b"0123456789abcdef-tail"[..]);
    assert_eq!(reader.read_u8().await.unwrap(), b'0');
    assert_eq!(reader.buffer(), b"123456789abcdef");
    let mut rest = String::new();
    reader.read_to_string(&mut rest).await.unwrap();
    assert_eq!(rest, "123456789abcdef-tail");
}

#[gort::test]
async fn copy_bidirectional_over_two_duplex_pairs_returns_the_byte_counts() {
    // client <-> (proxy_client_side | proxy_server_side) <-> server
    let (mut client, mut proxy_client_side) = io::duplex(64);
    let (mut proxy_server_side, mut server) = io::duplex(64);

    let proxy = gort::spawn(async move {
        io::copy_bidirectional(&mut proxy_client_side, &mut proxy_server_side).await
    });
    let server = gort::spawn(async move {
        let mut request = Vec::new();
        server.read_to_end(&mut request).await.unwrap();
        server.write_all(b"response: ").await.unwrap();
        server.write_all(&request).await.unwrap();
        server.shutdown().await.unwrap();
        request.len()
    });

    let request = vec![b'x'; 1000];
    client.write_all(&request).await.unwrap();
    client.shutdown().await.unwrap();
    let mut response = Vec::new();
    client.read_to_end(&mut response).await.unwrap();

    assert_eq!(server.await.unwrap(), 1000);
    assert_eq!(proxy.await.unwrap().unwrap(), (1000, 1010));
    assert_eq!(&response[..10], b"response: ");
    assert_eq!(&response[10..], &request[..]);
}

#[gort::test]
async fn duplex_applies_backpressure_at_max_buf_size() {
    let (mut one, mut two) = io::duplex(8);
    assert_eq!(
        one.write(&[1; 20]).await.unwrap(),
        8,
        "a write takes only what fits"
    );
    let blocked = gort::select! {
        _ = one.write(&[2]) => false,
        default => true,
    };
    assert!(blocked, "a full direction must make the writer wait");

    // A writer task parked on the full pipe resumes once the reader frees room.
    let writer = gort::spawn(async move {
        one.write_all(&[3; 100]).await.unwrap();
        one
    });
    let mut got = vec![0u8; 108];
    two.read_exact(&mut got).await.unwrap();
    assert_eq!(&got[..8], &[1; 8]);
    assert_eq!(&got[8..], &[3; 100][..]);
    drop(writer.await.unwrap());
}

#[gort::test]
async fn duplex_peer_sees_eof_when_dropped_after_its_last_bytes() {
    let (mut one, mut two) = io::duplex(64);
    let reader = gort::spawn(async move {
        let mut got = Vec::new();
        two.read_to_end(&mut got).await.unwrap();
        (got, two)
    });
    one.write_all(b"goodbye").await.unwrap();
    drop(one);
    let (got, mut two) = reader.await.unwrap();
    assert_eq!(got, b"goodbye");
    let err = two.write_all(b"anyone?").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BrokenPipe);
}

#[gort::test]
async fn simplex_carries_bytes_one_way_until_shutdown() {
    let (mut rx, mut tx) = io::simplex(4);
    let writer = gort::spawn(async move {
        tx.write_all(b"a longer message than the buffer")
            .await
            .unwrap();
        tx.shutdown().await.unwrap();
    });
    let mut got = String::new();
    rx.read_to_string(&mut got).await.unwrap();
    assert_eq!(got, "a longer message than the buffer");
    writer.await.unwrap();
}

#[gort::test]
async fn split_halves_in_two_tasks_then_unsplit() {
    let (ours, mut theirs) = io::duplex(64);
    let (mut rd, mut wr) = io::split(ours);
    assert!(rd.is_pair_of(&wr));

    let writer = gort::spawn(async move {
        wr.write_all(b"from the write half").await.unwrap();
        wr
    });
    let mut got = [0u8; 19];
    theirs.read_exact(&mut got).await.unwrap();
    assert_eq!(&got, b"from the write half");

    theirs.write_all(b"to the read half").await.unwrap();
    let mut back = [0u8; 16];
    rd.read_exact(&mut back).await.unwrap();
    assert_eq!(&back, b"to the read half");

    let wr = writer.await.unwrap();
    let mut whole = rd.unsplit(wr);
    whole.write_all(b"!").await.unwrap();
    assert_eq!(theirs.read_u8().await.unwrap(), b'!');
}

#[gort::test]
async fn read_u32_big_endian_versus_little_endian() {
    let mut out = Vec::new();
    out.write_u32(0xDEAD_BEEF).await.unwrap();
    out.write_u32_le(0xDEAD_BEEF).await.unwrap();
    assert_eq!(out, [0xDE, 0xAD, 0xBE, 0xEF, 0xEF, 0xBE, 0xAD, 0xDE]);

    let mut source: &[u8] = &out;
    assert_eq!(source.read_u32().await.unwrap(), 0xDEAD_BEEF);
    assert_eq!(source.read_u32().await.unwrap(), 0xEFBE_ADDE);
    let mut source: &[u8] = &out;
    assert_eq!(source.read_u32_le().await.unwrap(), 0xEFBE_ADDE);
    assert_eq!(source.read_u32_le().await.unwrap(), 0xDEAD_BEEF);
    assert_eq!(
        source.read_u32().await.unwrap_err().kind(),
        ErrorKind::UnexpectedEof
    );
}

#[gort::test]
async fn take_and_chain_respect_their_limits() {
    let mut source: &[u8] = b"0123456789";
    let mut head = String::new();
    (&mut source)
        .take(3)
        .read_to_string(&mut head)
        .await
        .unwrap();
    assert_eq!(head, "012");
    assert_eq!(source, b"3456789", "take leaves the rest in the reader");

    let mut joined = String::new();
    (&b"ab"[..])
        .chain(&b"cd"[..])
        .take(3)
        .read_to_string(&mut joined)
        .await
        .unwrap();
    assert_eq!(joined, "abc");

    let mut all = Vec::new();
    let mut chain = io::empty().chain(&b"after empty"[..]);
    chain.read_to_end(&mut all).await.unwrap();
    assert_eq!(all, b"after empty");
}

#[gort::test]
async fn seek_on_a_cursor() {
    let mut cursor = Cursor::new(b"zero one two".to_vec());
    assert_eq!(cursor.seek(SeekFrom::Start(5)).await.unwrap(), 5);
    let mut word = [0u8; 3];
    cursor.read_exact(&mut word).await.unwrap();
    assert_eq!(&word, b"one");
    assert_eq!(cursor.stream_position().await.unwrap(), 8);
    assert_eq!(cursor.seek(SeekFrom::End(-3)).await.unwrap(), 9);
    cursor.write_all(b"TWO").await.unwrap();
    assert_eq!(cursor.rewind().await.unwrap(), 0);
    let mut all = String::new();
    cursor.read_to_string(&mut all).await.unwrap();
    assert_eq!(all, "zero one TWO");
    let err = cursor.seek(SeekFrom::Current(-100)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}

#[gort::test]
async fn copy_and_copy_buf_count_bytes() {
    let data = vec![42u8; 50_000];
    let mut sink = Vec::new();
    assert_eq!(io::copy(&mut &data[..], &mut sink).await.unwrap(), 50_000);
    assert_eq!(sink, data);

    let mut reader = BufReader::new(&data[..]);
    let mut counted = io::sink();
    assert_eq!(
        io::copy_buf(&mut reader, &mut counted).await.unwrap(),
        50_000
    );

    let mut endless = io::repeat(7).take(12_345);
    assert_eq!(
        io::copy(&mut endless, &mut io::sink()).await.unwrap(),
        12_345
    );
}

#[gort::test]
async fn join_makes_one_stream_of_a_reader_and_a_writer() {
    let (rx, mut peer_tx) = io::simplex(16);
    let (mut peer_rx, tx) = io::simplex(16);
    let mut stream = io::join(rx, tx);
    peer_tx.write_all(b"ping").await.unwrap();
    let mut buf = [0u8; 4];
    stream.read_exact(&mut buf).await.unwrap();
    stream.write_all(b"pong").await.unwrap();
    peer_rx.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"pong");
}
