#!/usr/bin/env bash
# The same axum hello-world service on tokio and on gort through the tokio shim, under wrk with
# the same threads and connections; then a reqwest client fetching from each.
#
#   benches/shim/run.sh [DURATION_S] [CONNECTIONS]      (default 10 s, 64 connections)
#
# The gort build is the unchanged source with `[patch.crates-io] tokio = compat/tokio` added to a
# copy of its manifest; the two builds have their own target dirs and lock files.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
duration="${1:-10}"
connections="${2:-64}"
manifest="$here/axum-hello/Cargo.toml"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }

# One package copy per runtime, each with its own lock file: a patch given to a package whose
# lock file already pins crates.io tokio is silently not used.
for rt in tokio gort; do
    pkg="$here/target/$rt/pkg"
    mkdir -p "$pkg"
    ln -sfn "$here/axum-hello/src" "$pkg/src"
    cp "$manifest" "$pkg/Cargo.toml"
    if [ "$rt" = gort ]; then
        printf '\n[patch.crates-io]\ntokio = { path = "%s/compat/tokio" }\n' "$repo" >>"$pkg/Cargo.toml"
    fi
    cargo build -q --release --manifest-path "$pkg/Cargo.toml" --target-dir "$here/target/$rt"
done
# The gort build must really be on the shim, and the tokio build must not be.
cargo tree -q --manifest-path "$here/target/gort/pkg/Cargo.toml" -i tokio@1.999.0 >/dev/null
! grep -q '1.999.0' "$here/target/tokio/pkg/Cargo.lock"

port=18080
for rt in tokio gort; do
    port=$((port + 1))
    "$here/target/$rt/release/axum-hello" serve "127.0.0.1:$port" &
    server=$!
    sleep 1
    echo "== $rt"
    wrk -t2 -c"$connections" -d"${duration}s" --latency "http://127.0.0.1:$port/" \
        | grep -E "Requests/sec|99%|Latency  "
    "$here/target/$rt/release/axum-hello" fetch "http://127.0.0.1:$port/" 20000
    kill "$server"
    wait "$server" 2>/dev/null || true
done
