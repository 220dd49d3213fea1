#!/usr/bin/env bash
# Regenerates the committed weights from their benchmarks, on a release-profile node (issue #11):
# the weights.rs of the Platone pallets whose weights are all measured (PALLETS), and
# runtime/src/weights/ for the pallets whose trait and mock estimates stay in the pallet (the
# market's clearing is charged on its work budget, docs/market.md) and the polkadot-sdk pallets
# that ship none (RUNTIME_PALLETS). Builds `platone-node --release --features runtime-benchmarks`
# in the shared target dir, a separate build from the default one, so it is not part of CI.
# Record the machine in docs/benchmarks.md when you commit the result.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
# The market's clearing and sealing benchmarks set up sessions of up to 11,000 items per run:
# its committed weights took STEPS=8 REPEAT=3 (5.4 min), settlement's 10 × 5 (3.2 min).
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
for pallet in ${PALLETS-certification consortium registry}; do
  bench "pallet_$pallet" --template scripts/weight-template.hbs \
    --output "pallets/$pallet/src/weights.rs"
done
# The pallet's own WeightInfo trait, implemented by the CLI's default template.
for pallet in ${RUNTIME_PALLETS-node_authorization market settlement}; do
  bench "pallet_$pallet" --output "runtime/src/weights/pallet_$pallet.rs"
done
cargo fmt --all
