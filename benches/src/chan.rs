//! One interface over the bounded channels the channel workloads compare, so that each workload
//! body is written once: gort's Go channels on gort, and on tokio its own `mpsc` and the two
//! runtime-agnostic channel crates most used with it, `async-channel` and `flume`.
//!
//! gort has two channel families: its Go channels (`gort::chan`, [`GortChan`]), which the
//! channel rows compare with tokio's `mpsc`, and tokio's own API (`gort::sync::mpsc`,
//! [`GortMpsc`]), which the tokio-API rows compare with the same tokio `mpsc` call for call.
//!
//! Each implementation names the runtime it runs on ([`Chan::Runtime`]), so a workload generic
//! over [`Chan`] alone picks both: `pingpong1::<Flume>` is flume's channels on a tokio runtime.
//! As with [`Rt`], every method forwards straight to the crate's own API; the only wrapping is
//! the `expect` on a send, whose failure would be a bug in the workload.
//!
//! Messages are `u64`, Go's `chan uint64` (a word, like Go's `chan int`).
//!
//! Rendezvous (capacity 0, Go's unbuffered channel): gort and flume have it; tokio's `mpsc` and
//! `async-channel` refuse a capacity of 0, so [`Chan::bounded`] gives them the smallest buffer
//! there is, 1.

use std::future::Future;

use crate::{Gort, Rt, Tokio};

/// A bounded MPMC (or, for tokio, MPSC) channel of `u64` on its runtime.
pub trait Chan: 'static {
    /// The runtime the channel's tasks run on.
    type Runtime: Rt;

    /// The sending half; cloned once per producer.
    type Sender: Clone + Send + 'static;

    /// The receiving half (one receiver per channel in every workload).
    type Receiver: Send + 'static;

    /// A channel that buffers `cap` messages: capacity 0 is a rendezvous where the crate has one
    /// (gort, flume) and a buffer of 1 where it does not (tokio's `mpsc`, `async-channel`).
    fn bounded(cap: usize) -> (Self::Sender, Self::Receiver);

    /// Sends `msg`, waiting while the buffer is full (at capacity 0: until a receiver takes it).
    /// Panics if every receiver is gone, which no workload lets happen.
    fn send(tx: &Self::Sender, msg: u64) -> impl Future<Output = ()> + Send;

    /// The next message, or `None` once every sender is gone and the buffer is drained.
    fn recv(rx: &mut Self::Receiver) -> impl Future<Output = Option<u64>> + Send;
}

/// gort's Go channels (`gort::chan`), on gort.
pub struct GortChan;

impl Chan for GortChan {
    type Runtime = Gort;

    type Sender = gort::Sender<u64>;

    type Receiver = gort::Receiver<u64>;

    fn bounded(cap: usize) -> (Self::Sender, Self::Receiver) {
        gort::chan::<u64>(cap)
    }

    async fn send(tx: &Self::Sender, msg: u64) {
        if tx.send(msg).await.is_err() {
            panic!("sending on a channel whose receivers are gone");
        }
    }

    fn recv(rx: &mut Self::Receiver) -> impl Future<Output = Option<u64>> + Send {
        rx.recv()
    }
}

/// tokio's `tokio::sync::mpsc` bounded channel, on tokio; capacity 0 becomes 1 (tokio has no
/// rendezvous).
pub struct TokioMpsc;

impl Chan for TokioMpsc {
    type Runtime = Tokio;

    type Sender = tokio::sync::mpsc::Sender<u64>;

    type Receiver = tokio::sync::mpsc::Receiver<u64>;

    fn bounded(cap: usize) -> (Self::Sender, Self::Receiver) {
        tokio::sync::mpsc::channel(cap.max(1))
    }

    async fn send(tx: &Self::Sender, msg: u64) {
        tx.send(msg)
            .await
            .expect("sending on a channel whose receiver is gone");
    }

    fn recv(rx: &mut Self::Receiver) -> impl Future<Output = Option<u64>> + Send {
        rx.recv()
    }
}

/// gort's `gort::sync::mpsc` bounded channel (tokio's `mpsc` API), on gort; capacity 0 becomes 1,
/// as for [`TokioMpsc`] (tokio's API has no rendezvous).
pub struct GortMpsc;

impl Chan for GortMpsc {
    type Runtime = Gort;

    type Sender = gort::sync::mpsc::Sender<u64>;

    type Receiver = gort::sync::mpsc::Receiver<u64>;

    fn bounded(cap: usize) -> (Self::Sender, Self::Receiver) {
        gort::sync::mpsc::channel(cap.max(1))
    }

    async fn send(tx: &Self::Sender, msg: u64) {
        tx.send(msg)
            .await
            .expect("sending on a channel whose receiver is gone");
    }

    fn recv(rx: &mut Self::Receiver) -> impl Future<Output = Option<u64>> + Send {
        rx.recv()
    }
}

/// `async_channel::bounded`, on tokio; capacity 0 becomes 1 (async-channel has no rendezvous).
pub struct AsyncChannel;

impl Chan for AsyncChannel {
    type Runtime = Tokio;

    type Sender = async_channel::Sender<u64>;

    type Receiver = async_channel::Receiver<u64>;

    fn bounded(cap: usize) -> (Self::Sender, Self::Receiver) {
        async_channel::bounded(cap.max(1))
    }

    async fn send(tx: &Self::Sender, msg: u64) {
        tx.send(msg)
            .await
            .expect("sending on a channel whose receivers are gone");
    }

    async fn recv(rx: &mut Self::Receiver) -> Option<u64> {
        rx.recv().await.ok()
    }
}

/// `flume::bounded` with its async API (`send_async`, `recv_async`), on tokio; capacity 0 is
/// flume's rendezvous.
pub struct Flume;

impl Chan for Flume {
    type Runtime = Tokio;

    type Sender = flume::Sender<u64>;

    type Receiver = flume::Receiver<u64>;

    fn bounded(cap: usize) -> (Self::Sender, Self::Receiver) {
        flume::bounded(cap)
    }

    async fn send(tx: &Self::Sender, msg: u64) {
        tx.send_async(msg)
            .await
            .expect("sending on a channel whose receivers are gone");
    }

    async fn recv(rx: &mut Self::Receiver) -> Option<u64> {
        rx.recv_async().await.ok()
    }
}
