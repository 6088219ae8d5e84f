//! `GORT_MAXPROCS`: how many Ps a runtime gets by default (Go's `GOMAXPROCS`).

use std::sync::Once;

/// The default number of Ps: `GORT_MAXPROCS` if it is a positive integer, else the available
/// parallelism (std reads the cgroup CPU quota and the affinity mask). An invalid value prints
/// a one-line warning (once per process) and uses the default.
pub(crate) fn default_procs() -> usize {
    let fallback = std::thread::available_parallelism().map_or(1, |n| n.get());
    let value = std::env::var_os("GORT_MAXPROCS");
    match parse_maxprocs(value.as_deref().map(|v| v.to_str()), fallback) {
        Ok(procs) => procs,
        Err(warning) => {
            static WARN_ONCE: Once = Once::new();
            WARN_ONCE.call_once(|| eprintln!("{warning}"));
            fallback
        }
    }
}

/// Interprets a `GORT_MAXPROCS` value: `None` (unset) gives `fallback`; `Some(None)` is a value
/// that is not UTF-8. Errors carry the warning to print.
fn parse_maxprocs(value: Option<Option<&str>>, fallback: usize) -> Result<usize, String> {
    let Some(value) = value else {
        return Ok(fallback);
    };
    match value.map(|v| v.trim().parse::<usize>()) {
        Some(Ok(procs)) if procs > 0 => Ok(procs),
        _ => Err(format!(
            "gort: ignoring GORT_MAXPROCS={:?}: expected a positive integer; using {fallback}",
            value.unwrap_or("<not UTF-8>")
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::parse_maxprocs;

    /// A `GORT_MAXPROCS` value as `parse_maxprocs` sees it, and the expected procs or a fragment
    /// of the expected warning.
    type Case = (Option<Option<&'static str>>, Result<usize, &'static str>);

    #[test]
    fn parse_maxprocs_cases() {
        let cases: &[Case] = &[
            (None, Ok(8)),
            (Some(Some("2")), Ok(2)),
            (Some(Some(" 3 ")), Ok(3)),
            (
                Some(Some("0")),
                Err("GORT_MAXPROCS=\"0\": expected a positive integer; using 8"),
            ),
            (Some(Some("-1")), Err("GORT_MAXPROCS=\"-1\"")),
            (Some(Some("two")), Err("GORT_MAXPROCS=\"two\"")),
            (Some(Some("")), Err("GORT_MAXPROCS=\"\"")),
            (Some(None), Err("<not UTF-8>")),
        ];
        for (input, expected) in cases {
            let got = parse_maxprocs(*input, 8);
            match (expected, &got) {
                (Ok(want), Ok(got)) => assert_eq!(want, got, "input {input:?}"),
                (Err(fragment), Err(warning)) => {
                    assert!(warning.starts_with("gort: ignoring "), "{warning}");
                    assert!(warning.contains(fragment), "{warning:?} lacks {fragment:?}");
                    assert!(!warning.contains('\n'), "the warning is one line");
                }
                _ => panic!("input {input:?}: expected {expected:?}, got {got:?}"),
            }
        }
    }
}
