//! The process's standard streams as async IO: [`stdin`], [`stdout`], [`stderr`].
//!
//! The standard streams may be terminals, pipes or files, and std's handles to them block, so
//! each handle here is a `Blocking` adaptor: one job on the blocking pool at a time, writes
//! accepted once copied and staged behind the running write. The facade re-exports these in
//! `gort::io`, where tokio has them.
//!
//! Each call of `stdout()` makes a new handle with its own job and buffer: writes through two
//! handles are not ordered with respect to each other. Keep one handle for output that must
//! come out in order, and `flush` it before the program ends, since a write's `Ok` means only
//! that the bytes were accepted.

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll};

use gort_io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::blocking::Blocking;
use crate::write_behind::Source;

/// The process's standard input, read through `AsyncRead`; from [`stdin`].
///
/// A read is an ordinary blocking read on a pool thread, and it cannot be cancelled: a read
/// waiting for a terminal keeps its thread (and a runtime shutdown waits for it) until a line
/// is typed. Best for piped input; for interactive input, a thread of your own that reads and
/// sends lines over a channel shuts down more cleanly.
#[derive(Debug)]
pub struct Stdin {
    blocking: Blocking<io::Stdin>,
    /// A handle of our own for `AsFd` (the adaptor's is away while a job runs).
    std: io::Stdin,
}

/// The process's standard output, written through `AsyncWrite`; from [`stdout`].
///
/// Only each single write is kept intact with respect to other writers of the process's
/// stdout; `write_all` may take several. Writes are accepted once copied; `flush().await`
/// waits until they, and std's line buffer, are written.
#[derive(Debug)]
pub struct Stdout {
    blocking: Blocking<io::Stdout>,
    /// A handle of our own for `AsFd` (the adaptor's is away while a job runs).
    std: io::Stdout,
}

/// The process's standard error, written through `AsyncWrite`; from [`stderr`]. The same
/// rules as [`Stdout`].
#[derive(Debug)]
pub struct Stderr {
    blocking: Blocking<io::Stderr>,
    /// A handle of our own for `AsFd` (the adaptor's is away while a job runs).
    std: io::Stderr,
}

/// A new handle to the standard input (module doc).
pub fn stdin() -> Stdin {
    Stdin {
        blocking: Blocking::new(io::stdin),
        std: io::stdin(),
    }
}

/// A new handle to the standard output, with its own buffer and job: not ordered with
/// writes through other handles (module doc).
pub fn stdout() -> Stdout {
    Stdout {
        blocking: Blocking::new(io::stdout),
        std: io::stdout(),
    }
}

/// A new handle to the standard error, with its own buffer and job (module doc).
pub fn stderr() -> Stderr {
    Stderr {
        blocking: Blocking::new(io::stderr),
        std: io::stderr(),
    }
}

impl AsyncRead for Stdin {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        dst: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.get_mut().blocking.poll_read(cx, dst)
    }
}

/// `AsyncWrite` for an output stream type whose `blocking` field is a `Blocking<W>`.
macro_rules! impl_async_write {
    ($stream:ident) => {
        impl AsyncWrite for $stream {
            fn poll_write(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                src: &[u8],
            ) -> Poll<io::Result<usize>> {
                self.get_mut().blocking.poll_write(cx, Source::Slice(src))
            }

            fn poll_write_vectored(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                srcs: &[IoSlice<'_>],
            ) -> Poll<io::Result<usize>> {
                self.get_mut().blocking.poll_write(cx, Source::Slices(srcs))
            }

            fn is_write_vectored(&self) -> bool {
                true
            }

            fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                self.get_mut().blocking.poll_flush(cx)
            }

            /// Flushes: a standard stream is not closed by a handle.
            fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                self.get_mut().blocking.poll_flush(cx)
            }
        }
    };
}

impl_async_write!(Stdout);
impl_async_write!(Stderr);

