//! Collections forced from another thread while tasks on four threads clone, drop, send and
//! receive handles (cycles made and broken every hop): nothing reachable is freed (every node
//! read along the way is intact, every message arrives exactly once) and nothing is freed
//! twice (each destructor runs once, counted).

mod common;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use gort::gc::{Gc, GcCell};
use gort::{Receiver, Sender};

use common::{runtime, watchdog};

/// A node that knows its label and counts its drops.
#[derive(gort::gc::Trace)]
struct Node {
    #[trace(skip)]
    label: u64,
    links: GcCell<Vec<Gc<Node>>>,
    #[trace(skip)]
    drops: Arc<AtomicUsize>,
}

impl Drop for Node {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::SeqCst);
    }
}

/// What travels around the ring: an id, a node (in a cycle with its predecessor), and now and
/// then a channel that holds its own receiver.
#[derive(gort::gc::Trace)]
struct Msg {
    #[trace(skip)]
    id: u64,
    node: Gc<Node>,
    spare: Option<Receiver<Msg>>,
}

const TASKS: usize = 8;
const MESSAGES: u64 = 3000;
const HOPS: u64 = 24;
const WINDOW: u64 = 16;
/// Collections that must run while messages are in flight.
const MIN_COLLECTIONS: usize = 11;

#[test]
fn handles_move_between_threads_while_collections_run() {
    let _watchdog = watchdog(Duration::from_secs(120), "gc stress");
    let drops = Arc::new(AtomicUsize::new(0));
    let created = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    // Collections so far: the ring keeps moving handles until at least `MIN_COLLECTIONS` ran,
    // however fast the machine is, so the test never depends on timing.
    let collections = Arc::new(AtomicUsize::new(0));
    let collector = {
        let stop = Arc::clone(&stop);
        let collections = Arc::clone(&collections);
        std::thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                gort::gc::collect();
                collections.fetch_add(1, Ordering::SeqCst);
                std::thread::sleep(Duration::from_micros(200));
            }
        })
    };
    let collections_so_far = Arc::clone(&collections);
    let new_node = {
        let (drops, created) = (Arc::clone(&drops), Arc::clone(&created));
        move |label: u64| {
            created.fetch_add(1, Ordering::SeqCst);
            Gc::new(Node {
                label,
                links: GcCell::new(Vec::new()),
                drops: Arc::clone(&drops),
            })
        }
    };
    let rt = runtime(4);
    let arrived = rt.block_on(async move {
        let channels: Vec<(Sender<Msg>, Receiver<Msg>)> =
            (0..TASKS).map(|_| gort::chan![Msg; 4]).collect();
        let (done_tx, done_rx) = gort::chan![u64; 64];
        let mut workers = Vec::new();
        for i in 0..TASKS {
            let rx = channels[i].1.clone();
            let next = channels[(i + 1) % TASKS].0.clone();
            let done = done_tx.clone();
            let new_node = new_node.clone();
            workers.push(gort::spawn(async move {
                while let Some(mut msg) = rx.recv().await {
                    let hop = msg.node.label % 1000;
                    assert_eq!(msg.node.label / 1000, msg.id, "a live node was corrupted");
                    for link in msg.node.links.lock().iter() {
                        assert_eq!(link.label / 1000, msg.id, "a live link was corrupted");
                    }
                    if hop + 1 == HOPS {
                        done.send(msg.id).await.expect("main is waiting");
                        continue;
                    }
                    // A new node in a cycle with the old one; the old one is let go.
                    let fresh = new_node(msg.id * 1000 + hop + 1);
                    fresh.links.lock().push(msg.node.clone());
                    msg.node.links.lock().push(fresh.clone());
                    msg.node = fresh;
                    if hop % 5 == 0 {
                        let (tx, spare) = gort::chan![Msg; 1];
                        let inner = Msg {
                            id: msg.id,
                            node: msg.node.clone(),
                            spare: None,
                        };
                        assert!(tx.try_send(inner).is_ok(), "room");
                        msg.spare = Some(spare);
                    } else {
                        msg.spare = None;
                    }
                    next.send(msg).await.expect("ring open");
                }
            }));
        }
        drop(done_tx);
        let senders: Vec<Sender<Msg>> = channels.iter().map(|(tx, _)| tx.clone()).collect();
        drop(channels);
        // At most `WINDOW` messages in flight: a ring of bounded channels full everywhere
        // would deadlock.
        let send = |id: u64| {
            let msg = Msg {
                id,
                node: new_node(id * 1000),
                spare: None,
            };
            senders[id as usize % TASKS].send(msg)
        };
        let mut next_id = 0;
        while next_id < WINDOW {
            send(next_id).await.expect("ring open");
            next_id += 1;
        }
        let mut arrived = HashSet::new();
        let keep_going = |next_id: u64| {
            next_id < MESSAGES || collections_so_far.load(Ordering::SeqCst) < MIN_COLLECTIONS
        };
        while (arrived.len() as u64) < next_id {
            let id = done_rx.recv().await.expect("a message");
            assert!(arrived.insert(id), "message {id} arrived twice");
            if keep_going(next_id) {
                send(next_id).await.expect("ring open");
                next_id += 1;
            }
        }
        // Nothing is in flight: close the ring so that every worker ends; a failed check inside
        // one fails the test here.
        for sender in &senders {
            sender.close();
        }
        drop(senders);
        for worker in workers {
            worker.await.expect("a worker failed");
        }
        arrived
    });
    drop(rt);
    stop.store(true, Ordering::SeqCst);
    collector.join().expect("collector");
    assert!(arrived.len() as u64 >= MESSAGES);
    assert!(collections.load(Ordering::SeqCst) >= MIN_COLLECTIONS);
    gort::gc::collect();
    assert_eq!(
        drops.load(Ordering::SeqCst),
        created.load(Ordering::SeqCst),
        "every node dropped exactly once"
    );
}

