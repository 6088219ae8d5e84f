#!/usr/bin/env python3
"""Soak test of gort's TCP stack: 1,000,000 connections opened, echoed and closed against a gort
echo server on loopback, with the server's descriptors, threads and resident set sampled every
second; passes only if all three end flat.

Not part of CI (it takes minutes to half an hour). From the workspace root:

    python3 benches/soak/soak.py                                   # the full soak: 1M connections
    python3 benches/soak/soak.py --connections 1000000 --concurrency 64 --max-seconds 1800
    python3 benches/soak/soak.py --connections 20000 --idle-seconds 5   # a quick check

It builds `soak_server` and `soak_client` (`cargo build --release -p gort-benches --bin ...`;
set CARGO_TARGET_DIR to build elsewhere), raises the soft descriptor limit (`ulimit -n`) to the
hard one for both children, and then:

1. Starts the server, `benches/soak/server.rs`: `#[gort::main]`, a `gort::net::TcpListener` on
   127.0.0.1 (a free port), one G per connection echoing until EOF, then closing, as
   `examples/echo.rs`. It runs alone in its process (`GORT_MAXPROCS=--procs`, default 2), so
   what /proc/<pid> shows is the server's alone.
2. Samples the idle server for `--settle-seconds` (default 3): the "before" phase.
3. Starts the load, `benches/soak/client.rs`, in a second process: `--concurrency` std threads
   (default 64), each opening one connection at a time until `--connections` (default 1,000,000)
   have been claimed: connect, write a 64 B payload unique to the connection, read it back and
   compare, `shutdown(Write)`, read the server's EOF, close. Failed connections are counted by
   kind; a byte that differs from what was sent makes the client exit with status 2 at once,
   and the soak fails. No connection starts after `--max-seconds` (default 1800): a soak that
   runs out of time stops early and says so. The "load" phase.
4. Samples the idle server for `--idle-seconds` more (default 15, beyond the 10 s keep-alive of
   gort's blocking pool, so idle threads exiting and descriptors being released show): "idle".
5. Checks the server still echoes (one more connection from this script), and stops it
   (SIGTERM). Any line the server wrote on stderr (each failed accept, read or write) is an
   error of the soak; they are kept in `<target>/soak/server.log`.

Every second (the three phases alike) it reads, from /proc/<server pid>: open descriptors (the
entries of `fd/`), threads (`Threads:` in `status`), resident set (`VmRSS:`), CPU time (`stat`);
plus the client's count of connections done and failed, and the machine's TIME_WAIT sockets
(`/proc/net/sockstat`). Every sample goes to the CSV (`--csv`, default
`<target>/soak/soak.csv`), one in `--print-every` (default 10) to stdout.

TIME_WAIT: the client closes first (its FIN is what the server reads as EOF), so each connection
leaves a TIME_WAIT entry on the client's side, for 60 s; the server, the passive closer, keeps
none. A reset (SO_LINGER(0)) would avoid them but would test the server's error path instead of
a clean EOF. Instead the client spreads its connections over `--sources` (default 16) source
addresses 127.0.0.2, 127.0.0.3, ... (bound with IP_BIND_ADDRESS_NO_PORT, so `connect` still picks
the port per 4-tuple), which multiplies the ~28k ephemeral ports by 16: enough for 7,500
connections/s even where `net.ipv4.tcp_tw_reuse` is 0 (Linux's default, 2, reuses loopback
TIME_WAIT ports after a second anyway). The kernel caps TIME_WAIT entries at
`tcp_max_tw_buckets` and drops the excess, which is harmless here.

What "flat" means, each checked at the end (the warm-up point is the first sample with 10% of
the connections done; "final" is the last idle sample):

- descriptors: final == the last "before" sample (every connection's descriptor released, the
  listener and the runtime's own descriptors as before the load);
- threads: final <= the warm-up sample + `--thread-slack` (default 2);
- resident set: no steady growth. The reference R is the median RSS of the load samples from
  10% to 25% of the connections (a median, so that one sample landing on a dip or a spike of
  the allocator does not decide the verdict; the 25% sample alone if that window is empty).
  With the bound B = max(`--rss-bound-mib` MiB (default 4), 10% of R): (a) final RSS - R <= B,
  and (b) the slope of a least-squares line of RSS against connections done, over the load
  samples past 50% of the connections, times the connections done, <= B (the second half's
  trend, extrapolated over the whole run, stays under the bound; reported in KiB per 100k
  connections). (b) is skipped, and said so, when fewer than 5 such samples exist (a run of a
  few seconds).

The summary gives connections done and failed, duration, rate, and for each of the three its
"before", warm-up, 25%, peak, end-of-load and final values with the verdict.

Exit status: 0 when every connection succeeded and all three ended flat; 1 on any error (a
failed connection, a mismatch, a server error line, a server that died or stopped echoing, a
client that hung) or anything not flat; 3 when everything that ran was clean and flat but the
time limit stopped the run before all its connections.
"""

