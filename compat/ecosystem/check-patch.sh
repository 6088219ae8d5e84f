#!/usr/bin/env bash
# Checks that this workspace really builds on gort: Cargo drops a `[patch.crates-io]` entry it
# cannot use with only a warning (and builds crates.io tokio instead), so a green test run alone
# proves nothing. Fails when the lockfile records the patch as unused, when any crates.io tokio
# is in the graph, or when the shim (tokio 1.999.0) has no dependents.
set -euo pipefail
cd "$(dirname "$0")"

cargo build --tests --quiet

if grep -q '^\[\[patch\.unused\]\]' Cargo.lock; then
    echo "check-patch: the tokio patch is UNUSED (Cargo.lock has [[patch.unused]]):" >&2
    sed -n '/^\[\[patch\.unused\]\]/,/^$/p' Cargo.lock >&2
    exit 1
fi

# Every tokio in the lockfile must be the shim: name = "tokio" followed by its version line.
versions=$(awk '/^name = "tokio"$/ { getline; print $3 }' Cargo.lock | tr -d '"')
if [ "$versions" != "1.999.0" ]; then
    echo "check-patch: expected only tokio 1.999.0 (the shim), found: $versions" >&2
    exit 1
fi

dependents=$(cargo tree --edges normal,dev -i tokio@1.999.0 --prefix none | sed "s/ (\*)$//" | sort -u)
echo "$dependents"
for crate in hyper hyper-util axum reqwest tokio-util tokio-stream tower tokio-test tonic sqlx-core; do
    if ! grep -q "^$crate v" <<<"$dependents"; then
        echo "check-patch: $crate does not depend on the shim" >&2
        exit 1
    fi
done
echo "check-patch: ok, every tokio in the graph is gort's shim (tokio 1.999.0)"
