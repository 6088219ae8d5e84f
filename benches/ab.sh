#!/usr/bin/env bash
# Interleaved A/B of two builds of the `workloads` binary on gort: for each of ROUNDS rounds and
# each ROW, one fresh process of OLD then one of NEW; prints min and median per row and side,
# and the NEW/OLD ratios. Interleaving keeps this VM's drift (±30% between runs) out of the
# comparison.
#
#   git worktree add /tmp/old <commit> && (cd /tmp/old && cargo build --release -p gort-benches \
#       --bin workloads --target-dir /tmp/old-target)
#   cargo build --release -p gort-benches --bin workloads
#   benches/ab.sh /tmp/old-target/release/workloads target/release/workloads 25 pingpong1 mpsc4x1024
#
# A ROW is a workload (its first RESULT line) or WORKLOAD.METRIC for one of its lines:
#   benches/ab.sh OLD NEW 9 gc_pause.1m.p50 gc_pause.100k.p50
set -euo pipefail
if [ $# -lt 4 ]; then
    echo "usage: $0 OLD_WORKLOADS NEW_WORKLOADS ROUNDS ROW..." >&2
    exit 2
fi
old=$1 new=$2 rounds=$3
shift 3
# One process of `$1` on ROW `$2`: its value.
measure() {
    local workload=${2%%.*}
    if [ "$workload" = "$2" ]; then
        "$1" gort "$workload" 2>/dev/null | grep '^RESULT' | head -1 | awk '{print $4}'
    else
        "$1" gort "$workload" 2>/dev/null | awk -v row="$2" '$1 == "RESULT" && $2 == row {print $4}'
    fi
}
for _ in $(seq "$rounds"); do
    for row in "$@"; do
        echo "$row old $(measure "$old" "$row")"
        echo "$row new $(measure "$new" "$row")"
    done
done | python3 -c '
import collections, statistics, sys
runs = collections.defaultdict(list)
rows = []
for line in sys.stdin:
    row, side, value = line.split()
    runs[row, side].append(float(value))
    if row not in rows:
        rows.append(row)
for row in rows:
    old, new = runs[row, "old"], runs[row, "new"]
    print(f"{row:18} old min {min(old):8.1f} med {statistics.median(old):8.1f} | "
          f"new min {min(new):8.1f} med {statistics.median(new):8.1f} | "
          f"med ratio {statistics.median(new) / statistics.median(old):.2f}")
'
