//! The paused clock's misuse panics (`pause` twice, `resume` unpaused) name the caller's line,
//! as tokio's do: `#[track_caller]` reaches through gort's timer context. One test per binary,
//! since it swaps the process's panic hook.

use std::panic;
use std::sync::{Arc, Mutex};

/// The file of the location `f`'s panic reports, or `None` if it does not panic.
fn panic_file(f: impl FnOnce() + panic::UnwindSafe) -> Option<String> {
    let file = Arc::new(Mutex::new(None));
    let seen = Arc::clone(&file);
    let previous = panic::take_hook();
    panic::set_hook(Box::new(move |info| {
        *seen.lock().unwrap() = info.location().map(|l| l.file().to_owned());
    }));
    let result = panic::catch_unwind(f);
    panic::set_hook(previous);
    result.err()?;
    let file = file.lock().unwrap().clone();
    file
}

#[test]
fn pause_and_resume_misuse_panics_at_the_callers_line() {
    let runtime = || {
        gort::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    };
    let twice = panic_file(|| {
        runtime().block_on(async {
            gort::time::pause();
            gort::time::pause();
        })
    });
    assert_eq!(twice.as_deref(), Some(file!()));
    let unpaused = panic_file(|| runtime().block_on(async { gort::time::resume() }));
    assert_eq!(unpaused.as_deref(), Some(file!()));
}
