//! The arena's `GORT_DEBUG` switch: `leakcheck=1` makes every collection a leak pass that
//! prints each leaked task to stderr once (Go's goroutine leak profile, printed):
//!
//! ```text
//! gort: goroutine 7 [chan receive, leaked]: spawned at src/main.rs:12:5
//! ```

use std::collections::HashSet;
use std::sync::{Mutex, OnceLock};

use crate::tasks::Leak;

/// Prints the leaks not printed before. `leaks` is every leak the pass found, so the set of
/// printed ones is replaced by it: a task that is no longer leaked (reclaimed, or gone with its
/// runtime) never is again (ids are not reused), and the set stays as large as the leaks that
/// exist now, instead of growing for ever.
pub(crate) fn report_leaks(leaks: &[Leak]) {
    static REPORTED: Mutex<Option<HashSet<u64>>> = Mutex::new(None);
    let mut reported = crate::lock(&REPORTED);
    let (fresh, now) = unreported(reported.take().unwrap_or_default(), leaks);
    for leak in fresh {
        eprintln!("gort: {leak}");
    }
    *reported = Some(now);
}

/// The leaks of `leaks` that are not in `reported`, and the set to remember instead of it.
fn unreported(reported: HashSet<u64>, leaks: &[Leak]) -> (Vec<&Leak>, HashSet<u64>) {
    let fresh = leaks
        .iter()
        .filter(|leak| !reported.contains(&leak.id))
        .collect();
    (fresh, leaks.iter().map(|leak| leak.id).collect())
}

/// Whether `GORT_DEBUG` has `leakcheck=1`.
pub(crate) fn leakcheck() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| gort_context::debug_switch("leakcheck"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leak(id: u64) -> Leak {
        Leak {
            id,
            location: std::panic::Location::caller(),
            name: None,
            wait_reason: "chan receive",
        }
    }

    #[test]
    fn each_leak_is_reported_once_and_only_live_ones_are_remembered() {
        let ids = |fresh: Vec<&Leak>| fresh.iter().map(|l| l.id).collect::<Vec<_>>();
        let first = [leak(1), leak(2)];
        let (fresh, reported) = unreported(HashSet::new(), &first);
        assert_eq!(ids(fresh), [1, 2]);
        let second = [leak(1), leak(2), leak(3)];
        let (fresh, reported) = unreported(reported, &second);
        assert_eq!(ids(fresh), [3]);
        // 1 and 2 were reclaimed: they are forgotten, so the set does not grow for ever.
        let third = [leak(3)];
        let (fresh, reported) = unreported(reported, &third);
        assert!(fresh.is_empty());
        assert_eq!(reported, HashSet::from([3]));
    }
}
