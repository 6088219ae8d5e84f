//! Loom models of a poll descriptor (`poll_desc.rs`): a task that parks on a socket is never
//! left parked after an edge, whatever the interleaving of its `poll_ready` / `clear_readiness`
//! with the reactor's `set_ready` and `close`.
//!
//! Both sides run on spawned threads: loom did not explore the spawned side running first while
//! the model's own thread went on, and a model written that way missed a planted bug.
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test -p gort-reactor --test loom_poll_desc --release`.
#![cfg(loom)]

use std::sync::atomic::AtomicUsize as ParkedCount;
use std::task::{Context, Poll, Wake, Waker};

use gort_reactor::poll_desc::{Direction, PollDesc};
use gort_reactor::Ready;
use loom::sync::atomic::{AtomicBool, Ordering};
use loom::sync::Arc;
use loom::thread;

/// A waker that records that it was called.
struct Flag(AtomicBool);

impl Wake for Flag {
    fn wake(self: std::sync::Arc<Self>) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// What the reader saw at the end: ready (or closed), or woken after parking.
fn ready_or_woken(ready: bool, flag: &Flag) -> bool {
    ready || flag.0.load(Ordering::SeqCst)
}

/// A descriptor and the socket buffer behind it: whether data is waiting, as the kernel knows.
struct Socket {
    desc: PollDesc,
    data: AtomicBool,
}

/// Runs `reader` and `peer` on two threads over one socket; `setup` runs first. The reader
/// returns whether it ended ready (or with data) and its waker's flag.
fn model(
    setup: fn(&Socket),
    reader: fn(&Socket) -> (bool, std::sync::Arc<Flag>),
    peer: fn(&Socket),
    failure: &'static str,
) {
    loom::model(move || {
        let socket = Arc::new(Socket {
            desc: PollDesc::new(0),
            data: AtomicBool::new(false),
        });
        setup(&socket);
        let peer = {
            let socket = Arc::clone(&socket);
            thread::spawn(move || peer(&socket))
        };
        let reader = {
            let socket = Arc::clone(&socket);
            thread::spawn(move || reader(&socket))
        };
        let (ready, flag) = reader.join().unwrap();
        peer.join().unwrap();
        assert!(ready_or_woken(ready, &flag), "{failure}");
    });
}

/// A fresh waker flag and a context over it.
fn flag() -> (std::sync::Arc<Flag>, Waker) {
    let flag = std::sync::Arc::new(Flag(AtomicBool::new(false)));
    let waker = Waker::from(std::sync::Arc::clone(&flag));
    (flag, waker)
}

/// The reader tries a read: it takes the data if the kernel has some, else (`WouldBlock`)
/// clears readiness and polls again, as `Registered::poll_io` does.
fn read_then_poll(socket: &Socket) -> (bool, std::sync::Arc<Flag>) {
    let desc = &socket.desc;
    let (flag, waker) = flag();
    let mut cx = Context::from_waker(&waker);
    let parked = ParkedCount::new(0);
    let event = match desc.poll_ready(Direction::Read, &mut cx, &parked) {
        Poll::Ready(Ok(event)) => event,
        // Already closed: the reader sees it at once.
        Poll::Ready(Err(_)) => return (true, flag),
        Poll::Pending => panic!("a new descriptor starts ready"),
    };
    if socket.data.swap(false, Ordering::SeqCst) {
        return (true, flag);
    }
    desc.clear_readiness(event);
    let ready = desc
        .poll_ready(Direction::Read, &mut cx, &parked)
        .is_ready();
    (ready, flag)
}

/// The reader read fewer bytes than it asked for and polls again.
fn short_read_then_poll(socket: &Socket) -> (bool, std::sync::Arc<Flag>) {
    let desc = &socket.desc;
    let (flag, waker) = flag();
    let mut cx = Context::from_waker(&waker);
    let parked = ParkedCount::new(0);
    let Poll::Ready(Ok(event)) = desc.poll_ready(Direction::Read, &mut cx, &parked) else {
        panic!("the data's edge made it ready");
    };
    desc.clear_after_short_transfer(event);
    let ready = desc
        .poll_ready(Direction::Read, &mut cx, &parked)
        .is_ready();
    (ready, flag)
}

/// Data (or the peer's FIN, with `read_closed`) arrives, and the reactor dispatches its edge.
fn edge(socket: &Socket, read_closed: bool) {
    socket.data.store(true, Ordering::SeqCst);
    let mut wake = Vec::new();
    let ready = if read_closed {
        Ready::READABLE | Ready::READ_CLOSED
    } else {
        Ready::READABLE
    };
    socket.desc.set_ready(ready, true, &mut wake);
    wake.into_iter().for_each(Waker::wake);
}

/// Data and its edge during the reader's read / WouldBlock / clear / park sequence: afterwards
/// the reader has the data, is ready, or is woken, whichever order the steps land in.
#[test]
fn an_edge_is_never_lost_between_would_block_and_park() {
    model(
        |_| {},
        read_then_poll,
        |socket| edge(socket, false),
        "the reader parked after the edge and was never woken",
    );
}

/// Deregistration during the same sequence (no data comes): the reader is woken or sees the
/// close.
#[test]
fn close_is_never_lost_between_would_block_and_park() {
    model(
        |_| {},
        read_then_poll,
        |socket| {
            let mut wake = Vec::new();
            socket.desc.close(&mut wake);
            wake.into_iter().for_each(Waker::wake);
        },
        "the reader parked after the close and was never woken",
    );
}

/// A short read racing the edge that carries the peer's FIN: the reader may skip its next read
/// only if it will be woken by that edge; it is never left parked with a FIN pending.
#[test]
fn a_short_read_never_hides_a_fin() {
    model(
        |socket| edge(socket, false),
        short_read_then_poll,
        |socket| edge(socket, true),
        "the FIN's edge was hidden by the short read",
    );
}
