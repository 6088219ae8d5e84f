//! The executor's `GORT_DEBUG` switches (Go's `GODEBUG`; the syntax is parsed by
//! `gort_context::debug_switch`).

use std::sync::OnceLock;

/// The settings the executor understands.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DebugSettings {
    /// `blockwarn=1`: report, once per spawn location, a G that blocked its thread inside one
    /// poll long enough for sysmon to replace its P (`rescue.rs`).
    pub(crate) blockwarn: bool,
}

/// The process's settings, from `GORT_DEBUG` at first use.
pub(crate) fn settings() -> DebugSettings {
    static SETTINGS: OnceLock<DebugSettings> = OnceLock::new();
    *SETTINGS.get_or_init(|| DebugSettings {
        blockwarn: gort_context::debug_switch("blockwarn"),
    })
}
