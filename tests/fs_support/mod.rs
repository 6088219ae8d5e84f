//! The scratch directory the `fs` tests work in.
#![allow(dead_code)] // Each test binary uses a different subset.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A fresh directory under `std::env::temp_dir()`, removed (with its contents) on drop.
pub struct Scratch {
    pub path: PathBuf,
}

impl Scratch {
    /// A new empty directory whose name includes `test`, the process id and a counter, so that
    /// tests running at once (and runs of other processes) never share one.
    pub fn new(test: &str) -> Scratch {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("gort-fs-{}-{n}-{test}", std::process::id()));
        std::fs::create_dir(&path).expect("creating the scratch directory");
        Scratch { path }
    }

    pub fn join(&self, name: impl AsRef<Path>) -> PathBuf {
        self.path.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}
