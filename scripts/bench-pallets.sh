#!/usr/bin/env bash
# Regenerates the committed weights from their benchmarks, on a release-profile node (issue #11):
# every Platone pallet's weights.rs, and runtime/src/weights/ for the polkadot-sdk pallets that
# ship none. Builds `platone-node --release --features runtime-benchmarks` in the shared target
# dir, a separate build from the default one, so it is not part of CI. Record the machine in
# docs/benchmarks.md when you commit the result.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
STEPS="${STEPS:-20}"
REPEAT="${REPEAT:-10}"
cargo build --locked --release -p platone-node --features runtime-benchmarks
NODE="$CARGO_TARGET_DIR/release/platone-node"
# Plain pooling: copy-on-write instances need memfd seals, which some sandboxes refuse
# ("cannot add seals to the memfd"); instantiation is outside what a benchmark measures.
bench() {
  "$NODE" benchmark pallet --chain dev --pallet "$1" --extrinsic '*' \
    --steps "$STEPS" --repeat "$REPEAT" --wasm-execution compiled \
    --wasm-instantiation-strategy pooling "${@:2}"
}
for pallet in ${PALLETS:-certification consortium registry}; do
  bench "pallet_$pallet" --template scripts/weight-template.hbs \
    --output "pallets/$pallet/src/weights.rs"
done
# The pallet's own WeightInfo trait, implemented by the CLI's default template.
bench pallet_node_authorization --output runtime/src/weights/pallet_node_authorization.rs
cargo fmt --all
