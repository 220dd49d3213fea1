#!/usr/bin/env bash
# Runs every check and test, from a fresh Debian machine or a warm one:
#   setup, build (one debug build serves the tests and the main job), rustfmt, clippy, tests.
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

step build
platone_build "${timings[@]}"
step rustfmt
cargo fmt --all -- --check
step clippy
# Same environment as the build (no SKIP_WASM_BUILD): the runtime's build script, and so the
# runtime and the node, stay fresh for the test step. The wasm built above is reused.
cargo clippy --locked --workspace --all-targets "${timings[@]}" -- -D warnings
step "test build"
cargo test --locked --workspace --no-run "${timings[@]}"
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
