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

step build
platone_build
step rustfmt
cargo fmt --all -- --check
step clippy
# The wasm runtime is already built above; clippy only needs the native code.
SKIP_WASM_BUILD=1 cargo clippy --locked --workspace --all-targets -- -D warnings
step test
# A private PostgreSQL for the SCD's backend tests, stopped again however the tests end.
PLATONE_PG_URL="$(bash scripts/pg.sh start)"
export PLATONE_PG_URL
trap 'bash scripts/pg.sh stop' EXIT
cargo test --locked --workspace
step "benchmark tests (every pallet benchmark runs once against its mock)"
SKIP_WASM_BUILD=1 cargo test --locked -p pallet-certification -p pallet-consortium -p pallet-registry \
  --features pallet-certification/runtime-benchmarks,pallet-consortium/runtime-benchmarks,pallet-registry/runtime-benchmarks --lib
step done
