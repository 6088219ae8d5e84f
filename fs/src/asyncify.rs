//! [`asyncify`]: one blocking std call as a future, the building block of every free function.

use std::io;

/// Runs `call` on the blocking pool and waits for its result without holding an M.
///
/// A panic in `call`, or the job being dropped unrun because the runtime shut down, comes back
/// as an `io::Error` of kind `Other` ("background task failed"), as in tokio: the caller asked
/// for an IO result and gets one.
pub(crate) async fn asyncify<F, T>(call: F) -> io::Result<T>
where
    F: FnOnce() -> io::Result<T> + Send + 'static,
    T: Send + 'static,
{
    match gort_executor::task::spawn_blocking(call).await {
        Ok(result) => result,
        Err(_) => Err(background_task_failed()),
    }
}

/// The error of an operation whose blocking job panicked or never ran.
pub(crate) fn background_task_failed() -> io::Error {
    io::Error::other("background task failed")
}
