//! The coop budget: a G looping over resources that are always ready (sleeps already due, a
//! socket with data buffered) yields its P after at most a budget's worth of results (128, as
//! tokio), so on one P a second G still runs. Without the budget these loops would hold the
//! only P until they end, and the G that ends them would never run.

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::io::{AsyncReadExt, AsyncWriteExt};
use gort::net::{TcpListener, TcpStream};

use common::{runtime, watchdog};

/// A budget's worth of results, plus slack for the rounds before the second G is queued.
const WITHIN_ONE_BUDGET: usize = 2 * 128;

#[test]
fn a_loop_over_due_sleeps_yields_within_one_budget() {
    let _watchdog = watchdog(Duration::from_secs(60), "loop over due sleeps");
    let ops = runtime(1).block_on(async {
        gort::spawn(async {
            // Queued on this G's P, the only one: it runs only when this G yields the P.
            let stop = Arc::new(AtomicBool::new(false));
            let flag = Arc::clone(&stop);
            gort::go!(async move { flag.store(true, Ordering::SeqCst) });
            let mut ops = 0;
            while !stop.load(Ordering::SeqCst) {
                gort::time::sleep(Duration::ZERO).await;
                ops += 1;
            }
            ops
        })
        .await
        .expect("looper")
    });
    assert!(
        ops <= WITHIN_ONE_BUDGET,
        "{ops} ready sleeps before the other G ran"
    );
}

#[test]
fn a_loop_over_a_socket_with_data_yields_within_one_budget() {
    let _watchdog = watchdog(Duration::from_secs(60), "loop over a ready socket");
    let stop = Arc::new(AtomicBool::new(false));
    let read = Arc::new(AtomicUsize::new(0));
    let ops = runtime(1).block_on({
        let (stop, read) = (Arc::clone(&stop), Arc::clone(&read));
        async move {
            let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
            let addr = listener.local_addr().expect("addr");
            let mut client = TcpStream::connect(addr).await.expect("connect");
            let (mut server, _) = listener.accept().await.expect("accept");
            // 64 KiB buffered: far more one-byte reads than a budget.
            server.write_all(&[7u8; 65536]).await.expect("write");
            let looper = gort::spawn(async move {
                // Queued on this G's P, the only one: it runs only when this G yields the P.
                let flag = Arc::clone(&stop);
                gort::go!(async move { flag.store(true, Ordering::SeqCst) });
                let mut byte = [0u8; 1];
                let mut ops = 0;
                while !stop.load(Ordering::SeqCst) {
                    client.read_exact(&mut byte).await.expect("read");
                    read.fetch_add(1, Ordering::SeqCst);
                    ops += 1;
                }
                ops
            });
            looper.await.expect("looper")
        }
    });
    assert!(
        ops <= WITHIN_ONE_BUDGET,
        "{ops} ready reads before the other G ran"
    );
    assert!(
        read.load(Ordering::SeqCst) < 65536,
        "the looper read everything first"
    );
}