import argparse
import atexit
import csv
import json
import os
import platform
import re
import resource
import select
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

SOAK_DIR = Path(__file__).resolve().parent
WORKSPACE_DIR = SOAK_DIR.parent.parent

# Longest the server may take to print its address after it starts, in seconds.
STARTUP_TIMEOUT = 30

# Longest the server may take to exit after SIGTERM before it is killed, in seconds.
STOP_TIMEOUT = 5

# How long the client may run past --max-seconds before it counts as hung, in seconds: its
# in-flight connections finish within a few --timeout-ms (connect, write, read, read EOF).
CLIENT_GRACE = 60

# Per-operation timeout of the client (connect, each read and write), in milliseconds.
CLIENT_TIMEOUT_MS = 10_000

# Fraction of the connections at which the warm-up value is taken, and at which the window of
# the RSS reference (their median) starts and ends.
WARM_UP_FRACTION = 0.10
RSS_FROM_FRACTION = 0.25

# The RSS slope is fitted over the load samples past this fraction of the connections.
SLOPE_FROM_FRACTION = 0.50

# Fewest samples the RSS slope is fitted over; with fewer, only the growth check applies.
MIN_SLOPE_SAMPLES = 5

# Server stderr lines shown in the summary when there are some.
SHOWN_SERVER_ERRORS = 10

# Children started and not yet stopped: stop_children() ends them however the script exits.
RUNNING = []


@dataclass
class Sample:
    """One reading of the server and the load, a row of the CSV."""

    elapsed: float  # seconds since the server started
    phase: str  # "before", "load" or "idle"
    done: int  # connections echoed and closed so far
    errors: int  # connections failed so far
    fds: int  # entries of /proc/<pid>/fd
    threads: int  # `Threads:` of /proc/<pid>/status
    rss_kib: int  # `VmRSS:` of /proc/<pid>/status, KiB
    cpu_s: float  # user + system CPU time of the server, seconds
    tcp_tw: int  # TIME_WAIT sockets of the whole machine (/proc/net/sockstat)


