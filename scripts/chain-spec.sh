#!/usr/bin/env bash
# Regenerates the committed chain specs from the runtime's genesis presets.
# The `code` field is left out on purpose: nodes fill in the runtime they embed
# (node/src/chain_spec.rs), so the committed JSON stays reviewable. The genesis hash that this
# tree's node builds from it is pinned in `properties.genesisHash`: a node of another release
# refuses the spec instead of founding another chain (chain-spec/README.md).
set -euo pipefail
. "$(dirname "$0")/env.sh"
[ -x "$PLATONE_NODE" ] || platone_build

# The genesis hash the node builds from spec $1: a throw-away node on loopback, asked over RPC.
genesis_hash() {
  local dir port pid hash=""
  dir="$(mktemp -d)"
  # Port 0: the node binds a free port and logs it, so no other process can hold it.
  "$PLATONE_NODE" --chain "$1" --base-path "$dir" --rpc-port 0 --port 0 \
    --no-prometheus --no-telemetry --no-mdns >"$dir/log" 2>&1 &
  pid=$!
  for _ in $(seq 60); do
    port="$(grep -o 'Running JSON-RPC server: addr=127.0.0.1:[0-9]*' "$dir/log" | head -n 1 | sed 's/.*://')"
    [ -n "$port" ] && hash="$(curl -s -H 'Content-Type: application/json' \
      -d '{"id":1,"jsonrpc":"2.0","method":"chain_getBlockHash","params":[0]}' \
      "http://127.0.0.1:$port" | python3 -c 'import json,sys; print(json.load(sys.stdin)["result"])' 2>/dev/null)" && break
    sleep 1
  done
  kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
  rm -rf "$dir"
  [ -n "$hash" ] || { echo "chain-spec: no genesis hash from the node" >&2; return 1; }
  echo "$hash"
}
for chain in local-consortium; do
  "$PLATONE_NODE" build-spec --chain "$chain" --disable-default-bootnode 2>/dev/null \
    | python3 -c 'import json,sys; s=json.load(sys.stdin); s["genesis"]["runtimeGenesis"].pop("code",None); print(json.dumps(s,indent=2,sort_keys=True))' \
    > "$PLATONE_ROOT/chain-spec/$chain.json"
  hash="$(genesis_hash "$PLATONE_ROOT/chain-spec/$chain.json")"
  python3 - "$PLATONE_ROOT/chain-spec/$chain.json" "$hash" <<'PY'
import json, sys
path, pin = sys.argv[1], sys.argv[2]
spec = json.load(open(path))
spec.setdefault("properties", {})["genesisHash"] = pin
open(path, "w").write(json.dumps(spec, indent=2, sort_keys=True) + "\n")
PY
  echo "wrote chain-spec/$chain.json (genesis $hash)"
done