#[cfg(unix)]
mod unix {
    use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};

    use super::{Stderr, Stdin, Stdout};

    /// `AsRawFd` and `AsFd` through the stream's own std handle.
    macro_rules! impl_as_fd {
        ($stream:ident) => {
            impl AsRawFd for $stream {
                fn as_raw_fd(&self) -> RawFd {
                    self.std.as_raw_fd()
                }
            }

            impl AsFd for $stream {
                fn as_fd(&self) -> BorrowedFd<'_> {
                    self.std.as_fd()
                }
            }
        };
    }

    impl_as_fd!(Stdin);
    impl_as_fd!(Stdout);
    impl_as_fd!(Stderr);
}

#[cfg(test)]
mod tests {
    //! The standard streams are the process's own, so each test runs this test binary again as
    //! a child (selected by an environment variable) and checks what comes out of its pipes.

    use std::io::Write as _;
    use std::process::{Command, Stdio};

    use gort_io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    /// Set in the child to the name of the test whose child half it must run.
    const CHILD: &str = "GORT_FS_STDIO_CHILD";

    /// Runs the test `name` again in a child process with `input` as its stdin; returns its
    /// stdout and stderr once it has exited successfully.
    fn run_child(name: &str, input: &[u8]) -> (String, String) {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", name, "--nocapture", "--test-threads=1"])
            .env(CHILD, name)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(input).unwrap();
        let output = child.wait_with_output().unwrap();
        let stdout = String::from_utf8(output.stdout).unwrap();
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert!(output.status.success(), "child failed:\n{stdout}\n{stderr}");
        (stdout, stderr)
    }

    fn is_child(name: &str) -> bool {
        std::env::var(CHILD).is_ok_and(|child| child == name)
    }

    /// tokio's auto traits.
    #[test]
    fn the_streams_are_send_sync_unpin_and_debug() {
        fn check<T: Send + Sync + Unpin + std::fmt::Debug>() {}
        check::<Stdin>();
        check::<Stdout>();
        check::<Stderr>();
    }

    #[test]
    fn writes_from_a_task_reach_stdout_and_stderr_in_order() {
        const NAME: &str = "stdio::tests::writes_from_a_task_reach_stdout_and_stderr_in_order";
        if is_child(NAME) {
            let task = gort_executor::spawn(async {
                let mut out = stdout();
                // Many small writes, most of them staged behind the one in flight.
                for i in 0..500 {
                    out.write_all(format!("out {i}\n").as_bytes())
                        .await
                        .unwrap();
                }
                out.write_all(b"unterminated").await.unwrap();
                out.flush().await.unwrap();
                let mut err = stderr();
                err.write_all(b"err line\n").await.unwrap();
                err.flush().await.unwrap();
            });
            gort_executor::block_on(task).unwrap();
            return;
        }
        let (out, err) = run_child(NAME, b"");
        let expected: String = (0..500).map(|i| format!("out {i}\n")).collect();
        let start = out.find("out 0\n").expect("the child's output");
        assert!(out[start..].starts_with(&format!("{expected}unterminated")));
        assert!(err.contains("err line\n"));
    }

    #[test]
    fn stdin_reads_what_was_piped_in_to_the_end() {
        const NAME: &str = "stdio::tests::stdin_reads_what_was_piped_in_to_the_end";
        if is_child(NAME) {
            gort_executor::block_on(async {
                let mut input = stdin();
                let mut all = Vec::new();
                loop {
                    // Small reads: the job fetches up to 7 bytes at a time.
                    let mut chunk = [0u8; 7];
                    let n = input.read(&mut chunk).await.unwrap();
                    if n == 0 {
                        break;
                    }
                    all.extend_from_slice(&chunk[..n]);
                }
                let mut out = stdout();
                let echo = format!("[echo:{}]", String::from_utf8(all).unwrap());
                out.write_all(echo.as_bytes()).await.unwrap();
                out.flush().await.unwrap();
            });
            return;
        }
        let piped = "first line\nsecond line\nno newline at the end";
        let (out, _) = run_child(NAME, piped.as_bytes());
        assert!(out.contains(&format!("[echo:{piped}]")), "{out}");
    }
}
