//! `GORT_DEBUG`: diagnostic switches read once from the environment (Go's `GODEBUG`), shared by
//! every crate that has one (the executor's `blockwarn`, the arena's `leakcheck`).
//!
//! The variable is a comma-separated list of `name=value` settings, e.g.
//! `GORT_DEBUG=blockwarn=1,leakcheck=1`. A bare `name` means `name=1`, and any value but `0`
//! turns a switch on. Unknown names are ignored, as Go ignores unknown `GODEBUG` keys, so
//! that a setting meant for a newer gort does not break an older one.

use std::sync::OnceLock;

/// Whether switch `name` is on in the `GORT_DEBUG` value `value`.
pub fn debug_switch_in(value: &str, name: &str) -> bool {
    let mut on = false;
    for setting in value.split(',') {
        let (key, setting_value) = setting.split_once('=').unwrap_or((setting, "1"));
        if key.trim() == name {
            on = setting_value.trim() != "0";
        }
    }
    on
}

/// Whether switch `name` is on in this process's `GORT_DEBUG` (read at first use).
pub fn debug_switch(name: &str) -> bool {
    static VALUE: OnceLock<String> = OnceLock::new();
    debug_switch_in(
        VALUE.get_or_init(|| std::env::var("GORT_DEBUG").unwrap_or_default()),
        name,
    )
}

#[cfg(test)]
mod tests {
    use super::debug_switch_in;

    #[test]
    fn gort_debug_values() {
        let cases = [
            ("", "blockwarn", false),
            ("blockwarn=1", "blockwarn", true),
            ("blockwarn", "blockwarn", true),
            ("blockwarn=0", "blockwarn", false),
            ("leakcheck=1, blockwarn=1", "blockwarn", true),
            ("leakcheck=1, blockwarn=1", "leakcheck", true),
            ("leakcheck=1,leakcheck=0", "leakcheck", false),
            ("unknown=1", "blockwarn", false),
        ];
        for (value, name, on) in cases {
            assert_eq!(
                debug_switch_in(value, name),
                on,
                "GORT_DEBUG={value:?}, {name}"
            );
        }
    }
}
