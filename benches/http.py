#!/usr/bin/env python3
"""Load-tests gort's and tokio's hello-world HTTP servers with wrk; prints a table of medians.

The two servers are the same program on two runtimes: hyper 1.x serving HTTP/1 with one task per
connection and `TCP_NODELAY`, answering `Hello, World!` (root package's `examples/hello_http.rs`
on gort, `benches/src/bin/hello_http_tokio.rs` on tokio). Each gets `--threads` workers (default 2,
as every benchmark here) and listens on 127.0.0.1:`--port`. For every run and server in turn, the
script starts the server, waits until the port accepts, runs
`wrk -t<wrk threads> -c<connections> -d<duration>s --latency http://127.0.0.1:<port>/`, keeps its
requests/s and 99th-percentile latency, and stops the server. The order of the servers flips
from one run to the next (gort, tokio, then tokio, gort...), so that neither always goes first
and drift on the machine hits both alike; the table shows medians over `--runs` (default 3).

The machine has 2 cores and wrk runs on the same machine: with the defaults, wrk's 2 threads and
the server's 2 workers share those 2 cores, so wrk competes with the server for CPU and the
absolute figures are far below what the server alone could do. Read them as a ratio between the
two runtimes from one invocation (STYLE.md habit 9), not as either server's capacity.

The script builds both servers first (`cargo build --release ...`) and installs wrk when it is
missing (`apt-get update && apt-get install -y wrk`, through sudo unless it runs as root). Every
server it starts is stopped when it exits, also on an error, Ctrl-C or SIGTERM.

Examples, from the workspace root:
    python3 benches/http.py                            # 3 runs of 10 s per server
    python3 benches/http.py --only tokio --runs 1 --duration 3
    python3 benches/http.py --connections 256 --wrk-threads 1 --threads 1
"""

import argparse
import atexit
import json
import os
import platform
import re
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Server:
    """One hello-world HTTP server under test."""

    name: str  # runtime name, as in run.py's tables and on `--only`
    build: tuple  # cargo command that builds it, run from the workspace root
    binary: str  # the built executable, relative to cargo's target directory


# The servers, in table order. Both take `--addr ADDR --threads N`.
SERVERS = [
    Server("gort", ("cargo", "build", "--release", "--example", "hello_http"),
           "release/examples/hello_http"),
    Server("tokio",
           ("cargo", "build", "--release", "-p", "gort-benches", "--bin", "hello_http_tokio"),
           "release/hello_http_tokio"),
]

# Longest a server may take to accept connections after it starts, in seconds.
STARTUP_TIMEOUT = 10

# Longest a server may take to exit after SIGTERM before it is killed, in seconds.
STOP_TIMEOUT = 5

# How long wrk may run beyond `--duration` before it counts as hung, in seconds.
WRK_GRACE = 30

# wrk's time units (its `format_time_us`), in microseconds.
WRK_TIME_UNITS_US = {"us": 1, "ms": 1e3, "s": 1e6, "m": 60e6, "h": 3600e6}

BENCHES_DIR = Path(__file__).resolve().parent
WORKSPACE_DIR = BENCHES_DIR.parent

# Servers started and not yet stopped: stop_servers() ends them however the script exits.
RUNNING = []


@dataclass(frozen=True)
class WrkResult:
    """What one wrk run measured."""

    requests_per_sec: float
    p99_us: float
    errors: int  # socket errors (connect, read, write, timeout) plus non-2xx/3xx responses


