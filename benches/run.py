#!/usr/bin/env python3
"""Runs DESIGN.md §7's workloads on gort, tokio and Go and prints a Markdown table of medians.

Each run is a fresh process (`target/release/workloads <runtime> <workload>` for gort and tokio,
`benches/go/bin/workloads <workload>` for Go), all with 2 workers (`ticker_block200`: 1, which the
programs set); every workload runs `--runs` times per runtime (default 5) and the table shows
medians and the ratios gort/Go and gort/tokio.
Runs of one workload on the runtimes alternate, so that drift on the machine (about ±30%
run to run, DESIGN.md §7) hits them all alike.

Two more "runtimes" compare channel crates on the channel workloads `pingpong1`,
`pingpong1000x100` and `mpsc4x1024`: `async-channel` and `flume` (`workloads async-channel
<workload>`, `workloads flume <workload>`), each crate's channels on a tokio runtime with 2
workers. They get a column each, after gort/tokio, only in a table that has one of those rows
("-" in its other rows), so a table without channel rows is the same as before they existed.

Most workloads report one number (`RESULT <workload> <runtime> <value> <unit>`) and get one row.
Some report several from the same run (`sleep100us`: the median and the p99 of its sleeps), one
`RESULT <workload>.<metric> ...` line each; each metric gets its own row, labelled
`<workload>.<metric>`, with the median over the runs of that metric. `WARNING` lines in a run's
output (say, a deadline that passed before `timer_fire1m` had armed its timers) are passed on to
stderr.

The tokio-API workloads (`mpsc_pingpong1`, `mpsc_pingpong1000x100`, `mpsc_4x1024`,
`oneshot200k`, `fs_read`, `process_true1000`, `broadcast_fanout100`, `watch_updates100k`,
`localset_yield1000x200`) compare gort's native
versions of tokio's primitives (`gort::sync::mpsc`, `gort::fs`, ...) with tokio's own, on gort
and tokio only: Go has no counterpart of most, and its channels have rows of their own. Their
bodies are in `src/bin/workloads/tokio_api.rs` (the `mpsc` ones reuse the channel workloads').

A workload runs only on the runtimes its entry lists (`gc_pause`: Go and gort, as tokio has no
garbage collector), and a metric is expected only from the runtimes it lists (`cycles100k.objects`:
Go and gort); the other cells of the row are "-".

With `--rt`, it also runs the criterion bench `rt_multi_threaded` (tokio's suite ported to both
runtimes) and the Go translations of its rows (`rt_*` modes of the Go program), and prints a
second table of median time per iteration.

Adding a workload (channels...): add an entry to WORKLOADS below, and the workload itself to
`src/bin/workloads.rs` (or to a module of it in `src/bin/workloads/`, registered in its
WORKLOADS) and `go/workloads/main.go` under the same name and with the same metrics.

`--runtimes` limits the runtimes (say while one of them cannot run a new workload yet); the
workloads binary is still built with both Rust runtimes in it.

Examples, from the workspace root:
    python3 benches/run.py                      # 5 runs of every workload
    python3 benches/run.py --runs 1 --only spawn200k
    python3 benches/run.py --runs 1 --only sleep100us    # its rows: sleep100us.median, .p99
    python3 benches/run.py --runs 1 --only echo50x2000 --runtimes go,tokio
    python3 benches/run.py --runs 1 --only mpsc4x1024    # also async-channel and flume columns
    python3 benches/run.py --runs 3 --only gc_pause      # Go and gort only: 18 rows
    python3 benches/run.py --runs 1 --only pingpong1 --runtimes go,tokio,gort,async-channel,flume
    python3 benches/run.py --runs 3 --only oneshot200k    # tokio API: gort and tokio only
    python3 benches/run.py --rt --warm-up-time 1 --measurement-time 2 --sample-size 10
"""

import argparse
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Metric:
    """One number a workload reports: one row of the table."""

    name: str  # "" for a workload's only number; else `<metric>` in its `<workload>.<metric>`
    label: str  # what the number is, after the workload's label ("" for a workload's only one)
    unit: str  # unit the binaries print the value in (the rest of the RESULT line: may have spaces)
    goal: str = ""  # DESIGN.md §7 goal for gort, in `unit` ("": no goal)
    # The runtimes that report it, when only some of the workload's do (None: all of them); the
    # others' cells in its row are "-".
    runtimes: tuple = None


