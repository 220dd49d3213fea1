#!/usr/bin/env bash
# Regenerates every Platone pallet's weights.rs from its benchmarks.
# Builds a benchmark-enabled node (feature `runtime-benchmarks`) in the shared target dir; this is
# a separate build from the default one, so it is not part of CI.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
STEPS="${STEPS:-20}"
REPEAT="${REPEAT:-10}"
cargo build --locked -p platone-node --features runtime-benchmarks
NODE="$CARGO_TARGET_DIR/debug/platone-node"
for pallet in ${PALLETS:-certification consortium registry}; do
  "$NODE" benchmark pallet --chain dev --pallet "pallet_$pallet" --extrinsic '*' \
    --steps "$STEPS" --repeat "$REPEAT" --template scripts/weight-template.hbs \
    --output "pallets/$pallet/src/weights.rs"
done
cargo fmt --all