def main():
    args = parse_args()
    servers = [s for s in SERVERS if args.only in (None, s.name)]
    # Servers left running by a crash of this script must not survive it, nor a SIGTERM (which
    # would otherwise end Python without running `finally` blocks or atexit handlers).
    atexit.register(stop_servers)
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    signal.signal(signal.SIGHUP, lambda signum, frame: sys.exit(128 + signum))

    ensure_wrk()
    binaries = build(servers)
    addr = f"127.0.0.1:{args.port}"
    url = f"http://{addr}/"
    wrk = ["wrk", f"-t{args.wrk_threads}", f"-c{args.connections}", f"-d{args.duration}s",
           "--latency", url]

    print(f"command: `{shlex.join(['python3', *sys.argv])}`")
    print()
    print(f"machine: {machine()}")
    print()
    print("per run: " + ", ".join(
        f"`{shlex.join(server_command(binaries[s.name], addr, args.threads))}`" for s in servers)
        + f", then `{shlex.join(wrk)}`")
    print()

    results = {s.name: [] for s in servers}
    for run in range(args.runs):
        order = servers if run % 2 == 0 else servers[::-1]
        for server in order:
            result = run_once(server, binaries[server.name], addr, args.threads, wrk, args.duration)
            warn(f"run {run + 1}/{args.runs} {server.name}: {result.requests_per_sec:.0f} req/s, "
                 f"p99 {fmt_latency(result.p99_us)}, {result.errors} errors")
            results[server.name].append(result)
    print_table(results)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="wrk runs per server (default: 3)")
    parser.add_argument("--duration", type=int, default=10, metavar="SECONDS",
                        help="length of each wrk run (default: 10)")
    parser.add_argument("--connections", type=int, default=64, metavar="N",
                        help="wrk's open connections, -c (default: 64)")
    parser.add_argument("--wrk-threads", type=int, default=2, metavar="N",
                        help="wrk's threads, -t (default: 2)")
    parser.add_argument("--threads", type=int, default=2, metavar="N",
                        help="worker threads of each server, --threads (default: 2)")
    parser.add_argument("--port", type=int, default=3000, help="port on 127.0.0.1 (default: 3000)")
    parser.add_argument("--only", choices=[s.name for s in SERVERS],
                        help="test only this server (say while the other does not build)")
    args = parser.parse_args()
    for name in ("runs", "duration", "connections", "wrk_threads", "threads"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.connections < args.wrk_threads:
        parser.error("--connections must be at least --wrk-threads (wrk gives each thread some)")
    return args


def ensure_wrk():
    """Installs wrk with apt-get when it is not on PATH."""
    if shutil.which("wrk") is not None:
        return
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    if sudo and shutil.which("sudo") is None:
        fail("`wrk` not found, and not root nor sudo to install it: `apt-get install -y wrk`")
    warn("`wrk` not found: installing it with apt-get")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    check_call([*sudo, "apt-get", "update"], env=env)
    check_call([*sudo, "apt-get", "install", "-y", "wrk"], env=env)
    if shutil.which("wrk") is None:
        fail("apt-get installed wrk, but `wrk` is still not on PATH")


def build(servers):
    """Builds every server; returns each one's executable by name."""
    for server in servers:
        check_call(list(server.build))
    target = target_dir()
    return {server.name: target / server.binary for server in servers}


def target_dir():
    metadata = run_text(["cargo", "metadata", "--format-version", "1", "--no-deps"])
    return Path(json.loads(metadata)["target_directory"])


def machine():
    """nproc, kernel, rustc and wrk versions, on one line."""
    # `wrk -v` prints its version and usage, then exits with status 1.
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout
    return "; ".join([
        f"nproc {run_text(['nproc'])}",
        f"Linux {platform.release()}",
        run_text(["rustc", "--version"]),
        wrk_version.splitlines()[0].split(" Copyright")[0] if wrk_version else "wrk",
    ])


def server_command(binary, addr, threads):
    return [str(binary), "--addr", addr, "--threads", str(threads)]


def run_once(server, binary, addr, threads, wrk, duration):
    """Starts `server`, load-tests it with the `wrk` command line, stops it; returns the result."""
    host, port = addr.rsplit(":", 1)
    if port_accepts(host, int(port)):
        fail(f"something already listens on {addr}: stop it or pass --port")
    # The server's stderr goes to a file, shown if it fails; a pipe nobody reads could fill up
    # with its per-connection messages and block it.
    with tempfile.TemporaryFile(mode="w+", encoding="utf-8") as log:
        command = server_command(binary, addr, threads)
        # GORT_MAXPROCS says again what --threads says, as run.py does for every gort process.
        env = {**os.environ, "GORT_MAXPROCS": str(threads)}
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                   env=env, cwd=WORKSPACE_DIR)
        RUNNING.append(process)
        try:
            wait_until_accepting(process, host, int(port), log)
            done = subprocess.run(wrk, capture_output=True, text=True, encoding="utf-8",
                                  timeout=duration + WRK_GRACE)
            if done.returncode != 0:
                fail(f"{shlex.join(wrk)}: exit status {done.returncode}\n"
                     f"{done.stdout}{done.stderr}")
            if process.poll() is not None:
                fail(f"{server.name} server exited during the run ({process.returncode})"
                     f"\n{tail(log)}")
            return parse_wrk(done.stdout, wrk)
        except subprocess.TimeoutExpired:
            fail(f"{shlex.join(wrk)}: still running {WRK_GRACE} s after its duration (hung?)")
        finally:
            stop(process)