@dataclass(frozen=True)
class Workload:
    """One row of DESIGN.md §7, or a few rows for a workload with several metrics."""

    name: str  # name on the workloads binaries' command line
    label: str  # DESIGN.md §7 wording
    metrics: tuple  # the Metrics its RESULT lines carry, in table order
    runtimes: tuple = ("go", "tokio", "gort")  # the runtimes that implement it

    def result_key(self, metric):
        """The second field of `metric`'s RESULT line."""
        return f"{self.name}.{metric.name}" if metric.name else self.name

    def metrics_on(self, runtime):
        """The metrics whose RESULT lines `runtime` prints."""
        return [m for m in self.metrics if m.runtimes is None or runtime in m.runtimes]


def one_number(name, label, unit, goal="", runtimes=("go", "tokio", "gort")):
    """A workload that reports one number, printed as `RESULT <name> ...`."""
    return Workload(name, label, (Metric("", "", unit, goal),), runtimes)


# The channel crates compared on some channel workloads, each on a tokio runtime: runtimes of
# their own on the workloads binary's command line, and columns of their own in the table.
CHANNEL_CRATES = ("async-channel", "flume")

# The runtimes of the channel workloads that compare channel crates.
WITH_CRATES = ("go", "tokio", "gort", *CHANNEL_CRATES)

# The runtimes of the tokio-API workloads: gort's `tokio::`-named primitives against tokio's.
TOKIO_API = ("tokio", "gort")


