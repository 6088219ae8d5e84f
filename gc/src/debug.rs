//! The arena's `GORT_DEBUG` switch: `leakcheck=1` makes every collection a leak pass that
//! prints each leaked task to stderr (Go's goroutine leak profile, printed).

use std::sync::OnceLock;

/// Whether `GORT_DEBUG` has `leakcheck=1`.
pub(crate) fn leakcheck() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| gort_context::debug_switch("leakcheck"))
}
