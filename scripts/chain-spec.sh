#!/usr/bin/env bash
# Regenerates the committed chain specs from the runtime's genesis presets.
# The `code` field is left out on purpose: nodes fill in the runtime they embed
# (node/src/chain_spec.rs), so the committed JSON stays reviewable and build-independent.
set -euo pipefail
. "$(dirname "$0")/env.sh"
[ -x "$PLATONE_NODE" ] || platone_build
for chain in local-consortium; do
  "$PLATONE_NODE" build-spec --chain "$chain" --disable-default-bootnode 2>/dev/null \
    | python3 -c 'import json,sys; s=json.load(sys.stdin); s["genesis"]["runtimeGenesis"].pop("code",None); print(json.dumps(s,indent=2,sort_keys=True))' \
    > "$PLATONE_ROOT/chain-spec/$chain.json"
  echo "wrote chain-spec/$chain.json"
done