def port_accepts(host, port):
    """Whether something accepts TCP connections on host:port right now."""
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def wait_until_accepting(process, host, port, log):
    """Waits until the server `process` accepts on host:port; fails if it exits or is too slow."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not port_accepts(host, port):
        if process.poll() is not None:
            fail(f"`{shlex.join(process.args)}` exited with status {process.returncode} "
                 f"before accepting connections\n{tail(log)}")
        if time.monotonic() > deadline:
            fail(f"`{shlex.join(process.args)}` accepts no connection on {host}:{port} after "
                 f"{STARTUP_TIMEOUT} s\n{tail(log)}")
        time.sleep(0.05)


def parse_wrk(stdout, wrk):
    """Requests/s, the 99% latency line and the error counts of wrk's `--latency` output."""
    requests = re.search(r"^Requests/sec:\s+([\d.]+)\s*$", stdout, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s|m|h)\s*$", stdout, re.MULTILINE)
    if requests is None or p99 is None:
        fail(f"{shlex.join(wrk)}: no Requests/sec or 99% line in its output:\n{stdout}")
    errors = 0
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), "
                              r"timeout (\d+)", stdout)
    if socket_errors is not None:
        errors += sum(int(n) for n in socket_errors.groups())
    bad_status = re.search(r"Non-2xx or 3xx responses: (\d+)", stdout)
    if bad_status is not None:
        errors += int(bad_status.group(1))
    return WrkResult(requests_per_sec=float(requests.group(1)),
                     p99_us=float(p99.group(1)) * WRK_TIME_UNITS_US[p99.group(2)],
                     errors=errors)


def print_table(results):
    """The Markdown table of medians, each server's runs, and gort/tokio when both ran."""
    print("| server | req/s (median) | p99 latency (median) | req/s per run | wrk errors |")
    print("|---|---|---|---|---|")
    medians = {}
    for name, runs in results.items():
        medians[name] = statistics.median(r.requests_per_sec for r in runs)
        p99 = statistics.median(r.p99_us for r in runs)
        per_run = ", ".join(f"{r.requests_per_sec:.0f}" for r in runs)
        errors = sum(r.errors for r in runs)
        print(f"| {name} | {medians[name]:.0f} | {fmt_latency(p99)} | {per_run} | {errors} |")
    print()
    if "gort" in medians and "tokio" in medians:
        print(f"gort/tokio requests/s: {medians['gort'] / medians['tokio']:.2f}")
        print()


def fmt_latency(us):
    return f"{us:.0f} µs" if us < 1000 else f"{us / 1000:.2f} ms"


def stop(process):
    """Stops a server this script started: SIGTERM, then SIGKILL if it lingers."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if process in RUNNING:
        RUNNING.remove(process)


def stop_servers():
    """Stops every server still running; registered with atexit."""
    for process in list(RUNNING):
        stop(process)


def tail(log, lines=20):
    """The last lines a server wrote, to show why it failed."""
    log.flush()
    log.seek(0)
    return "".join(log.readlines()[-lines:])


def run_text(command):
    """Runs `command` and returns its stdout; on failure, exits with its stderr."""
    done = subprocess.run(command, capture_output=True, text=True, cwd=WORKSPACE_DIR)
    if done.returncode != 0:
        fail(f"{shlex.join(command)}: exit status {done.returncode}\n{done.stderr}")
    return done.stdout.strip()


def check_call(command, env=None):
    """Runs a build or install step with its output on stderr; exits if it fails."""
    warn(f"$ {shlex.join(command)}")
    if subprocess.run(command, cwd=WORKSPACE_DIR, stdout=sys.stderr, env=env).returncode != 0:
        fail(f"{shlex.join(command)} failed")


def warn(message):
    print(message, file=sys.stderr, flush=True)


def fail(message):
    warn(f"http.py: {message}")
    sys.exit(1)


if __name__ == "__main__":
    main()