# The workloads the binaries implement: DESIGN.md §7's in the order of §7, then the timer
# workloads, the blocking-in-place ones and the GC ones, which have no row there.
#
# The rendezvous rows (`pingpong*`, `parked200k`) use Go's unbuffered channel, `gort::chan(0)` and
# `flume::bounded(0)`; tokio's `mpsc` and async-channel have no capacity 0 and use 1.
#
# `ticker_block200` and `block_in_place_fast` encode variants as metrics, since the table has one
# column per runtime: `in_place` blocks through `block_in_place` and `plain` blocks a poll
# without telling the runtime (Go has only the first: both rows show its one run);
# `per_poll` makes each call the first of its poll and `in_loop` makes 1M in one poll (tokio's
# cost differs between the two; Go's one figure, Syscall minus RawSyscall of getpid, is in both).
#
# `gc_pause` runs on Go and gort only (tokio has no garbage collector): for each ring size, the
# stop-the-world pause of a collection (gort: `stats().last_pause`, the whole collection; Go:
# `MemStats.PauseNs`, only its two STW phases, as it marks concurrently) and the wall time of the
# call (`gc::collect()`, `runtime.GC()`). `cycles100k` reports `objects` (arena or heap objects
# left) on gort and Go only: tokio has nothing to count them with.
#
# The tokio-API rows, last, run on tokio and gort only (TOKIO_API): gort's `tokio::`-named
# primitives against tokio's. The `mpsc_*` rows are the channel rows' bodies on
# `gort::sync::mpsc` instead of `gort::chan`, capacity 1 on both (tokio's API has no 0).
# `oneshot200k` makes a fresh oneshot per round trip and gets its sender to the peer two ways:
# over an `mpsc(1)` to a server task (`via_mpsc`, the actor pattern) or by spawning the peer
# with it (`via_spawn`). `fs_read` reads files from the page cache that it wrote before the
# runtime started; `process_true1000` runs `true` with `Command::status`, in batches of 50
# tasks (`batch50`) or one at a time (`sequential`). `localset_yield1000x200` is
# `yield1000x200` with `spawn_local` in a `LocalSet` that the `block_on` future runs.
WORKLOADS = [
    one_number("spawn200k", "spawn 200k tasks from a task, countdown", "ns/task", "<= 200"),
    one_number("chained100k", "chained spawn, depth 100k", "ns/task", "<= 150"),
    one_number("yield1000x200", "yield, 1000 tasks x 200", "ns/yield", "<= 30"),
    one_number("pingpong1", "ping-pong over a rendezvous channel, 1 pair; tokio and async-channel: "
               "capacity 1", "ns/round trip", "<= 200", WITH_CRATES),
    one_number("pingpong_main", "ping-pong between the `block_on` future and a task, rendezvous; "
               "tokio: mpsc(1)", "ns/round trip", "<= 300"),
    one_number("pingpong1000x100", "ping-pong, 1000 pairs x 100, rendezvous; tokio and "
               "async-channel: capacity 1", "ns/round trip", "<= 150", WITH_CRATES),
    one_number("mpsc4x1024", "4 producers -> 1 consumer, cap 1024", "ns/msg", "<= 40",
               WITH_CRATES),
    Workload("sleeps100k", "100k sleeps of 1-50 ms", (
        Metric("mean", "mean lateness", "µs", "<= 1000"),
        Metric("max", "max lateness", "µs"),
    )),
    Workload("sleep100us", "sleep(100 µs) x 2000 in sequence", (
        Metric("median", "median actual", "µs", "<= 160"),
        Metric("p99", "p99 actual", "µs"),
    )),
    one_number("parked200k", "200k idle tasks parked on a channel each, RSS growth; tokio: "
               "mpsc(1)", "B/task", "<= 256"),
    one_number("echo50x2000", "TCP echo, 50 conns x 2000 x 64 B", "µs/round trip", "<= 6.5"),
    one_number("blocking2000", "2000 blocking 1 ms calls", "ms", "<= 30"),
    one_number("timer_cancel1m", "1M x (sleep 1 s, poll once, drop)", "ns/pair"),
    one_number("timer_fire1m", "1M tasks' timers firing at one deadline", "ns/timer"),
    Workload("ticker_block200", "1 ms ticker, 1 worker, another task blocks 200 ms", (
        Metric("in_place.p99", "block_in_place, p99 tick lateness", "µs"),
        Metric("in_place.max", "block_in_place, max tick lateness", "µs"),
        Metric("plain.p99", "plain blocking poll, p99 tick lateness", "µs"),
        Metric("plain.max", "plain blocking poll, max tick lateness", "µs"),
    )),
    Workload("block_in_place_fast", "block_in_place of an empty closure", (
        Metric("per_poll", "each call the first of its poll", "ns/call"),
        Metric("in_loop", "1M calls in one poll", "ns/call"),
    )),
    Workload("gc_pause", "GC with a ring of N live objects, 21 collections", tuple(
        Metric(f"{size}.{kind}{stat}", f"N = {size}, {what} {stat}", "µs")
        for size in ("10k", "100k", "1m")
        for kind, what in (("", "STW pause"), ("wall_", "wall time of the GC call"))
        for stat in ("p50", "p99", "max")
    ), ("go", "gort")),
    Workload("cycles100k", "100k channels each sent its own receiver, then let go; after GC", (
        Metric("bytes", "RSS growth", "B/cycle"),
        Metric("objects", "live objects left", "objects", runtimes=("go", "gort")),
    )),
    one_number("mpsc_pingpong1", "tokio API: `sync::mpsc` ping-pong, capacity 1, 1 pair",
               "ns/round trip", runtimes=TOKIO_API),
    one_number("mpsc_pingpong1000x100", "tokio API: `sync::mpsc` ping-pong, capacity 1, "
               "1000 pairs x 100", "ns/round trip", runtimes=TOKIO_API),
    one_number("mpsc_4x1024", "tokio API: `sync::mpsc`, 4 producers -> 1 consumer, cap 1024",
               "ns/msg", runtimes=TOKIO_API),
    Workload("oneshot200k", "tokio API: `oneshot` round trip, a fresh channel each, x 200k", (
        Metric("via_mpsc", "sender sent over `mpsc(1)` to a server task", "ns/round trip"),
        Metric("via_spawn", "sender moved into a spawned task", "ns/round trip"),
    ), TOKIO_API),
    Workload("fs_read", "tokio API: `fs::read` of a cached file, one read at a time", (
        Metric("4k", "4 KiB x 10k", "µs/read"),
        Metric("16m", "16 MiB x 50", "µs/read"),
    ), TOKIO_API),
    Workload("process_true1000", "tokio API: `Command::new(\"true\").status()`, 1000 children", (
        Metric("batch50", "50 tasks at once, batch joined before the next", "µs/process"),
        Metric("sequential", "one at a time", "µs/process"),
    ), TOKIO_API),
    one_number("broadcast_fanout100", "tokio API: `broadcast`, 1 sender -> 100 receiver tasks, "
               "2000 values, a yield after each send", "ns/delivery", runtimes=TOKIO_API),
    one_number("watch_updates100k", "tokio API: `watch`, 100k `send`s (a yield after each), "
               "10 receiver tasks on `changed()`", "ns/update", runtimes=TOKIO_API),
    one_number("localset_yield1000x200", "tokio API: `LocalSet::run_until`, 1000 `spawn_local` "
               "tasks x 200 `yield_now`", "ns/yield", runtimes=TOKIO_API),
]

