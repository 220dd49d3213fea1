#!/usr/bin/env bash
# The main job: a local Platone system on embedded defaults. Ctrl-C stops everything cleanly.
#   - a development validator (registered grid: Charlie's gateway with pmu-001…010, meter-001…004)
#   - `platone --dev run`: the embedded MQTT broker (rumqttd, loopback), ingest into the SCD (SQLite,
#     .tmp/scd.sqlite) with the HTTP batch endpoint, the PMU/meter simulator, and the certifier,
#     which certifies each closed 180 s window on chain as Charlie, the dev chain's gateway
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. scripts/env.sh
platone_build
DATA="${PLATONE_DATA:-$PLATONE_ROOT/.tmp/dev}"
# 1883, or the next free port if a broker of the user's already listens there.
MQTT_PORT="${PLATONE_MQTT_PORT:-1883}"
while (exec 3<>"/dev/tcp/127.0.0.1/$MQTT_PORT") 2>/dev/null; do MQTT_PORT=$((MQTT_PORT + 1)); done
# Extra `platone` options, e.g. `--external-broker` to use a running mosquitto instead.
read -r -a PLATONE_RUN_ARGS <<<"${PLATONE_RUN_ARGS:-}"
mkdir -p "$DATA"

pids=()
stop() {
  trap - INT TERM EXIT
  echo "stopping…"
  stop_pids
}
trap stop INT TERM EXIT

"$PLATONE_NODE" --dev --base-path "$DATA" --rpc-cors all "$@" 2>"$DATA/node.log" &
pids+=($!)

"$CARGO_TARGET_DIR/debug/platone" --dev run --broker-port "$MQTT_PORT" \
  --scd "sqlite://$PLATONE_ROOT/.tmp/scd.sqlite" "${PLATONE_RUN_ARGS[@]}" 2>"$DATA/platone.log" &
pids+=($!)

cat <<INFO
Platone is running (logs in $DATA/):
  chain     JSON-RPC ws://127.0.0.1:9944, metrics http://127.0.0.1:9615/metrics
            polkadot-js: https://polkadot.js.org/apps/?rpc=ws%3A%2F%2F127.0.0.1%3A9944
  broker    mqtt://127.0.0.1:$MQTT_PORT (embedded), topics platone/v1/charlie/{pmu,meter,sensor}/<device>
  ingest    HTTP batches http://127.0.0.1:8081/v1/meter-readings, metrics http://127.0.0.1:8081/metrics
  SCD       $PLATONE_ROOT/.tmp/scd.sqlite (10 PMUs at 50 Hz, 4 meters every 15 min)
  certifier 180 s windows, each final on chain ~25 s after closing ("window certified" in platone.log)
            proofs: http://127.0.0.1:8082/v1/measurements/<dataset>/<timestamp_us>/<sequence>/proof
                    (OpenAPI: http://127.0.0.1:8082/openapi.json; loopback, no token in development)
            proof:  $CARGO_TARGET_DIR/debug/platone --dev proof --dataset 1 --timestamp-us … --sequence 0
            verify: $CARGO_TARGET_DIR/debug/platone verify proof.json
Ctrl-C stops everything.
INFO
wait -n "${pids[@]}"