/// A task blocks its poll (pinned) on a `std` mutex that a plain thread holds while it sends on
/// a channel (which must pin, and waits while a collection is stopping the world). Without a
/// way out, the collection waits for the task, the task for the thread, and the thread for the
/// collection. The collector gives up after a while, lets everyone run, and tries again.
#[test]
fn a_collection_does_not_deadlock_with_a_poll_blocked_on_a_thread_waiting_to_pin() {
    const ROUNDS: u64 = 1000;
    let _watchdog = watchdog(Duration::from_secs(120), "gc stop vs blocked poll");
    let stop = Arc::new(AtomicBool::new(false));
    let collector = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                gort::gc::collect();
            }
        })
    };
    let shared = Arc::new(std::sync::Mutex::new(0u64));
    // Room for every value: the sender must never wait for the receiver while it holds the
    // lock (that would deadlock with or without a collector).
    let (tx, rx) = gort::chan![u64; ROUNDS as usize];
    let sender = {
        let shared = Arc::clone(&shared);
        std::thread::spawn(move || {
            for i in 0..ROUNDS {
                let guard = shared.lock().unwrap();
                // Widens the window in which the task is blocked on the lock, pinned.
                std::thread::sleep(Duration::from_micros(20));
                tx.send_blocking(i).expect("receiver alive");
                drop(guard);
            }
        })
    };
    let rt = runtime(2);
    let received = rt.block_on(async move {
        gort::spawn(async move {
            let mut received = 0;
            for _ in 0..ROUNDS {
                // Blocks the thread, pinned, while the sender holds the lock.
                *shared.lock().unwrap() += 1;
                received += rx.recv().await.map_or(0, |_| 1);
            }
            received
        })
        .await
        .expect("receiver")
    });
    sender.join().expect("sender");
    stop.store(true, Ordering::SeqCst);
    collector.join().expect("collector");
    assert_eq!(received, ROUNDS);
}

/// Blocking work runs outside the pin: a collection started while a `spawn_blocking` closure
/// waits finishes without it (the closure here waits for a signal sent only after the
/// collection returned, so a collection that waited for it would never return).
#[test]
fn a_collection_does_not_wait_for_blocking_work() {
    let _watchdog = watchdog(Duration::from_secs(60), "gc vs spawn_blocking");
    let rt = runtime(2);
    rt.block_on(async {
        let (started_tx, started_rx) = std::sync::mpsc::channel();
        let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
        let blocking = gort::task::spawn_blocking(move || {
            started_tx.send(()).expect("test alive");
            release_rx.recv().expect("released");
            "done"
        });
        gort::task::block_in_place(|| started_rx.recv().expect("started"));
        let collected = std::thread::spawn(gort::gc::collect).join();
        assert!(collected.is_ok(), "the collection panicked");
        release_tx.send(()).expect("closure waiting");
        assert_eq!(blocking.await.expect("blocking task"), "done");
    });
}