# The criterion benches of benches/rt_multi_threaded.rs, with the Go program's mode for each one
# that translates (None: no Go counterpart, as Go cannot start a goroutine from outside).
RT_BENCHES = [
    ("spawn_many_local", "rt_spawn_many_local"),
    ("spawn_many_remote_idle", None),
    ("spawn_many_remote_busy1", None),
    ("spawn_many_remote_busy2", None),
    ("ping_pong", "rt_ping_pong"),
    ("yield_many", "rt_yield_many"),
    ("chained_spawn", "rt_chained_spawn"),
]

# Worker threads for every runtime: gort_benches::NUM_WORKERS (the machine has 2 cores). The
# programs set it themselves (1 for `ticker_block200`); the environment says it again for anyone
# reading `ps`.
WORKERS = 2

# Runtimes in table order; Go is dropped when `go` is not installed. Only the workloads that list
# a runtime in their `runtimes` run on it (the channel crates: only some channel workloads).
RUNTIMES = ["go", "tokio", "gort", *CHANNEL_CRATES]

# Longest a single workload process may take before it counts as hung, in seconds.
RUN_TIMEOUT = 120

BENCHES_DIR = Path(__file__).resolve().parent
WORKSPACE_DIR = BENCHES_DIR.parent
GO_DIR = BENCHES_DIR / "go"
GO_BINARY = GO_DIR / "bin" / "workloads"


def main():
    args = parse_args()
    workloads = [w for w in WORKLOADS if args.only in (None, w.name)]
    rt_benches = [b for b in RT_BENCHES if args.rt and args.only in (None, b[0])]
    if not workloads and not rt_benches:
        names = [w.name for w in WORKLOADS] + [b[0] for b in RT_BENCHES]
        fail(f"--only {args.only}: no such workload{'' if args.rt else ' (rt benches need --rt)'}; "
             f"known: {' '.join(names)}")

    runtimes = [rt for rt in RUNTIMES if rt in args.runtimes]
    if "go" in runtimes and shutil.which("go") is None:
        warn("`go` not found: skipping Go (install it with `apt-get install -y golang-go`)")
        runtimes.remove("go")

    print(f"command: `{shlex.join(['python3', *sys.argv])}`")
    print()
    print(f"machine: {machine()}")
    print()

    rust_binary = build("go" in runtimes, args.alloc)
    if workloads:
        print_workloads_table(workloads, runtimes, rust_binary, args.runs)
    if rt_benches:
        print_rt_table(rt_benches, runtimes, args)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="processes per workload and runtime")
    parser.add_argument("--alloc", choices=["system", "mimalloc"], default="system",
                        help="global allocator of the gort and tokio binaries (default: glibc's)")
    parser.add_argument("--only", metavar="WORKLOAD", help="run only this workload (or rt bench)")
    parser.add_argument("--runtimes", type=runtime_list, default=RUNTIMES, metavar="RT,RT",
                        help=f"comma-separated runtimes to run (default: {','.join(RUNTIMES)})")
    parser.add_argument("--rt", action="store_true",
                        help="also run rt_multi_threaded (criterion) and its Go translations")
    parser.add_argument("--warm-up-time", type=float, default=3.0, metavar="SECONDS",
                        help="--rt: warm-up per bench (criterion's default: 3)")
    parser.add_argument("--measurement-time", type=float, default=5.0, metavar="SECONDS",
                        help="--rt: measurement per bench (criterion's default: 5)")
    parser.add_argument("--sample-size", type=int, default=100, metavar="N",
                        help="--rt: samples per criterion bench (criterion's default: 100, min 10)")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    return args


def runtime_list(text):
    """The `--runtimes` value as a list, each checked against RUNTIMES."""
    runtimes = [rt.strip() for rt in text.split(",") if rt.strip()]
    unknown = [rt for rt in runtimes if rt not in RUNTIMES]
    if unknown or not runtimes:
        raise argparse.ArgumentTypeError(f"expected some of {','.join(RUNTIMES)}, got {text!r}")
    return runtimes


def machine():
    """nproc, kernel, rustc and go versions, on one line."""
    parts = [
        f"nproc {run_text(['nproc'])}",
        f"Linux {platform.release()}",
        run_text(["rustc", "--version"]),
    ]
    if shutil.which("go") is not None:
        parts.append(run_text(["go", "version"]))
    return "; ".join(parts)