@dataclass
class ClientOutput:
    """What the client has printed so far; written by the reader thread, read under `lock`."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    done: int = 0  # from its last PROGRESS line
    errors: int = 0
    error_kinds: list = field(default_factory=list)  # (count, "step: error") from ERROR lines
    result: tuple = None  # (done, errors, elapsed seconds, why) from its RESULT line
    mismatches: list = field(default_factory=list)  # details of MISMATCH lines
    other: list = field(default_factory=list)  # any other line, shown if it fails
    reader: threading.Thread = None  # the thread filling this in


@dataclass
class Verdict:
    """Whether one of the three quantities ended flat, and why."""

    name: str
    flat: bool
    reason: str


def main():
    args = parse_args()
    atexit.register(stop_children)
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    signal.signal(signal.SIGHUP, lambda signum, frame: sys.exit(128 + signum))

    nofile = raise_descriptor_limit(args.concurrency)
    target = target_dir()
    out_dir = target / "soak"
    out_dir.mkdir(parents=True, exist_ok=True)
    csv_path = Path(args.csv) if args.csv else out_dir / "soak.csv"
    log_path = out_dir / "server.log"

    print(f"command: `{shlex.join(['python3', *sys.argv])}`")
    print(f"machine: {machine()}")
    print(f"tree: {git_describe()}")
    print(f"limits: ulimit -n {nofile}; {sysctls()}")
    print(flush=True)

    build()
    server_binary = target / "release" / "soak_server"
    client_binary = target / "release" / "soak_client"

    failures = []
    with open(log_path, "w+", encoding="utf-8") as log, \
            open(csv_path, "w", newline="", encoding="utf-8") as csv_file:
        writer = csv.writer(csv_file)
        writer.writerow(["elapsed_s", "phase", "done", "errors", "fds", "threads", "rss_kib",
                         "cpu_s", "tcp_tw"])
        run = Run(args, writer, csv_file)
        server, addr = start_server(server_binary, args.procs, log)
        run.server = server
        print(f"server: `{shlex.join(server.args)}` pid {server.pid}, listening on {addr}")

        run.sample_for("before", args.settle_seconds)
        client_command = [
            str(client_binary), "--addr", addr, "--connections", str(args.connections),
            "--concurrency", str(args.concurrency), "--max-seconds", f"{args.max_seconds:g}",
            "--payload", str(args.payload), "--sources", str(args.sources),
            "--timeout-ms", str(CLIENT_TIMEOUT_MS),
        ]
        print(f"client: `{shlex.join(client_command)}`", flush=True)
        load_start = time.monotonic()
        client, output = start_client(client_command)
        run.client_output = output
        failures += run.sample_load(client, load_start)
        load_seconds = time.monotonic() - load_start

        run.sample_for("idle", args.idle_seconds)
        if server.poll() is not None:
            failures.append(f"the server exited (status {server.returncode}) during the soak")
        elif (problem := check_still_echoes(addr)) is not None:
            failures.append(f"after the soak the server no longer echoes: {problem}")
        stop(server)
        server_errors = read_server_errors(log)

    samples = run.samples
    result = output.result
    if result is None:
        failures.append("the client printed no RESULT line")
        done, errors, why = output.done, output.errors, "unknown"
    else:
        # The client's own clock: the sampling's wall time also waits for the next tick.
        done, errors, load_seconds, why = result
    if output.mismatches:
        failures += [f"echo mismatch: {m}" for m in output.mismatches]
    if errors:
        failures.append(f"{errors} connections failed")
    if server_errors:
        failures.append(f"the server reported {len(server_errors)} errors on stderr "
                        f"(see {log_path})")

    print()
    print(f"samples: {csv_path} ({len(samples)} rows)")
    print(f"server log: {log_path}")
    print()
    print_summary(args, samples, done, errors, why, load_seconds, output, server_errors)
    verdicts = judge(args, samples, done)
    for v in verdicts:
        print(f"{v.name}: {'FLAT' if v.flat else 'NOT FLAT'} ({v.reason})")
    failures += [f"{v.name} not flat: {v.reason}" for v in verdicts if not v.flat]
    print()
    incomplete = done + errors < args.connections
    if failures:
        for f in failures:
            print(f"FAIL: {f}")
        sys.exit(1)
    if incomplete:
        print(f"INCOMPLETE: {why}: {done} of {args.connections} connections in "
              f"{load_seconds:.0f} s; what ran was clean and flat")
        sys.exit(3)
    print(f"PASS: {done} connections, no errors, descriptors, threads and RSS flat")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=1_000_000,
                        help="connections to open in all (default: 1000000)")
    parser.add_argument("--concurrency", type=int, default=64,
                        help="client threads, one open connection each (default: 64)")
    parser.add_argument("--max-seconds", type=float, default=1800,
                        help="no new connection after this long (default: 1800)")
    parser.add_argument("--payload", type=int, default=64, metavar="BYTES",
                        help="bytes echoed per connection (default: 64)")
    parser.add_argument("--sources", type=int, default=16,
                        help="client source addresses 127.0.0.2.. (0: kernel's; default: 16)")
    parser.add_argument("--procs", type=int, default=2,
                        help="GORT_MAXPROCS of the server (default: 2)")
    parser.add_argument("--settle-seconds", type=int, default=3,
                        help="idle samples before the load (default: 3)")
    parser.add_argument("--idle-seconds", type=int, default=15,
                        help="idle samples after the load (default: 15)")
    parser.add_argument("--interval", type=float, default=1.0, metavar="SECONDS",
                        help="time between samples (default: 1)")
    parser.add_argument("--print-every", type=int, default=10, metavar="N",
                        help="print one sample in N (default: 10; the CSV has all)")
    parser.add_argument("--csv", metavar="PATH",
                        help="where to write the samples (default: <target>/soak/soak.csv)")
    parser.add_argument("--thread-slack", type=int, default=2,
                        help="threads the server may end with above warm-up (default: 2)")
    parser.add_argument("--rss-bound-mib", type=float, default=4,
                        help="RSS growth bound, MiB, or 10%% of RSS if larger (default: 4)")
    args = parser.parse_args()
    for name in ("connections", "concurrency", "payload", "procs", "print_every"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if not 0 <= args.sources <= 200:
        parser.error("--sources must be 0 to 200")
    if args.settle_seconds < 1 or args.idle_seconds < 1:
        parser.error("--settle-seconds and --idle-seconds must be at least 1")
    if args.max_seconds <= 0 or args.interval <= 0:
        parser.error("--max-seconds and --interval must be positive")
    return args


class Run:
    """The sampling of one soak: the server, the client's progress, the CSV."""

    def __init__(self, args, writer, csv_file):
        self.args = args
        self.writer = writer
        self.csv_file = csv_file
        self.server = None  # the server's Popen, set once it runs
        self.client_output = ClientOutput()  # replaced by the real client's once it runs
        self.samples = []
        self.start = time.monotonic()
        self.next_tick = self.start
        self.printed = None  # the last printed sample, for the rate on the next printed line

    def take(self, phase):
        """Waits for the next tick, then samples the server and records the sample."""
        self.next_tick += self.args.interval
        time.sleep(max(0.0, self.next_tick - time.monotonic()))
        with self.client_output.lock:
            done, errors = self.client_output.done, self.client_output.errors
        proc = read_proc(self.server.pid)
        if proc is None:
            return None  # the server is gone; the caller sees it exit
        fds, threads, rss_kib, cpu_s = proc
        sample = Sample(elapsed=time.monotonic() - self.start, phase=phase, done=done,
                        errors=errors, fds=fds, threads=threads, rss_kib=rss_kib, cpu_s=cpu_s,
                        tcp_tw=read_time_wait())
        self.samples.append(sample)
        self.writer.writerow([f"{sample.elapsed:.2f}", phase, done, errors, fds, threads,
                              rss_kib, f"{cpu_s:.2f}", sample.tcp_tw])
        self.csv_file.flush()
        if (len(self.samples) - 1) % self.args.print_every == 0 or phase != "load":
            self.print_sample(sample)
        return sample

    def print_sample(self, s):
        rate = ""
        if self.printed is not None and s.elapsed > self.printed.elapsed:
            rate = f" ({(s.done - self.printed.done) / (s.elapsed - self.printed.elapsed):,.0f}/s)"
        print(f"[{s.elapsed:7.1f} s] {s.phase:6} done {s.done:>9,}{rate:12} errors {s.errors}  "
              f"fds {s.fds}  threads {s.threads}  rss {s.rss_kib / 1024:.1f} MiB  "
              f"cpu {s.cpu_s:.1f} s  time-wait {s.tcp_tw}", flush=True)
        self.printed = s

    def sample_for(self, phase, seconds):
        """Samples the (idle) server `seconds` times, one interval apart."""
        for _ in range(max(1, round(seconds / self.args.interval))):
            if self.server.poll() is not None:
                return
            self.take(phase)

    def sample_load(self, client, load_start):
        """Samples until the client exits; returns failures (server died, client hung)."""
        limit = load_start + self.args.max_seconds + CLIENT_GRACE
        while client.poll() is None:
            if self.server.poll() is not None:
                client.kill()
                client.wait()
                return [f"the server exited (status {self.server.returncode}) during the load"]
            if time.monotonic() > limit:
                client.kill()
                client.wait()
                return [f"the client still ran {CLIENT_GRACE} s after --max-seconds (hung?)"]
            self.take("load")
        client.wait()
        RUNNING.remove(client)
        # The reader thread has seen EOF once the pipe is drained; give it a moment.
        self.client_output.reader.join(timeout=5)
        self.take("load")  # the final count, now that the client has printed it
        if client.returncode != 0:
            with self.client_output.lock:
                other = "\n".join(self.client_output.other[-10:])
            return [f"the client exited with status {client.returncode}\n{other}"]
        return []


