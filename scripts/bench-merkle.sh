#!/usr/bin/env bash
# Criterion figures of the certification primitives (docs/benchmarks.md, issue #3):
# tree building vs raw BLAKE2-256 on one core, and proof verification at 10^3, 10^6, 10^9 leaves.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
# One core, as the figure asks: criterion runs single-threaded, and taskset pins it.
exec taskset -c 0 cargo bench --locked -p platone-primitives --bench merkle -- "$@"
