//! Counters behind [`stats`](crate::stats), and the pacing of automatic collections
//! (`GORT_GC`, Go's `GOGC`).

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use crate::object::Kind;

static LIVE_OBJECTS: AtomicUsize = AtomicUsize::new(0);
static LIVE_BYTES: AtomicUsize = AtomicUsize::new(0);
/// Live [`Kind::Cycle`] objects: the ones a collection walks, and what pacing counts.
static CYCLE_OBJECTS: AtomicUsize = AtomicUsize::new(0);
static COLLECTIONS: AtomicU64 = AtomicU64::new(0);
static PAUSE_TOTAL_NS: AtomicU64 = AtomicU64::new(0);
static PAUSE_MAX_NS: AtomicU64 = AtomicU64::new(0);
static LAST_PAUSE_NS: AtomicU64 = AtomicU64::new(0);

/// What [`stats`](crate::stats) reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GcStats {
    /// Objects in the arena now (every `Gc`, channel state included).
    pub live_objects: usize,
    /// Their size in bytes, headers included (not what they own on the heap, such as a
    /// channel's buffer).
    pub live_bytes: usize,
    /// Collections so far (automatic, `collect`, and leak passes).
    pub collections: u64,
    /// Time the world was stopped, over all collections.
    pub pause_total: Duration,
    /// The longest stop.
    pub pause_max: Duration,
    /// The last collection's stop.
    pub last_pause: Duration,
}

/// The current counters.
pub(crate) fn snapshot() -> GcStats {
    GcStats {
        live_objects: LIVE_OBJECTS.load(Ordering::Relaxed),
        live_bytes: LIVE_BYTES.load(Ordering::Relaxed),
        collections: COLLECTIONS.load(Ordering::Relaxed),
        pause_total: Duration::from_nanos(PAUSE_TOTAL_NS.load(Ordering::Relaxed)),
        pause_max: Duration::from_nanos(PAUSE_MAX_NS.load(Ordering::Relaxed)),
        last_pause: Duration::from_nanos(LAST_PAUSE_NS.load(Ordering::Relaxed)),
    }
}

pub(crate) fn allocated(size: usize, kind: Kind) {
    LIVE_OBJECTS.fetch_add(1, Ordering::Relaxed);
    LIVE_BYTES.fetch_add(size, Ordering::Relaxed);
    if kind == Kind::Cycle {
        CYCLE_OBJECTS.fetch_add(1, Ordering::Relaxed);
    }
}

pub(crate) fn freed(size: usize, kind: Kind) {
    LIVE_OBJECTS.fetch_sub(1, Ordering::Relaxed);
    LIVE_BYTES.fetch_sub(size, Ordering::Relaxed);
    if kind == Kind::Cycle {
        CYCLE_OBJECTS.fetch_sub(1, Ordering::Relaxed);
    }
}

pub(crate) fn cycle_objects() -> usize {
    CYCLE_OBJECTS.load(Ordering::Relaxed)
}

pub(crate) fn record_pause(pause: Duration) {
    let nanos = u64::try_from(pause.as_nanos()).unwrap_or(u64::MAX);
    COLLECTIONS.fetch_add(1, Ordering::Relaxed);
    PAUSE_TOTAL_NS.fetch_add(nanos, Ordering::Relaxed);
    PAUSE_MAX_NS.fetch_max(nanos, Ordering::Relaxed);
    LAST_PAUSE_NS.store(nanos, Ordering::Relaxed);
}

/// No automatic collection before this many traceable objects exist (Go's 4 MiB minimum heap
/// plays the same part): small programs never pay for one.
pub(crate) const MIN_TRIGGER: usize = 4096;

/// `GORT_GC`: collect when the traceable objects have grown by this percent since the last
/// collection; `off` turns automatic collection off. Default 100, as `GOGC`.
pub(crate) fn gc_percent() -> Option<usize> {
    static PERCENT: OnceLock<Option<usize>> = OnceLock::new();
    *PERCENT.get_or_init(|| parse_gc_percent(std::env::var("GORT_GC").ok().as_deref()))
}

pub(crate) fn parse_gc_percent(value: Option<&str>) -> Option<usize> {
    match value.map(str::trim) {
        None | Some("") => Some(100),
        Some(v) if v.eq_ignore_ascii_case("off") => None,
        Some(v) => match v.parse::<usize>() {
            Ok(percent) => Some(percent),
            Err(_) => {
                eprintln!("gort: ignoring GORT_GC={v:?} (want a percent or \"off\"); using 100");
                Some(100)
            }
        },
    }
}

/// The object count at which the next automatic collection starts, after one left `live`.
pub(crate) fn next_trigger(live: usize, percent: usize) -> usize {
    let grown = live.saturating_mul(100 + percent) / 100;
    grown.max(MIN_TRIGGER)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gort_gc_values() {
        for (value, expected) in [
            (None, Some(100)),
            (Some(""), Some(100)),
            (Some("50"), Some(50)),
            (Some(" 200 "), Some(200)),
            (Some("off"), None),
            (Some("OFF"), None),
            (Some("lots"), Some(100)),
        ] {
            assert_eq!(parse_gc_percent(value), expected, "GORT_GC={value:?}");
        }
        assert_eq!(next_trigger(0, 100), MIN_TRIGGER);
        assert_eq!(next_trigger(100_000, 100), 200_000);
        assert_eq!(next_trigger(100_000, 50), 150_000);
    }
}
