//! `gort::process`: children spawned, waited for on the netpoller, their pipes, kill and
//! kill_on_drop, and the errors users rely on.

use std::io;
use std::process::Stdio;
use std::time::Duration;

use futures::io::{AsyncReadExt, AsyncWriteExt};
use gort::process::Command;

/// Whether `pid` is still a process (running or a zombie nobody reaped).
fn exists(pid: u32) -> bool {
    // SAFETY: signal 0 only checks that the process exists; it sends nothing.
    unsafe { libc::kill(pid as libc::pid_t, 0) == 0 }
}

/// Waits (without a deadline check in the assertion itself) until `pid` is gone, for at most
/// about ten seconds.
async fn wait_until_gone(pid: u32) -> bool {
    for _ in 0..1000 {
        if !exists(pid) {
            return true;
        }
        gort::time::sleep(Duration::from_millis(10)).await;
    }
    false
}

#[gort::test]
async fn status_reports_success_and_exit_codes() {
    let ok = Command::new("true").status().await.unwrap();
    assert!(ok.success());
    let failed = Command::new("sh")
        .args(["-c", "exit 3"])
        .status()
        .await
        .unwrap();
    assert_eq!(failed.code(), Some(3));
}

#[gort::test]
async fn output_captures_stdout_and_stderr() {
    let output = Command::new("sh")
        .args(["-c", "echo out; echo err >&2"])
        .output()
        .await
        .unwrap();
    assert!(output.status.success());
    assert_eq!(output.stdout, b"out\n");
    assert_eq!(output.stderr, b"err\n");
}

/// Output larger than a pipe's buffer: the reads and the wait run together, so neither side
/// blocks the other.
#[gort::test]
async fn output_larger_than_a_pipe_buffer_is_read_while_waiting() {
    let output = Command::new("sh")
        .args([
            "-c",
            "head -c 1000000 /dev/zero; head -c 300000 /dev/zero >&2",
        ])
        .output()
        .await
        .unwrap();
    assert!(output.status.success());
    assert_eq!(output.stdout.len(), 1_000_000);
    assert_eq!(output.stderr.len(), 300_000);
}

#[gort::test]
async fn a_missing_program_is_not_found() {
    let err = Command::new("/nonexistent/gort-no-such-program")
        .spawn()
        .unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::NotFound);
    let err = Command::new("gort-no-such-program-on-path")
        .output()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::NotFound);
}

#[gort::test]
async fn piped_stdin_and_stdout_stream_through_the_child() {
    let mut child = Command::new("cat")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    stdin.write_all(b"hello through cat").await.unwrap();
    drop(stdin);
    let mut echoed = String::new();
    stdout.read_to_string(&mut echoed).await.unwrap();
    assert_eq!(echoed, "hello through cat");
    assert!(child.wait().await.unwrap().success());
}

/// `wait` closes stdin first, so a child reading its input to the end finishes.
#[gort::test]
async fn wait_closes_stdin_first() {
    let mut child = Command::new("cat")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    assert!(child.wait().await.unwrap().success());
    assert!(child.stdin.is_none());
}

#[gort::test]
async fn try_wait_kill_and_id() {
    let mut child = Command::new("sleep").arg("100").spawn().unwrap();
    let pid = child.id().expect("a running child has an id");
    assert!(
        child.try_wait().unwrap().is_none(),
        "sleep 100 is still running"
    );
    child.kill().await.unwrap();
    let status = child.wait().await.unwrap();
    assert!(!status.success());
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(libc::SIGKILL));
    assert_eq!(child.id(), None, "a reaped child has no id");
    assert_eq!(
        child.try_wait().unwrap(),
        Some(status),
        "the status is kept"
    );
    assert!(!exists(pid), "kill + wait reaped the child");
    child.start_kill().unwrap();
}

/// `kill_on_drop(true)`: dropping the child kills it, and it is reaped (not left a zombie).
#[gort::test]
async fn kill_on_drop_kills_and_reaps() {
    let child = Command::new("sleep")
        .arg("100")
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let pid = child.id().unwrap();
    drop(child);
    assert!(wait_until_gone(pid).await, "the dropped child still exists");
}

/// Without `kill_on_drop`, a dropped child runs on, and is reaped once it exits.
#[gort::test]
async fn a_dropped_child_runs_on_and_is_reaped_when_it_exits() {
    let dir = std::env::temp_dir().join(format!("gort-process-{}", std::process::id()));
    let marker = dir.with_extension("marker");
    let _ = std::fs::remove_file(&marker);
    let child = Command::new("sh")
        .arg("-c")
        .arg(format!("sleep 0.2; touch {}", marker.display()))
        .spawn()
        .unwrap();
    let pid = child.id().unwrap();
    drop(child);
    assert!(wait_until_gone(pid).await, "the child was never reaped");
    assert!(
        marker.exists(),
        "the dropped child was killed instead of running on"
    );
    let _ = std::fs::remove_file(&marker);
}

/// Many children at once, all waited for concurrently; then the same through the `SIGCHLD`
/// path (no pidfds).
#[gort::test]
async fn many_children_wait_concurrently_with_pidfds_and_with_sigchld() {
    for sigchld_only in [false, true] {
        gort::process::watch_exits_with_sigchld_only(sigchld_only);
        let mut waits = Vec::new();
        for code in 0..32 {
            let mut child = Command::new("sh")
                .args(["-c", &format!("exit {code}")])
                .spawn()
                .unwrap();
            waits.push(gort::spawn(
                async move { child.wait().await.unwrap().code() },
            ));
        }
        for (code, wait) in waits.into_iter().enumerate() {
            assert_eq!(
                wait.await.unwrap(),
                Some(code as i32),
                "sigchld_only={sigchld_only}"
            );
        }
    }
    gort::process::watch_exits_with_sigchld_only(false);
}

#[test]
fn command_converts_from_std_and_back() {
    let mut std = std::process::Command::new("echo");
    std.arg("x");
    let mut command = Command::from(std);
    command.kill_on_drop(true);
    assert!(command.get_kill_on_drop());
    assert_eq!(command.as_std().get_program(), "echo");
    command.as_std_mut().arg("y");
    let back = command.into_std();
    assert_eq!(back.get_args().collect::<Vec<_>>(), ["x", "y"]);
}

/// A child spawned on one runtime can be waited for on another after the first is gone (its
/// exit watch moves to the runtime polling the wait), through pidfds and through `SIGCHLD`.
#[test]
fn a_child_spawned_on_a_dropped_runtime_is_waited_for_on_another() {
    for sigchld_only in [false, true] {
        gort::process::watch_exits_with_sigchld_only(sigchld_only);
        let first = gort::runtime::Runtime::new().unwrap();
        let mut child = first.block_on(async {
            Command::new("sh")
                .args(["-c", "exit 7"])
                .stdin(Stdio::piped())
                .spawn()
                .unwrap()
        });
        drop(first);
        let second = gort::runtime::Runtime::new().unwrap();
        let status = second.block_on(async { child.wait().await.unwrap() });
        assert_eq!(status.code(), Some(7), "sigchld_only={sigchld_only}");
    }
    gort::process::watch_exits_with_sigchld_only(false);
}
