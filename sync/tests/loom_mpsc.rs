//! loom models of the mpsc and oneshot protocols on the real code (`src/loom.rs` swaps in
//! loom's mutex and atomics): the strong-sender count (the last drop, `upgrade` racing it), the
//! wakes of a parked receiver (by a send, by the last sender, by the last permit of a closed
//! channel), the grant of a freed slot to a parked sender, and oneshot's send racing a close.
//! A lost wakeup shows as a deadlock of `loom::future::block_on`.
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test -p gort-sync --test loom_mpsc --release
//! --target-dir target/loom`.
#![cfg(loom)]

use gort_sync::mpsc::{self, error::TryRecvError};
use gort_sync::oneshot;
use loom::future::block_on;
use loom::thread;

fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(3);
    builder.check(f);
}

/// A send and then the last sender's drop, on another thread, wake a receiver parked before,
/// between or after them: it gets the value, then `None`.
#[test]
fn a_parked_receive_sees_the_value_then_the_end() {
    model(|| {
        let (tx, mut rx) = mpsc::channel::<u32>(1);
        let sender = thread::spawn(move || {
            tx.try_send(1).expect("a free slot");
            drop(tx);
        });
        assert_eq!(block_on(rx.recv()), Some(1));
        assert_eq!(block_on(rx.recv()), None);
        sender.join().unwrap();
    });
}

/// `upgrade` racing the last strong sender's drop either gets a working sender (and the
/// channel ends when that one goes) or nothing; never a sender to an ended channel.
#[test]
fn an_upgrade_racing_the_last_drop_gets_a_live_sender_or_none() {
    model(|| {
        let (tx, mut rx) = mpsc::channel::<u32>(1);
        let weak = tx.downgrade();
        let dropper = thread::spawn(move || drop(tx));
        let upgraded = weak.upgrade();
        let sent = upgraded.map(|tx| tx.try_send(5).is_ok());
        dropper.join().unwrap();
        let received = block_on(rx.recv());
        match sent {
            Some(true) => assert_eq!(received, Some(5)),
            Some(false) => panic!("an upgraded sender found the channel closed"),
            None => assert_eq!(received, None),
        }
        assert_eq!(block_on(rx.recv()), None);
        assert_eq!(weak.strong_count(), 0);
    });
}

/// On a closed channel the receiver waits for the last outstanding permit; giving it back on
/// another thread ends the receive, wherever the receiver parked.
#[test]
fn the_last_permit_given_back_ends_a_closed_receive() {
    model(|| {
        let (tx, mut rx) = mpsc::channel::<u32>(2);
        let permit = tx.clone().try_reserve_owned().expect("a free slot");
        rx.close();
        let releaser = thread::spawn(move || drop(permit));
        assert_eq!(block_on(rx.recv()), None);
        releaser.join().unwrap();
        assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
        drop(tx);
    });
}

/// A sender parked on a full channel gets the slot the receiver frees on another thread.
#[test]
fn a_freed_slot_reaches_the_parked_sender() {
    model(|| {
        let (tx, mut rx) = mpsc::channel::<u32>(1);
        tx.try_send(0).expect("a free slot");
        let sender = thread::spawn(move || block_on(tx.send(1)).is_ok());
        assert_eq!(block_on(rx.recv()), Some(0));
        assert_eq!(block_on(rx.recv()), Some(1));
        assert!(sender.join().unwrap());
    });
}

/// A oneshot send racing the receiver's close: the value is either taken after the close, or
/// comes back to the sender; never both, never lost.
#[test]
fn a_oneshot_send_racing_a_close_loses_nothing() {
    model(|| {
        let (tx, mut rx) = oneshot::channel::<u32>();
        let sender = thread::spawn(move || tx.send(7));
        rx.close();
        let sent = sender.join().unwrap();
        match (sent, rx.try_recv()) {
            (Ok(()), Ok(7)) | (Err(7), Err(oneshot::error::TryRecvError::Closed)) => {}
            (sent, received) => panic!("sent {sent:?}, received {received:?}"),
        }
    });
}

/// A oneshot receiver parked before or after the send on another thread is woken with the
/// value.
#[test]
fn a_parked_oneshot_receive_is_woken_by_the_send() {
    model(|| {
        let (tx, rx) = oneshot::channel::<u32>();
        let sender = thread::spawn(move || tx.send(3).is_ok());
        assert_eq!(block_on(rx), Ok(3));
        assert!(sender.join().unwrap());
    });
}
