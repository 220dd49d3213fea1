#!/usr/bin/env bash
# The main job: a local Platone system on embedded defaults. Ctrl-C stops everything cleanly.
#   - a development validator (registered grid: Charlie's gateway with pmu-001…010, meter-001…004)
#   - an MQTT broker (mosquitto, private config under .tmp/)
#   - `platone run`: ingest into the SCD (SQLite, .tmp/scd.sqlite) and the PMU/meter simulator
# The certifier joins with issue #5.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. scripts/env.sh
platone_build
DATA="${PLATONE_DATA:-$PLATONE_ROOT/.tmp/dev}"
MQTT_PORT="${PLATONE_MQTT_PORT:-1883}"
mkdir -p "$DATA"

pids=()
stop() {
  trap - INT TERM EXIT
  echo "stopping…"
  # Reverse start order: ingest commits and acks what it holds while the broker is still up.
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill -TERM "${pids[i]}" 2>/dev/null || true
    wait "${pids[i]}" 2>/dev/null || true
  done
}
trap stop INT TERM EXIT

"$PLATONE_NODE" --dev --base-path "$DATA" --rpc-cors all "$@" 2>"$DATA/node.log" &
pids+=($!)

cat >"$DATA/mosquitto.conf" <<CONF
listener $MQTT_PORT 127.0.0.1
allow_anonymous true
persistence true
persistence_location $DATA/
max_inflight_messages 10000
max_queued_messages 0
CONF
mosquitto -c "$DATA/mosquitto.conf" 2>"$DATA/mosquitto.log" &
pids+=($!)

"$CARGO_TARGET_DIR/debug/platone" run --broker-port "$MQTT_PORT" \
  --scd "sqlite://$PLATONE_ROOT/.tmp/scd.sqlite" 2>"$DATA/platone.log" &
pids+=($!)

cat <<INFO
Platone is running (logs in $DATA/):
  chain     JSON-RPC ws://127.0.0.1:9944, metrics http://127.0.0.1:9615/metrics
            polkadot-js: https://polkadot.js.org/apps/?rpc=ws%3A%2F%2F127.0.0.1%3A9944
  broker    mqtt://127.0.0.1:$MQTT_PORT, topics platone/v1/charlie/{pmu,meter,sensor}/<device>
  SCD       $PLATONE_ROOT/.tmp/scd.sqlite (10 PMUs at 50 Hz, 4 meters every 15 min)
Ctrl-C stops everything.
INFO
wait -n "${pids[@]}"