def alloc_features(alloc):
    """Cargo arguments selecting the Rust binaries' global allocator (Go always uses its own)."""
    return ["--features", "mimalloc"] if alloc == "mimalloc" else []


def build(with_go, alloc):
    """Builds the Rust workloads binary (and the Go one); returns the Rust binary's path."""
    check_call(["cargo", "build", "--release", "-p", "gort-benches", "--bin", "workloads",
                *alloc_features(alloc)], cwd=WORKSPACE_DIR)
    if with_go:
        check_call(["go", "build", "-o", str(GO_BINARY), "./workloads"], cwd=GO_DIR)
    return target_dir() / "release" / "workloads"


def target_dir():
    metadata = run_text(["cargo", "metadata", "--format-version", "1", "--no-deps"])
    return Path(json.loads(metadata)["target_directory"])


def workload_command(rust_binary, runtime, name):
    if runtime == "go":
        return [str(GO_BINARY), name]
    return [str(rust_binary), runtime, name]


def print_workloads_table(workloads, runtimes, rust_binary, runs):
    # Runtimes that run at least one of these workloads; a channel crate's column only if so.
    used = [rt for rt in runtimes if any(rt in w.runtimes for w in workloads)]
    crates = [rt for rt in CHANNEL_CRATES if rt in used]
    print("per run: " + ", ".join(
        f"`{shlex.join(workload_command(rust_binary, rt, 'WORKLOAD'))}`" for rt in used))
    print()
    print("| workload | Go | tokio | gort | gort/Go | gort/tokio | "
          + "".join(f"{rt} | " for rt in crates) + "DESIGN §7 goal |")
    print("|---|---|---|---|---|---|" + "---|" * len(crates) + "---|")
    for w in workloads:
        on = [rt for rt in runtimes if rt in w.runtimes]
        # values[metric][runtime]: that metric's value in each run of that runtime.
        values = {m: {rt: [] for rt in on if m in w.metrics_on(rt)} for m in w.metrics}
        for _ in range(runs):
            for rt in on:
                results = run_workload(workload_command(rust_binary, rt, w.name), w, rt)
                for m, value in results.items():
                    values[m][rt].append(value)
        for m in w.metrics:
            medians = {rt: statistics.median(v) for rt, v in values[m].items()}
            what = f"{w.label}, {m.label}" if m.label else w.label
            goal = f"{m.goal} {m.unit}" if m.goal else "-"
            print_row(f"{what} (`{w.result_key(m)}`, {m.unit})", medians,
                      *(fmt_value(medians.get(rt)) for rt in crates), goal)
    print()


def run_workload(command, workload, runtime):
    """Runs one workload process and returns the value of each of its metrics' RESULT lines,
    keyed by Metric (the metrics `runtime` reports). Its WARNING lines go to stderr."""
    stdout = run_text(command, timeout=RUN_TIMEOUT, env=child_env())
    expected = {workload.result_key(m): m for m in workload.metrics_on(runtime)}
    results = {}
    for line in stdout.splitlines():
        if line.startswith("WARNING"):
            warn(f"{shlex.join(command)}: {line}")
            continue
        # The unit is the rest of the line: "µs/round trip" has a space.
        fields = line.split(maxsplit=4)
        if len(fields) == 5 and fields[0] == "RESULT" and fields[2] == runtime:
            metric = expected.get(fields[1])
            if metric is None:
                continue
            if fields[4] != metric.unit:
                fail(f"{shlex.join(command)}: {fields[1]} in {fields[4]}, expected {metric.unit}")
            results[metric] = float(fields[3])
    missing = [key for key, m in expected.items() if m not in results]
    if missing:
        fail(f"{shlex.join(command)}: no RESULT line for {' '.join(missing)} in its output:\n"
             f"{stdout}")
    return results


