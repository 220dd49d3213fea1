#!/usr/bin/env bash
# Fuzzes the parsers of outside input (bridges/fuzz) with cargo-fuzz and libFuzzer on nightly:
#   scripts/fuzz.sh [target…] [-- seconds]     # all targets, 60 s each, by default
# Installs cargo-fuzz and a nightly toolchain if missing; builds in its own target dir (nightly,
# sanitizers), never the shared one. Corpora grow under bridges/fuzz/corpus/<target>; commit a
# crashing input there (CI replays the corpus: bridges/ingest/tests/fuzz_corpus.rs).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
targets=()
seconds=60
while [ $# -gt 0 ]; do
  case "$1" in
    --) seconds="$2"; shift 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || targets=(ingest_message meter_readings_xml proof_document config market settlement_metering)
rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz
export CARGO_TARGET_DIR="$CARGO_TARGET_DIR/fuzz"
cd bridges/fuzz
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t"
  cargo +nightly fuzz run --fuzz-dir . "$t" "corpus/$t" -- -max_total_time="$seconds" -max_len=65536
done
