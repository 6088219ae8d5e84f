//! [`FileTimes`]: timestamps to set on a file with [`File::set_times`](crate::File::set_times).

use std::time::SystemTime;

/// Timestamps to set on a file; those left unset are not changed. std's
/// [`std::fs::FileTimes`], with tokio's by-value setters.
#[derive(Clone, Debug, Default)]
#[must_use = "must be applied to a file via `File::set_times` to have any effect"]
pub struct FileTimes {
    std: std::fs::FileTimes,
}

impl FileTimes {
    /// No timestamp set: applying it changes nothing.
    pub fn new() -> FileTimes {
        FileTimes::default()
    }

    /// Sets the last access time.
    pub fn set_accessed(self, t: SystemTime) -> FileTimes {
        FileTimes {
            std: self.std.set_accessed(t),
        }
    }

    /// Sets the last modification time.
    pub fn set_modified(self, t: SystemTime) -> FileTimes {
        FileTimes {
            std: self.std.set_modified(t),
        }
    }

    /// Sets the creation time (only platforms that record one let it be set).
    #[cfg(any(windows, target_vendor = "apple"))]
    pub fn set_created(self, t: SystemTime) -> FileTimes {
        #[cfg(target_vendor = "apple")]
        use std::os::darwin::fs::FileTimesExt;
        #[cfg(windows)]
        use std::os::windows::fs::FileTimesExt;
        FileTimes {
            std: self.std.set_created(t),
        }
    }

    /// std's form, for `std::fs::File::set_times`.
    pub(crate) fn into_std(self) -> std::fs::FileTimes {
        self.std
    }
}
