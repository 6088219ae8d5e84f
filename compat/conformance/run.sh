#!/usr/bin/env bash
# tokio's own integration tests, renamed `tokio::` -> `gort::`, run against gort.
#
#   compat/conformance/run.sh                  all files; writes COMPAT.md at the repo root
#   compat/conformance/run.sh --reference      the same, counting the tests of files that do not
#                                              compile as the real tokio builds them (slower once)
#   compat/conformance/run.sh --subset --exit-code
#                                              the files in subset.txt (CI); fails if a test in
#                                              expected-pass.txt does not pass
#   compat/conformance/run.sh sync_mpsc tcp_echo
#                                              just these files
#   compat/conformance/run.sh --help           every option (harness.py)
#
# Nothing of tokio is in the repository: the test files come from tokio's crate source in
# cargo's registry (~/.cargo/registry/src/*/tokio-$TOKIO_VERSION). When it is not there, a
# throwaway manifest depending on tokio =$TOKIO_VERSION is `cargo fetch`ed, which downloads and
# unpacks it. The generated package, its target dir, logs and results.json are under
# target/conformance/ (CONFORMANCE_WORK overrides).
set -euo pipefail

TOKIO_VERSION="${TOKIO_VERSION:-1.54.1}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
work="${CONFORMANCE_WORK:-$repo/target/conformance}"
cargo_home="${CARGO_HOME:-$HOME/.cargo}"

find_tokio() {
    local d
    for d in "$cargo_home"/registry/src/*/"tokio-$TOKIO_VERSION" "$work/tokio-$TOKIO_VERSION"; do
        if [ -f "$d/Cargo.toml" ] && [ -d "$d/tests" ]; then
            echo "$d"
            return 0
        fi
    done
    return 1
}

if ! src="$(find_tokio)"; then
    echo "conformance: tokio $TOKIO_VERSION is not in cargo's registry; fetching it" >&2
    fetch="$work/fetch-tokio"
    mkdir -p "$fetch/src"
    cat >"$fetch/Cargo.toml" <<EOF
[package]
name = "fetch-tokio"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
tokio = "=$TOKIO_VERSION"

[workspace]
EOF
    : >"$fetch/src/lib.rs"
    cargo fetch --manifest-path "$fetch/Cargo.toml" >&2
    if ! src="$(find_tokio)"; then
        # cargo fetch downloads into registry/cache; unpack the .crate ourselves if it did not.
        crate="$(ls "$cargo_home"/registry/cache/*/"tokio-$TOKIO_VERSION.crate" | head -n1)"
        tar -xzf "$crate" -C "$work"
        src="$(find_tokio)"
    fi
fi

# No __pycache__ beside the scripts in the work tree.
export PYTHONDONTWRITEBYTECODE=1
exec python3 "$here/harness.py" --tokio-src "$src" --tokio-version "$TOKIO_VERSION" \
    --work "$work" "$@"
