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
step "test, and the benchmark tests' compile beside it"
# A private PostgreSQL for the SCD's backend tests, stopped again however the tests end.
PLATONE_PG_URL="$(bash scripts/pg.sh start)"
export PLATONE_PG_URL
trap 'bash scripts/pg.sh stop' EXIT
# The benchmark tests compile the whole workspace's libraries with runtime-benchmarks: so that
# only what that feature changes compiles again (FRAME, the pallets, the runtime's native code),
# and without a benchmark wasm. Never in the main build: the wasm builder passes the runtime's
# features to the wasm, which would change the pinned genesis. That compile (4 min cold) runs
# while the tests run, at the lowest CPU and I/O priority: the tests mostly wait on 6-second
# blocks, and at nice 19 the compile takes only what they leave (issue #15, docs/build.md).
bench=(cargo test --locked --workspace --lib "${timings[@]}"
  --features platone-runtime/runtime-benchmarks)
tests_log="$(mktemp)"
# Every test binary of the workspace, side by side (.config/nextest.toml); the workspace has no
# doctests, which nextest would not run.
"$PLATONE_NEXTEST" nextest run --locked --workspace --no-fail-fast >"$tests_log" 2>&1 &
tests_pid=$!
tail -n +1 --pid="$tests_pid" -f "$tests_log" &
tail_pid=$!
# nextest runs cargo (a no-op after the test build) before the tests; the benchmark compile
# waits for it, or cargo's lock on the target dir would hold the tests back.
while kill -0 "$tests_pid" 2>/dev/null && ! grep -qE '^ *Starting [0-9]+ tests?' "$tests_log"; do
  sleep 1
done
bench_log="$(mktemp)"
SKIP_WASM_BUILD=1 nice -n 19 ionice -c 2 -n 7 "${bench[@]}" --no-run >"$bench_log" 2>&1 &
bench_pid=$!
tests_rc=0
wait "$tests_pid" || tests_rc=$?
wait "$tail_pid"
step "benchmark tests (every pallet benchmark runs once against its mock)"
bench_rc=0
wait "$bench_pid" || bench_rc=$?
cat "$bench_log"
rm -f "$tests_log" "$bench_log"
if [ "$tests_rc" != 0 ] || [ "$bench_rc" != 0 ]; then
  echo "tests: exit $tests_rc; benchmark tests' compile: exit $bench_rc" >&2
  exit 1
fi
SKIP_WASM_BUILD=1 "${bench[@]}" -- benchmarking::
step done
