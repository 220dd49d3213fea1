#!/usr/bin/env bash
# Start, stop or inspect the four-validator local consortium on loopback.
#   scripts/local-consortium.sh start|stop|status|purge
# Keys, chain data, pids and logs live under $PLATONE_NET_DIR (default .tmp/local-consortium).
# Ports: p2p 30333+i, RPC 9944+i, Prometheus 9615+i, for i = 0..3.
set -euo pipefail
. "$(dirname "$0")/env.sh"

DIR="${PLATONE_NET_DIR:-$PLATONE_ROOT/.tmp/local-consortium}"
NAMES=(dso-north dso-south tso market-operator)
KEYS=(alice bob charlie dave)
# Chain spec: the committed one, so operators run exactly what is reviewed.
SPEC="${PLATONE_CHAIN_SPEC:-$PLATONE_ROOT/chain-spec/local-consortium.json}"

node_key() { printf '%064x' "$(($1 + 1))"; }

peer_id() {
  local f="$DIR/$1/node-key"
  "$PLATONE_NODE" key inspect-node-key --file "$f"
}

start() {
  [ -x "$PLATONE_NODE" ] || platone_build
  mkdir -p "$DIR"
  for i in 0 1 2 3; do
    mkdir -p "$DIR/${NAMES[$i]}"
    printf '%s' "$(node_key "$i")" > "$DIR/${NAMES[$i]}/node-key"
  done
  for i in 0 1 2 3; do
    local name=${NAMES[$i]} pidfile="$DIR/${NAMES[$i]}/pid"
    if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
      echo "$name already running (pid $(cat "$pidfile"))"; continue
    fi
    local boot=()
    for j in 0 1 2 3; do
      [ "$j" = "$i" ] && continue
      boot+=("/ip4/127.0.0.1/tcp/$((30333 + j))/p2p/$(peer_id "${NAMES[$j]}")")
    done
    "$PLATONE_NODE" --chain "$SPEC" --base-path "$DIR/$name" --"${KEYS[$i]}" --name "$name" \
      --node-key-file "$DIR/$name/node-key" --port $((30333 + i)) --rpc-port $((9944 + i)) \
      --prometheus-port $((9615 + i)) --no-mdns --no-telemetry --rpc-cors all \
      --bootnodes "${boot[@]}" >"$DIR/$name/node.log" 2>&1 &
    echo $! > "$pidfile"
    echo "$name: pid $!, rpc ws://127.0.0.1:$((9944 + i)), metrics http://127.0.0.1:$((9615 + i))/metrics, log $DIR/$name/node.log"
  done
}

stop() {
  for name in "${NAMES[@]}"; do
    local pidfile="$DIR/$name/pid"
    [ -f "$pidfile" ] || continue
    local pid; pid=$(cat "$pidfile")
    if kill -0 "$pid" 2>/dev/null; then
      kill -INT "$pid"
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
      kill -9 "$pid" 2>/dev/null || true
      echo "$name stopped"
    fi
    rm -f "$pidfile"
  done
}

status() {
  for i in 0 1 2 3; do
    local name=${NAMES[$i]}
    local out
    out=$(curl -s -H 'Content-Type: application/json' \
      -d '{"jsonrpc":"2.0","id":1,"method":"system_health","params":[]}' \
      "http://127.0.0.1:$((9944 + i))" || true)
    echo "$name: ${out:-down}"
  done
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  purge) stop; rm -rf "$DIR" ;;
  *) echo "usage: $0 start|stop|status|purge" >&2; exit 2 ;;
esac
