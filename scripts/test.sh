#!/usr/bin/env bash
# Runs every check and test, from a fresh Debian machine or a warm one:
#   setup, rustfmt, build (one debug build serves the tests and the main job; it also runs
#   clippy), tests.
set -euo pipefail
cd "$(dirname "$0")/.."
PLATONE_SETUP_TEST_TOOLS=1 bash scripts/setup.sh
. scripts/env.sh
# The API's conformance test runs Schemathesis from here (and fails if it is missing).
export PLATONE_SCHEMATHESIS="$PLATONE_SCHEMATHESIS_VENV/bin/schemathesis"

step() { echo "== $* ($(date +%T))"; }
# PLATONE_TIMINGS=1 writes cargo's --timings report of each compiling step to the target dir
# (cargo-timings/), as docs/build.md's measurements were made.
timings=()
[ "${PLATONE_TIMINGS:-0}" = 1 ] && timings=(--timings)

step rustfmt
cargo fmt --all -- --check
# Clippy runs inside the compiles (RUSTC_WORKSPACE_WRAPPER, scripts/env.sh): with -D warnings,
# the build fails on a lint of the workspace's own crates, and no dependency is compiled twice.
# A lint the wrapper must refuse, so that a wrapper that stopped linting cannot pass unseen.
lint_probe="$(mktemp -d)"
printf 'pub fn f(x: &Vec<u8>) -> usize { x.len() }\n' >"$lint_probe/probe.rs"
if "$RUSTC_WORKSPACE_WRAPPER" rustc --edition 2021 --crate-type lib --out-dir "$lint_probe" \
  "$lint_probe/probe.rs" 2>/dev/null; then
  echo "scripts/rustc-clippy let a clippy::ptr_arg warning through" >&2
  exit 1
fi
rm -rf "$lint_probe"
step "build (and clippy of libraries and binaries)"
platone_build "${timings[@]}"
step "test build (and clippy of tests, examples and benches)"
cargo test --locked --workspace --all-targets --no-run "${timings[@]}"
step test
# A private PostgreSQL for the SCD's backend tests, stopped again however the tests end.
PLATONE_PG_URL="$(bash scripts/pg.sh start)"
export PLATONE_PG_URL
trap 'bash scripts/pg.sh stop' EXIT
# Every test binary of the workspace, side by side (.config/nextest.toml); the workspace has no
# doctests, which nextest would not run.
"$PLATONE_NEXTEST" nextest run --locked --workspace --no-fail-fast
step "benchmark tests (every pallet benchmark runs once against its mock)"
# The whole workspace, so that only what runtime-benchmarks changes compiles again (the
# runtime's native code, the pallets, FRAME); no benchmark wasm. Never in the main build:
# the feature would change the runtime wasm and so the pinned genesis.
SKIP_WASM_BUILD=1 cargo test --locked --workspace --lib "${timings[@]}" \
  --features platone-runtime/runtime-benchmarks -- benchmarking::
step done
