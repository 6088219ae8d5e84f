//! tokio-test 0.4, unchanged, on gort: its mock IO `Builder` scripting reads and writes, and
//! `task::spawn` for polling a future by hand.

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

#[tokio::test]
async fn mock_io_plays_a_scripted_conversation() {
    let mock = tokio_test::io::Builder::new()
        .read(b"HELO gort\r\n")
        .write(b"250 hello gort\r\n")
        .read(b"QUIT\r\n")
        .write(b"221 bye\r\n")
        .build();
    let mut conn = BufReader::new(mock);
    let mut line = String::new();
    let mut served = 0;
    while conn.read_line(&mut line).await.unwrap() > 0 {
        let reply = match line.trim_end() {
            command if command.starts_with("HELO ") => format!("250 hello {}\r\n", &command[5..]),
            "QUIT" => "221 bye\r\n".to_string(),
            other => panic!("unexpected command {other:?}"),
        };
        conn.get_mut().write_all(reply.as_bytes()).await.unwrap();
        served += 1;
        line.clear();
    }
    assert_eq!(served, 2);
}

#[test]
fn a_hand_polled_future_sees_its_wakeup() {
    let (tx, rx) = tokio::sync::oneshot::channel::<u8>();
    let mut task = tokio_test::task::spawn(rx);
    tokio_test::assert_pending!(task.poll());
    tx.send(9).unwrap();
    assert!(task.is_woken());
    assert_eq!(tokio_test::assert_ready!(task.poll()).unwrap(), 9);
}
