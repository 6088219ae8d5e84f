//! `GORT_DEBUG`: diagnostic switches read once from the environment (Go's `GODEBUG`).
//!
//! The variable is a comma-separated list of `name=value` settings, e.g.
//! `GORT_DEBUG=blockwarn=1`. Unknown names are ignored, as Go ignores unknown `GODEBUG` keys,
//! so that a setting meant for a newer gort does not break an older one.

use std::sync::OnceLock;

/// The settings gort understands.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DebugSettings {
    /// `blockwarn=1`: report, once per spawn location, a G that blocked its thread inside one
    /// poll long enough for sysmon to replace its P (`rescue.rs`).
    pub(crate) blockwarn: bool,
}

impl DebugSettings {
    /// Parses a `GORT_DEBUG` value.
    pub(crate) fn parse(value: &str) -> DebugSettings {
        let mut settings = DebugSettings::default();
        for setting in value.split(',') {
            let (name, value) = setting.split_once('=').unwrap_or((setting, "1"));
            let on = value.trim() != "0";
            if name.trim() == "blockwarn" {
                settings.blockwarn = on;
            }
        }
        settings
    }
}

/// The process's settings, from `GORT_DEBUG` at first use.
pub(crate) fn settings() -> DebugSettings {
    static SETTINGS: OnceLock<DebugSettings> = OnceLock::new();
    *SETTINGS.get_or_init(|| {
        std::env::var("GORT_DEBUG")
            .map(|value| DebugSettings::parse(&value))
            .unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::DebugSettings;

    #[test]
    fn parses_gort_debug_values() {
        let cases = [
            ("", false),
            ("blockwarn=1", true),
            ("blockwarn", true),
            ("blockwarn=0", false),
            ("leakcheck=1, blockwarn=1", true),
            ("unknown=1", false),
        ];
        for (value, blockwarn) in cases {
            assert_eq!(
                DebugSettings::parse(value).blockwarn,
                blockwarn,
                "GORT_DEBUG={value:?}"
            );
        }
    }
}
