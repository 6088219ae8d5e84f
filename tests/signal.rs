//! `gort::signal`: deliveries reach every listener, coalesce, survive cancellation, and the
//! signals that cannot be handled are refused. Each test uses its own signal: they share the
//! process.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use gort::signal::unix::{signal, SignalKind};

fn raise(kind: SignalKind) {
    // SAFETY: `kill(getpid(), sig)` sends a signal to this process, which has a handler for it.
    let sent = unsafe { libc::kill(libc::getpid(), kind.as_raw_value()) };
    assert_eq!(sent, 0);
}

/// Whether `future` is ready when polled once (without a runtime's waker).
fn ready_now<F: Future>(future: F) -> bool {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    matches!(future.as_mut().poll(&mut cx), Poll::Ready(_))
}

#[gort::test]
async fn a_delivery_wakes_every_listener_once() {
    let kind = SignalKind::user_defined1();
    let mut first = signal(kind).unwrap();
    let mut second = signal(kind).unwrap();
    let waiter = gort::spawn(async move { first.recv().await });
    gort::task::yield_now().await;
    raise(kind);
    assert_eq!(waiter.await.unwrap(), Some(()));
    assert_eq!(second.recv().await, Some(()));
    assert!(!ready_now(second.recv()), "one delivery is one event");
}

#[gort::test]
async fn deliveries_before_a_receive_coalesce_into_one_event() {
    let kind = SignalKind::user_defined2();
    let mut listener = signal(kind).unwrap();
    for _ in 0..3 {
        raise(kind);
    }
    listener.recv().await;
    assert!(
        !ready_now(listener.recv()),
        "three pending deliveries are one event"
    );
    raise(kind);
    listener.recv().await;
}

/// Only deliveries after a listener exists count for it.
#[gort::test]
async fn a_new_listener_does_not_see_earlier_deliveries() {
    let kind = SignalKind::window_change();
    let mut early = signal(kind).unwrap();
    raise(kind);
    early.recv().await;
    let mut late = signal(kind).unwrap();
    assert!(!ready_now(late.recv()));
}

/// A `recv` dropped before the delivery loses nothing: the next `recv` sees it.
#[gort::test]
async fn a_cancelled_recv_loses_no_delivery() {
    let kind = SignalKind::hangup();
    let mut listener = signal(kind).unwrap();
    let outcome = gort::select! {
        _ = listener.recv() => "delivered",
        default => "cancelled",
    };
    assert_eq!(outcome, "cancelled");
    raise(kind);
    listener.recv().await;
}

#[gort::test]
async fn ctrl_c_completes_on_sigint() {
    // Install the handler first, so that raising SIGINT cannot kill the test process.
    let _installed = signal(SignalKind::interrupt()).unwrap();
    let mut ctrl_c = pin!(gort::signal::ctrl_c());
    assert!(!ready_now(ctrl_c.as_mut()), "no SIGINT yet");
    raise(SignalKind::interrupt());
    ctrl_c.await.unwrap();
}

#[gort::test]
async fn unhandleable_and_invalid_signals_are_refused() {
    for forbidden in [
        libc::SIGKILL,
        libc::SIGSTOP,
        libc::SIGSEGV,
        libc::SIGILL,
        libc::SIGFPE,
    ] {
        let err = signal(SignalKind::from_raw(forbidden)).unwrap_err();
        assert!(err.to_string().contains("refusing"), "{err}");
    }
    for invalid in [0, -1, 1000] {
        assert!(signal(SignalKind::from_raw(invalid)).is_err(), "{invalid}");
    }
}

#[test]
fn signal_kinds_are_the_platform_numbers() {
    assert_eq!(SignalKind::interrupt().as_raw_value(), libc::SIGINT);
    assert_eq!(SignalKind::terminate().as_raw_value(), libc::SIGTERM);
    assert_eq!(libc::c_int::from(SignalKind::child()), libc::SIGCHLD);
    assert_eq!(SignalKind::from(libc::SIGUSR1), SignalKind::user_defined1());
}
