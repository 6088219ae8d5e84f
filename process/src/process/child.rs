//! [`Child`]: a spawned process, its pipes, and waiting for it on the netpoller.

use std::future::poll_fn;
use std::io;
use std::process::{ExitStatus, Output};
use std::task::{ready, Context, Poll};

use gort_executor::runtime::Handle;

use super::exit_watch::ExitWatch;
use super::pipes::{poll_read_to_end, ChildStderr, ChildStdin, ChildStdout};

/// A child process spawned by [`Command::spawn`](super::Command::spawn) (tokio's
/// `process::Child`).
///
/// Dropping a `Child` does not wait for it (nor kill it, unless `kill_on_drop` was set): the
/// process goes on, and a G of the current runtime collects its exit status when it ends, so
/// that it does not stay a zombie.
#[derive(Debug)]
pub struct Child {
    /// The child's standard input, if it was `Stdio::piped()`.
    pub stdin: Option<ChildStdin>,
    /// The child's standard output, if it was `Stdio::piped()`.
    pub stdout: Option<ChildStdout>,
    /// The child's standard error, if it was `Stdio::piped()`.
    pub stderr: Option<ChildStderr>,
    state: State,
}

#[derive(Debug)]
enum State {
    Running(Running),
    Exited(ExitStatus),
    /// Only while dropping.
    Gone,
}

/// A child that has not been reaped.
#[derive(Debug)]
struct Running {
    process: std::process::Child,
    watch: ExitWatch,
    kill_on_drop: bool,
}

impl Running {
    /// Ready with the status once the child has exited (and is reaped). Spends one unit of
    /// the coop budget when it completes (through the netpoller's retry loop).
    fn poll_exit(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<ExitStatus>> {
        self.watch.poll_exit(&mut self.process, cx)
    }
}

impl Child {
    /// Takes over a just-spawned std child: its pipes are registered with the current
    /// runtime's netpoller, and its exit is watched there.
    pub(crate) fn new(mut process: std::process::Child, kill_on_drop: bool) -> io::Result<Child> {
        let watch = match ExitWatch::new(process.id()) {
            Ok(watch) => watch,
            Err(err) => {
                // Nothing could wait for it without blocking a thread: do not leave it behind.
                let _ = process.kill();
                let _ = process.wait();
                return Err(err);
            }
        };
        let stdin = process.stdin.take().map(ChildStdin::from_std).transpose()?;
        let stdout = process
            .stdout
            .take()
            .map(ChildStdout::from_std)
            .transpose()?;
        let stderr = process
            .stderr
            .take()
            .map(ChildStderr::from_std)
            .transpose()?;
        Ok(Child {
            stdin,
            stdout,
            stderr,
            state: State::Running(Running {
                process,
                watch,
                kill_on_drop,
            }),
        })
    }

    /// The process id, or `None` once its exit status has been collected (the id may belong
    /// to another process by then).
    pub fn id(&self) -> Option<u32> {
        match &self.state {
            State::Running(running) => Some(running.process.id()),
            State::Exited(_) | State::Gone => None,
        }
    }

    /// Sends `SIGKILL` without waiting for the child to exit. Does nothing if it was already
    /// reaped.
    pub fn start_kill(&mut self) -> io::Result<()> {
        match &mut self.state {
            State::Running(running) => {
                running.process.kill()?;
                running.kill_on_drop = false;
                Ok(())
            }
            State::Exited(_) | State::Gone => Ok(()),
        }
    }

    /// Sends `SIGKILL` and waits for the child to exit (unlike std's `kill`, which does not
    /// wait).
    pub async fn kill(&mut self) -> io::Result<()> {
        self.start_kill()?;
        self.wait().await?;
        Ok(())
    }

    /// Waits for the child to exit and returns its status; later calls return the same status.
    ///
    /// Closes the child's standard input first, so that a child reading it is not left
    /// waiting for input while we wait for it. Cancel-safe.
    pub async fn wait(&mut self) -> io::Result<ExitStatus> {
        drop(self.stdin.take());
        poll_fn(|cx| self.poll_wait(cx)).await
    }

    /// The poll form of [`wait`](Child::wait), without closing stdin.
    fn poll_wait(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<ExitStatus>> {
        let status = match &mut self.state {
            State::Running(running) => ready!(running.poll_exit(cx))?,
            State::Exited(status) => *status,
            State::Gone => unreachable!("a Child is only Gone while it is dropped"),
        };
        self.state = State::Exited(status);
        Poll::Ready(Ok(status))
    }

    /// The exit status if the child has exited, without waiting; `None` if it still runs.
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        match &mut self.state {
            State::Running(running) => {
                let status = running.process.try_wait()?;
                if let Some(status) = status {
                    self.state = State::Exited(status);
                }
                Ok(status)
            }
            State::Exited(status) => Ok(Some(*status)),
            State::Gone => unreachable!("a Child is only Gone while it is dropped"),
        }
    }

    /// Waits for the child to exit while reading all of its piped standard output and error
    /// (concurrently, so that a child filling one pipe cannot deadlock against us), and
    /// returns the status with what was read. Closes stdin first, as [`wait`](Child::wait).
    pub async fn wait_with_output(mut self) -> io::Result<Output> {
        drop(self.stdin.take());
        let stdout_pipe = self.stdout.take();
        let stderr_pipe = self.stderr.take();
        let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
        let (mut stdout_done, mut stderr_done) = (stdout_pipe.is_none(), stderr_pipe.is_none());
        let mut status = None;
        poll_fn(|cx| {
            if let (false, Some(pipe)) = (stdout_done, &stdout_pipe) {
                if ready_or_err(poll_read_to_end(pipe.pipe(), cx, &mut stdout))? {
                    stdout_done = true;
                }
            }
            if let (false, Some(pipe)) = (stderr_done, &stderr_pipe) {
                if ready_or_err(poll_read_to_end(pipe.pipe(), cx, &mut stderr))? {
                    stderr_done = true;
                }
            }
            if status.is_none() {
                if let Poll::Ready(result) = self.poll_wait(cx) {
                    status = Some(result?);
                }
            }
            match status {
                Some(status) if stdout_done && stderr_done => Poll::Ready(Ok(status)),
                _ => Poll::Pending,
            }
        })
        .await
        .map(|status| Output {
            status,
            stdout,
            stderr,
        })
    }
}

/// `Ok(true)` for a finished read, `Ok(false)` for one still pending, the error otherwise.
fn ready_or_err(poll: Poll<io::Result<()>>) -> Result<bool, io::Error> {
    match poll {
        Poll::Ready(Ok(())) => Ok(true),
        Poll::Ready(Err(err)) => Err(err),
        Poll::Pending => Ok(false),
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        let State::Running(mut running) = std::mem::replace(&mut self.state, State::Gone) else {
            return;
        };
        if running.kill_on_drop {
            let _ = running.process.kill();
        }
        if let Ok(None) = running.process.try_wait() {
            // Reap it when it ends, on a G rather than a thread (tokio reaps orphans in the
            // background too). If the runtime shuts down first, the child stays a zombie until
            // this process exits.
            let reaper = async move {
                let _ = poll_fn(|cx| running.poll_exit(cx)).await;
            };
            drop(Handle::current().spawn(reaper));
        }
    }
}
