//! Waking many wakers when one of them may panic.
//!
//! A waker is user code: a gort channel, timer or socket may be polled by any executor, with any
//! waker, and `wake` may panic. Waking a batch with `for_each(Waker::wake)` stops at the first
//! panic and drops the rest unwoken: one bad waker left every other task parked on the same
//! timer deadline, socket batch or closed channel asleep for ever (issue 14's fault tests).
//! [`wake_all`] wakes them all, then passes the first panic on to its caller, which is where it
//! belongs; a runtime thread waking on nobody's behalf catches it there (the executor's
//! `context::collect_wakes`).

use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::task::Waker;

/// Wakes every waker of `wakers`, even if some panic; then resumes the first panic, if any
/// (later ones are dropped).
pub fn wake_all(wakers: impl IntoIterator<Item = Waker>) {
    let mut first_panic = None;
    for waker in wakers {
        if let Err(payload) = catch_unwind(AssertUnwindSafe(|| waker.wake())) {
            first_panic.get_or_insert(payload);
        }
    }
    if let Some(payload) = first_panic {
        resume_unwind(payload);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::Wake;

    use super::*;

    struct Counting(AtomicUsize, bool);

    impl Wake for Counting {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
            assert!(!self.1, "this waker panics");
        }
    }

    #[test]
    fn every_waker_is_woken_before_the_first_panic_goes_on() {
        let good = Arc::new(Counting(AtomicUsize::new(0), false));
        let bad = Arc::new(Counting(AtomicUsize::new(0), true));
        let wakers = [&good, &bad, &good, &bad, &good].map(|w| Waker::from(Arc::clone(w)));
        let result = catch_unwind(AssertUnwindSafe(|| wake_all(wakers)));
        assert!(result.is_err(), "the panic reaches the caller");
        assert_eq!(good.0.load(Ordering::SeqCst), 3);
        assert_eq!(bad.0.load(Ordering::SeqCst), 2);
    }
}