def raise_descriptor_limit(concurrency):
    """Raises this process's soft RLIMIT_NOFILE to the hard limit, which the children inherit;
    returns the new soft limit. Fails if even that is too low for the concurrency."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        soft = hard
    needed = concurrency + 64
    if soft != resource.RLIM_INFINITY and soft < needed:
        fail(f"ulimit -n is {soft} (hard {hard}); --concurrency {concurrency} needs {needed}")
    return "unlimited" if soft == resource.RLIM_INFINITY else soft


def build():
    """Builds the server and the client in release mode."""
    command = ["cargo", "build", "--release", "-p", "gort-benches", "--bin", "soak_server",
               "--bin", "soak_client"]
    warn(f"$ {shlex.join(command)}")
    if subprocess.run(command, cwd=WORKSPACE_DIR, stdout=sys.stderr).returncode != 0:
        fail(f"{shlex.join(command)} failed")


def target_dir():
    metadata = run_text(["cargo", "metadata", "--format-version", "1", "--no-deps"])
    return Path(json.loads(metadata)["target_directory"])


def start_server(binary, procs, log):
    """Starts the server on 127.0.0.1 (a free port); returns its Popen and its address."""
    env = {**os.environ, "GORT_MAXPROCS": str(procs)}
    server = subprocess.Popen([str(binary), "127.0.0.1:0"], stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=log, env=env, cwd=WORKSPACE_DIR)
    RUNNING.append(server)
    ready, _, _ = select.select([server.stdout], [], [], STARTUP_TIMEOUT)
    line = server.stdout.readline().decode(errors="replace").strip() if ready else ""
    match = re.fullmatch(r"soak_server: listening on (127\.0\.0\.1:\d+)", line)
    if match is None:
        stop(server)
        log.seek(0)
        fail(f"the server did not print its address within {STARTUP_TIMEOUT} s "
             f"(got {line!r}, status {server.returncode})\n{log.read()[-2000:]}")
    return server, match.group(1)


def start_client(command):
    """Starts the client, with a thread reading its stdout into a ClientOutput."""
    client = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              text=True, encoding="utf-8", cwd=WORKSPACE_DIR)
    RUNNING.append(client)
    output = ClientOutput()
    output.reader = threading.Thread(target=read_client, args=(client.stdout, output),
                                     daemon=True)
    output.reader.start()
    return client, output


def read_client(stream, output):
    """Reads the client's lines until EOF (the reader thread's body)."""
    for line in stream:
        fields = line.split(maxsplit=2)
        with output.lock:
            if fields[:1] == ["PROGRESS"] and len(fields) == 3:
                output.done, output.errors = int(fields[1]), int(fields[2])
            elif fields[:1] == ["ERROR"] and len(fields) == 3:
                output.error_kinds.append((int(fields[1]), fields[2].strip()))
            elif fields[:1] == ["RESULT"]:
                done, errors, elapsed, why = line.split()[1:5]
                output.result = (int(done), int(errors), float(elapsed), why)
            elif fields[:1] == ["MISMATCH"]:
                output.mismatches.append(line.strip()[len("MISMATCH "):])
            else:
                output.other.append(line.rstrip())


def read_proc(pid):
    """Descriptors, threads, RSS (KiB) and CPU seconds of process `pid`; None once it has exited
    (its /proc entry gone, or a zombie's, which has no VmRSS)."""
    try:
        fds = len(os.listdir(f"/proc/{pid}/fd"))
        status = Path(f"/proc/{pid}/status").read_text()
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    threads = re.search(r"^Threads:\s+(\d+)", status, re.MULTILINE)
    rss_kib = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
    if threads is None or rss_kib is None:
        return None
    # Fields after the parenthesised command name: state is [0], utime [11], stime [12].
    fields = stat.rsplit(")", 1)[1].split()
    cpu_s = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return fds, int(threads.group(1)), int(rss_kib.group(1)), cpu_s


def read_time_wait():
    """TIME_WAIT TCP sockets on the machine (`tw` of /proc/net/sockstat)."""
    match = re.search(r"^TCP:.*\btw (\d+)", Path("/proc/net/sockstat").read_text(),
                      re.MULTILINE)
    return int(match.group(1)) if match else -1


def check_still_echoes(addr):
    """One more echo from this script; None if it works, else what went wrong."""
    host, port = addr.rsplit(":", 1)
    message = b"soak: still echoing?\n"
    try:
        with socket.create_connection((host, int(port)), timeout=5) as conn:
            conn.sendall(message)
            received = b""
            while len(received) < len(message):
                chunk = conn.recv(len(message) - len(received))
                if not chunk:
                    break
                received += chunk
            conn.shutdown(socket.SHUT_WR)
            rest = conn.recv(64)
    except OSError as e:
        return str(e)
    if received != message or rest:
        return f"sent {message!r}, got {received!r} then {rest!r}"
    return None


def read_server_errors(log):
    """The server's error lines (each starts with `soak_server:`); anything else too."""
    log.flush()
    log.seek(0)
    return [line.rstrip() for line in log if line.strip()]


def at_fraction(load, total, fraction):
    """The first load sample with at least `fraction` of `total` connections done."""
    for s in load:
        if s.done >= fraction * total:
            return s
    return load[-1] if load else None


def rss_slope(points):
    """Least-squares slope of RSS (bytes) against connections done, or None if degenerate."""
    n = len(points)
    mean_x = sum(s.done for s in points) / n
    mean_y = sum(s.rss_kib * 1024 for s in points) / n
    sxx = sum((s.done - mean_x) ** 2 for s in points)
    if sxx == 0:
        return None
    sxy = sum((s.done - mean_x) * (s.rss_kib * 1024 - mean_y) for s in points)
    return sxy / sxx


def judge(args, samples, done):
    """The three verdicts of the module doc."""
    before = [s for s in samples if s.phase == "before"]
    load = [s for s in samples if s.phase == "load"]
    idle = [s for s in samples if s.phase == "idle"]
    if not before or not load or not idle or done == 0:
        reason = "no samples of every phase (the server died?) or no connection done"
        return [Verdict(name, False, reason) for name in ("descriptors", "threads", "RSS")]
    final = idle[-1]
    warm = at_fraction(load, done, WARM_UP_FRACTION)
    verdicts = [
        Verdict("descriptors", final.fds == before[-1].fds,
                f"final {final.fds}, before the load {before[-1].fds}: must be equal"),
        Verdict("threads", final.threads <= warm.threads + args.thread_slack,
                f"final {final.threads}, warm-up {warm.threads}: must be <= warm-up + "
                f"{args.thread_slack}"),
    ]
    window = [s.rss_kib for s in load
              if WARM_UP_FRACTION * done <= s.done <= RSS_FROM_FRACTION * done]
    reference_kib = (statistics.median(window) if window
                     else at_fraction(load, done, RSS_FROM_FRACTION).rss_kib)
    bound = max(args.rss_bound_mib * 1024 * 1024, 0.10 * reference_kib * 1024)
    growth = (final.rss_kib - reference_kib) * 1024
    reasons = [f"final {final.rss_kib / 1024:.1f} MiB - median over 10-25% "
               f"{reference_kib / 1024:.1f} MiB ({len(window)} samples) = {fmt_bytes(growth)}, "
               f"bound {fmt_bytes(bound)}"]
    flat = growth <= bound
    tail = [s for s in load if s.done >= SLOPE_FROM_FRACTION * done]
    slope = rss_slope(tail) if len(tail) >= MIN_SLOPE_SAMPLES else None
    if slope is None:
        reasons.append(f"slope not checked: {len(tail)} samples past 50%")
    else:
        trend = slope * done
        reasons.append(f"second-half slope {slope * 100_000 / 1024:+.1f} KiB per 100k "
                       f"connections, x {done:,} = {fmt_bytes(trend)}")
        flat = flat and trend <= bound
    verdicts.append(Verdict("RSS", flat, "; ".join(reasons)))
    return verdicts


def print_summary(args, samples, done, errors, why, load_seconds, output, server_errors):
    """Connections, rate, errors, and the table of descriptors, threads and RSS."""
    rate = done / load_seconds if load_seconds > 0 else 0
    stopped = {"complete": "all connections made",
               "deadline": f"stopped early: --max-seconds {args.max_seconds:g} reached",
               "errors": "stopped early: too many errors"}.get(why, why)
    print(f"connections: {done:,} done, {errors:,} failed, of {args.connections:,} "
          f"({stopped})")
    print(f"load: {load_seconds:.1f} s, {rate:,.0f} connections/s, concurrency "
          f"{args.concurrency}, {args.payload} B each")
    for count, kind in output.error_kinds:
        print(f"  client error x{count}: {kind}")
    for line in server_errors[:SHOWN_SERVER_ERRORS]:
        print(f"  server: {line}")
    if len(server_errors) > SHOWN_SERVER_ERRORS:
        print(f"  server: ... {len(server_errors) - SHOWN_SERVER_ERRORS} more")
    before = [s for s in samples if s.phase == "before"]
    load = [s for s in samples if s.phase == "load"]
    idle = [s for s in samples if s.phase == "idle"]
    if not (before and load and idle and done):
        return
    points = [("before", before[-1]), ("warm-up (10%)", at_fraction(load, done, 0.10)),
              ("25%", at_fraction(load, done, 0.25)), ("end of load", load[-1]),
              ("final (idle)", idle[-1])]
    cpu = idle[-1].cpu_s - before[-1].cpu_s
    print(f"server CPU: {cpu:.1f} s over the load ({cpu / max(load_seconds, 1e-9):.2f} cores); "
          f"peak TIME_WAIT on the machine {max(s.tcp_tw for s in samples):,}")
    print()
    print("| | " + " | ".join(name for name, _ in points) + " | peak |")
    print("|---|" + "---|" * (len(points) + 1))
    print("| connections done | " + " | ".join(f"{s.done:,}" for _, s in points) + " | |")
    for label, key, fmt in (("descriptors", "fds", str), ("threads", "threads", str),
                            ("RSS", "rss_kib", lambda kib: f"{kib / 1024:.1f} MiB")):
        peak = max(getattr(s, key) for s in samples)
        print(f"| {label} | " + " | ".join(fmt(getattr(s, key)) for _, s in points)
              + f" | {fmt(peak)} |")
    print()


def fmt_bytes(n):
    return f"{n / 1024 / 1024:+.2f} MiB" if abs(n) >= 1024 * 1024 else f"{n / 1024:+.1f} KiB"


def machine():
    """nproc, kernel and rustc version, on one line."""
    return "; ".join([f"nproc {os.cpu_count()}", f"Linux {platform.release()}",
                      run_text(["rustc", "--version"])])


def git_describe():
    """The commit the tree is at, and whether it has uncommitted changes (read-only)."""
    done = subprocess.run(["git", "describe", "--always", "--dirty"], capture_output=True,
                          text=True, cwd=WORKSPACE_DIR)
    return done.stdout.strip() if done.returncode == 0 else "not a git checkout"


def sysctls():
    """The kernel settings that decide how TIME_WAIT and ephemeral ports behave."""
    parts = []
    for name in ("net/ipv4/tcp_tw_reuse", "net/ipv4/ip_local_port_range",
                 "net/ipv4/tcp_max_tw_buckets", "net/core/somaxconn"):
        try:
            value = " ".join(Path("/proc/sys", name).read_text().split())
        except OSError:
            value = "?"
        parts.append(f"{name.rsplit('/', 1)[1]} {value}")
    return "; ".join(parts)


def stop(process):
    """Stops a child this script started: SIGTERM, then SIGKILL if it lingers."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if process in RUNNING:
        RUNNING.remove(process)


def stop_children():
    """Stops every child still running; registered with atexit."""
    for process in list(RUNNING):
        stop(process)


def run_text(command):
    """Runs `command` and returns its stdout; on failure, exits with its stderr."""
    done = subprocess.run(command, capture_output=True, text=True, cwd=WORKSPACE_DIR)
    if done.returncode != 0:
        fail(f"{shlex.join(command)}: exit status {done.returncode}\n{done.stderr}")
    return done.stdout.strip()


def warn(message):
    print(message, file=sys.stderr, flush=True)


def fail(message):
    warn(f"soak.py: {message}")
    sys.exit(1)


if __name__ == "__main__":
    main()
