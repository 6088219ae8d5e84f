//! The arena's `GORT_DEBUG` switch: `leakcheck=1` makes every collection a leak pass that
//! prints each leaked task to stderr once (Go's goroutine leak profile, printed):
//!
//! ```text
//! gort: goroutine 7 [chan receive, leaked]: spawned at src/main.rs:12:5
//! ```

use std::collections::HashSet;
use std::sync::{Mutex, OnceLock};

use crate::tasks::Leak;

/// Prints the leaks not printed before.
pub(crate) fn report_leaks(leaks: &[Leak]) {
    static REPORTED: Mutex<Option<HashSet<u64>>> = Mutex::new(None);
    let mut reported = crate::lock(&REPORTED);
    let reported = reported.get_or_insert_with(HashSet::new);
    for leak in leaks {
        if reported.insert(leak.id) {
            eprintln!("gort: {leak}");
        }
    }
}

/// Whether `GORT_DEBUG` has `leakcheck=1`.
pub(crate) fn leakcheck() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| gort_context::debug_switch("leakcheck"))
}
