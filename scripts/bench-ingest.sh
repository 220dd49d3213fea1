#!/usr/bin/env bash
# Sustained MQTT-to-SCD ingest rate (issue #4; P-BAP-01, T-BAP-01/02), for SQLite and PostgreSQL.
#
# One run per backend, all on this machine: mosquitto (plain TCP, lossless settings), a plain
# `mosquitto_sub` counting what the broker delivers, `platone ingest` (release) into the backend,
# and `platone sim` (release) publishing PMUS PMUs at RATE Hz for DURATION seconds. Rates are taken over
# the steady part of the run (from WARMUP s to the simulator's end), from ingest's own counters
# and the subscriber's line count read at the same instants. Latency is device time to durable
# commit, from ingest's histogram (bucket upper bounds). Peak memory is each process's VmHWM.
#
#   PMUS=1000 RATE=50 DURATION=60 BACKENDS="sqlite postgres" scripts/bench-ingest.sh
# Prints a Markdown table; docs/benchmarks.md records its figures.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
. scripts/env.sh
PMUS="${PMUS:-1000}"
RATE="${RATE:-50}"
SECONDS_RUN="${DURATION:-60}"
WARMUP="${WARMUP:-10}"
BACKENDS="${BACKENDS:-sqlite postgres}"
MQTT_PORT="${PLATONE_BENCH_MQTT_PORT:-18830}"
HTTP_PORT="${PLATONE_BENCH_HTTP_PORT:-18081}"

cargo build --locked --release -p platone
BIN="$CARGO_TARGET_DIR/release/platone"
OUT="$PLATONE_ROOT/.tmp/bench-ingest"
rm -rf "$OUT"
mkdir -p "$OUT"

pids=()
trap 'stop_pids; bash scripts/pg.sh stop' EXIT

hwm_mib() { awk '/VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$1/status" 2>/dev/null || echo "?"; }
metric() { # name → value from ingest's /metrics (empty if it does not answer)
  { curl -sf --max-time 5 "http://127.0.0.1:$HTTP_PORT/metrics" || true; } | awk -v n="$1" '$1 == n {print $2}'
}
quantile() { # q → latency bound in ms from the histogram
  { curl -sf --max-time 5 "http://127.0.0.1:$HTTP_PORT/metrics" || true; } | python3 -c '
import sys
q = float(sys.argv[1])
buckets = []
for line in sys.stdin:
    if line.startswith("platone_ingest_latency_seconds_bucket"):
        le = line.split("le=\"")[1].split("\"")[0]
        buckets.append((le, int(line.split()[-1])))
total = buckets[-1][1]
for le, cum in buckets:
    if total and cum >= q * total:
        print(le if le == "+Inf" else "%g" % (float(le) * 1000))
        break
' "$1"
}

{
  echo "| backend | offered msg/s | broker → mosquitto_sub msg/s | ingest stored/s | ratio | p50 latency | p99 latency | ingest peak RSS | all stored after drain |"
  echo "|---|---|---|---|---|---|---|---|---|"
} >"$OUT/results.md"

for backend in $BACKENDS; do
  dir="$OUT/$backend"
  mkdir -p "$dir"
  scd="$(bench_scd "$backend" "$dir")"
  bench_mosquitto_conf "$MQTT_PORT" >"$dir/mosquitto.conf"
  {
    printf '[scd]\nurl = "%s"\n[broker]\nport = %s\nembedded = false\n[ingest]\ngateway = "charlie"\n[http]\nlisten = "127.0.0.1:%s"\n' \
      "$scd" "$MQTT_PORT" "$HTTP_PORT"
    bench_devices "$PMUS"
  } >"$dir/platone.toml"

  mosquitto -c "$dir/mosquitto.conf" 2>"$dir/mosquitto.log" &
  broker=$!
  pids+=("$broker")
  sleep 0.5
  mosquitto_sub -p "$MQTT_PORT" -q 1 -t 'platone/v1/#' -F x >"$dir/sub.txt" 2>"$dir/sub.log" &
  pids+=($!)
  RUST_LOG=warn "$BIN" --config "$dir/platone.toml" ingest 2>"$dir/ingest.log" &
  ingest=$!
  pids+=("$ingest")
  for _ in $(seq 100); do metric platone_ingest_stored_total >/dev/null 2>&1 && break; sleep 0.1; done
  RUST_LOG=warn "$BIN" --config "$dir/platone.toml" sim --pmus "$PMUS" --rate "$RATE" --meters 0 \
    --seconds "$SECONDS_RUN" 2>"$dir/sim.log" &
  sim=$!
  pids+=("$sim")

  sleep "$WARMUP"
  t0=$(date +%s.%N); s0=$(metric platone_ingest_stored_total); b0=$(wc -l <"$dir/sub.txt")
  sim_hwm=0
  while kill -0 "$sim" 2>/dev/null; do sim_hwm=$(hwm_mib "$sim"); sleep 1; done
  t1=$(date +%s.%N); s1=$(metric platone_ingest_stored_total); b1=$(wc -l <"$dir/sub.txt")
  # Drain: whatever the broker still holds for ingest.
  last=-1
  for _ in $(seq 120); do
    now=$(metric platone_ingest_stored_total)
    [ "$now" = "$last" ] && break
    last=$now
    sleep 2
  done
  delivered=$(wc -l <"$dir/sub.txt")
  p50=$(quantile 0.5); p99=$(quantile 0.99)
  ingest_hwm=$(hwm_mib "$ingest"); broker_hwm=$(hwm_mib "$broker")
  stop_pids

  python3 - "$backend" "$PMUS" "$RATE" "$t0" "$t1" "$s0" "$s1" "$b0" "$b1" "$p50" "$p99" \
    "$ingest_hwm" "$last" "$delivered" >>"$OUT/results.md" <<'PY'
import sys
(backend, pmus, rate, t0, t1, s0, s1, b0, b1, p50, p99, hwm, stored, delivered) = sys.argv[1:]
dt = float(t1) - float(t0)
ingest = (int(s1) - int(s0)) / dt
broker = (int(b1) - int(b0)) / dt
ratio = ingest / broker if broker else float("nan")
print(f"| {backend} | {int(pmus) * int(rate):,} | {broker:,.0f} | {ingest:,.0f} | {ratio:.2f} | "
      f"≤ {p50} ms | ≤ {p99} ms | {hwm} MiB | {stored} of {delivered} delivered |")
PY
  echo "$backend: broker peak RSS ${broker_hwm} MiB, simulator ${sim_hwm} MiB" >>"$OUT/notes.txt"
done
cat "$OUT/results.md"
cat "$OUT/notes.txt"