def print_rt_table(rt_benches, runtimes, args):
    timing = ["--warm-up-time", f"{args.warm_up_time:g}",
              "--measurement-time", f"{args.measurement_time:g}",
              "--sample-size", str(args.sample_size)]
    rust_runtimes = [rt for rt in ("gort", "tokio") if rt in runtimes]
    cargo_bench = ["cargo", "bench", "-p", "gort-benches", "--bench", "rt_multi_threaded",
                   *alloc_features(args.alloc), "--", *timing]
    if args.only is not None:
        cargo_bench.append(f"^rt_multi_scheduler/({'|'.join(rust_runtimes)})/{args.only}$")
    elif len(rust_runtimes) == 1:
        cargo_bench.append(f"^rt_multi_scheduler/{rust_runtimes[0]}/")
    if rust_runtimes:
        check_call(cargo_bench, cwd=WORKSPACE_DIR)
    print(f"rt_multi_threaded: `{shlex.join(cargo_bench) if rust_runtimes else 'not run'}`, Go: "
          f"`{GO_BINARY} -warmup {args.warm_up_time:g}s -measure {args.measurement_time:g}s "
          f"rt_<bench>`; median time per iteration")
    print()
    print("| rt_multi_scheduler bench | Go | tokio | gort | gort/Go | gort/tokio |")
    print("|---|---|---|---|---|---|")
    criterion = target_dir() / "criterion" / "rt_multi_scheduler"
    for bench, go_mode in rt_benches:
        medians = {rt: criterion_median_us(criterion / rt / bench) for rt in rust_runtimes}
        if go_mode is not None and "go" in runtimes:
            command = [str(GO_BINARY), "-warmup", f"{args.warm_up_time:g}s",
                       "-measure", f"{args.measurement_time:g}s", go_mode]
            medians["go"] = run_rt_go(command, go_mode) / 1000
        print_row(f"`{bench}` (µs/iter)", medians)
    print()


def criterion_median_us(bench_dir):
    """The median of the latest criterion run of one bench, in µs per iteration."""
    estimates = json.loads((bench_dir / "new" / "estimates.json").read_text())
    return estimates["median"]["point_estimate"] / 1000


def run_rt_go(command, mode):
    """Runs one Go rt_ mode and returns its median ns per iteration."""
    stdout = run_text(command, timeout=RUN_TIMEOUT, env=child_env())
    for line in stdout.splitlines():
        fields = line.split()
        if fields[:3] == ["RESULT", mode, "go"] and fields[4:] == ["ns/iter"]:
            return float(fields[3])
    fail(f"{shlex.join(command)}: no RESULT line in its output:\n{stdout}")


def print_row(label, medians, *extra):
    """One Markdown row: label, Go, tokio, gort, gort/Go, gort/tokio, then `extra`."""
    cells = [label]
    cells += [fmt_value(medians.get(rt)) for rt in ("go", "tokio", "gort")]
    cells += [fmt_ratio(medians.get("gort"), medians.get(rt)) for rt in ("go", "tokio")]
    print("| " + " | ".join([*cells, *extra]) + " |")


def fmt_value(value):
    if value is None:
        return "-"
    return f"{value:.1f}" if value < 100 else f"{value:.0f}"


def fmt_ratio(numerator, denominator):
    # A zero denominator: `cycles100k.objects` is 0 whenever every cycle was reclaimed.
    if numerator is None or denominator is None or denominator == 0:
        return "-"
    ratio = numerator / denominator
    # Two significant digits below 0.01 (`block_in_place_fast.per_poll`'s gort/tokio is ~0.0015),
    # where two decimals would print 0.00.
    return f"{ratio:.2g}" if 0 < abs(ratio) < 0.01 else f"{ratio:.2f}"


def child_env():
    return {**os.environ, "GOMAXPROCS": str(WORKERS), "GORT_MAXPROCS": str(WORKERS)}


def run_text(command, timeout=None, env=None):
    """Runs `command` and returns its stdout; on failure, exits with its stderr."""
    try:
        # UTF-8 whatever the locale: units such as "µs/round trip" are not ASCII.
        done = subprocess.run(command, capture_output=True, text=True, encoding="utf-8",
                              timeout=timeout, env=env, cwd=WORKSPACE_DIR)
    except subprocess.TimeoutExpired as e:
        # The child is killed; what it wrote so far comes back as bytes even in text mode.
        stderr = (e.stderr or b"").decode(errors="replace")
        fail(f"{shlex.join(command)}: no result after {timeout} s (hung?)\n{stderr}")
    if done.returncode != 0:
        fail(f"{shlex.join(command)}: exit status {done.returncode}\n{done.stderr}")
    return done.stdout.strip()


def check_call(command, cwd):
    """Runs a build step with its output on stderr; exits if it fails."""
    warn(f"$ {shlex.join(command)}")
    if subprocess.run(command, cwd=cwd, stdout=sys.stderr).returncode != 0:
        fail(f"{shlex.join(command)} failed")


def warn(message):
    print(message, file=sys.stderr, flush=True)


def fail(message):
    warn(f"run.py: {message}")
    sys.exit(1)


if __name__ == "__main__":
    main()
