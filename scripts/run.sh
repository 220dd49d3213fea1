#!/usr/bin/env bash
# The main job: a local Platone chain on embedded defaults. Ctrl-C stops it cleanly.
# Today this is a single development validator; the bridges join it as they land.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. scripts/env.sh
platone_build
DATA="${PLATONE_DATA:-$PLATONE_ROOT/.tmp/dev}"
mkdir -p "$DATA"
echo "Platone dev chain: JSON-RPC ws://127.0.0.1:9944, metrics http://127.0.0.1:9615/metrics"
echo "polkadot-js: https://polkadot.js.org/apps/?rpc=ws%3A%2F%2F127.0.0.1%3A9944"
exec "$PLATONE_NODE" --dev --base-path "$DATA" --rpc-cors all "$@"
