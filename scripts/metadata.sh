#!/usr/bin/env bash
# Regenerates bridges/chain/metadata/platone.scale (metadata v16) from the runtime in this tree,
# for the subxt client the bridges use. tests/tests/metadata.rs fails while it is stale.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
PLATONE_UPDATE_METADATA=1 cargo test --locked --workspace --test metadata -- --quiet
echo "bridges/chain/metadata/platone.scale: $(stat -c %s bridges/chain/metadata/platone.scale) bytes"
