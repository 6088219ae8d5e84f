//! `mpsc::Sender::send_timeout` where no runtime drives timers (a plain thread, before any
//! default runtime started) fails with tokio's panic rather than waiting for ever. Its own test
//! binary: another test starting the default runtime would make the timers driven.

use std::time::Duration;

use futures::FutureExt;

#[test]
#[should_panic(expected = "there is no reactor running")]
fn send_timeout_off_any_runtime_panics_instead_of_hanging() {
    let (tx, _rx) = gort::sync::mpsc::channel::<u32>(1);
    let _ = tx.send_timeout(1, Duration::from_secs(1)).now_or_never();
}
