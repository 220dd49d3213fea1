#!/usr/bin/env bash
# Measurement-to-certificate latency and certifier throughput (issue #5; FR-BAP-DM-02).
#
# A dev node (the debug build the tests use), mosquitto, and release builds of `platone ingest`,
# `platone certify` and `platone sim` on this machine. The dev chain's ten registered PMUs
# (pmu-001…010, Charlie's PoMs) publish at RATE Hz for DURATION seconds into WINDOW_MS windows on
# SQLite; then the last window is waited for on chain.
# Per window, from the certifier's log: leaves, time from window end to sealed-and-built, and to
# the finalized certificate. Ingest's own latency (device time to durable commit) comes from its
# histogram.
#   RATE=50 DURATION=100 WINDOW_MS=30000 scripts/bench-certify.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
. scripts/env.sh
RATE="${RATE:-50}"
DURATION_S="${DURATION:-100}"
WINDOW_MS="${WINDOW_MS:-30000}"
GRACE_MS="${GRACE_MS:-5000}"
MQTT_PORT="${PLATONE_BENCH_MQTT_PORT:-18831}"
RPC_PORT="${PLATONE_BENCH_RPC_PORT:-19944}"
HTTP_PORT="${PLATONE_BENCH_HTTP_PORT:-18082}"

platone_build
cargo build --locked --release -p platone
BIN="$CARGO_TARGET_DIR/release/platone"
OUT="$PLATONE_ROOT/.tmp/bench-certify"
rm -rf "$OUT"
mkdir -p "$OUT"

pids=()
trap stop_pids EXIT

"$PLATONE_NODE" --dev --base-path "$OUT/node" --rpc-port "$RPC_PORT" --no-prometheus \
  --port 0 2>"$OUT/node.log" &
pids+=($!)
printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\nmax_inflight_messages 10000\nmax_queued_messages 0\n' \
  "$MQTT_PORT" >"$OUT/mosquitto.conf"
mosquitto -c "$OUT/mosquitto.conf" 2>"$OUT/mosquitto.log" &
pids+=($!)
{
  printf '[scd]\nurl = "sqlite://%s/scd.sqlite"\n[broker]\nport = %s\nembedded = false\n' "$OUT" "$MQTT_PORT"
  printf '[ingest]\nwindow_ms = %s\n[http]\nlisten = "127.0.0.1:%s"\n' "$WINDOW_MS" "$HTTP_PORT"
  printf '[certify]\nrpc = "ws://127.0.0.1:%s"\ngrace_ms = %s\n' "$RPC_PORT" "$GRACE_MS"
} >"$OUT/platone.toml"

until curl -sf -H 'Content-Type: application/json' \
  -d '{"id":1,"jsonrpc":"2.0","method":"chain_getHeader","params":[]}' \
  "http://127.0.0.1:$RPC_PORT" >/dev/null 2>&1; do sleep 1; done
RUST_LOG=warn "$BIN" --config "$OUT/platone.toml" --no-api ingest 2>"$OUT/ingest.log" &
pids+=($!)
RUST_LOG=info "$BIN" --config "$OUT/platone.toml" --no-api certify 2>"$OUT/certify.log" &
pids+=($!)
sleep 1
RUST_LOG=warn "$BIN" --config "$OUT/platone.toml" sim --pmus 10 --rate "$RATE" --meters 0 \
  --seconds "$DURATION_S" 2>"$OUT/sim.log" &
sim_main=$!
pids+=("$sim_main")
wait "$sim_main" || true
# Every window that has data must be certified: wait for the last one.
last_end=$(( ($(date +%s%3N) / WINDOW_MS + 1) * WINDOW_MS ))
deadline=$(( $(date +%s) + (WINDOW_MS + GRACE_MS) / 1000 + 120 ))
while (( $(date +%s) < deadline )); do
  grep -q "window certified.*window=$((last_end - 2 * WINDOW_MS))" "$OUT/certify.log" && break
  sleep 2
done
metrics=$(curl -sf "http://127.0.0.1:$HTTP_PORT/metrics" || true)
stop_pids

python3 - "$OUT/certify.log" "$GRACE_MS" <<'PY' "$metrics"
import re, sys, datetime
log, grace = sys.argv[1], int(sys.argv[2])
metrics = sys.argv[3] if len(sys.argv) > 3 else ""
def t(line):
    ts = line.split()[0].rstrip("Z")
    return datetime.datetime.fromisoformat(ts[:26]).replace(tzinfo=datetime.timezone.utc).timestamp() * 1000
sealed, rows = {}, []
for line in open(log):
    m = re.search(r"window sealed window=(\d+) duration_ms=(\d+) datasets=(\d+) leaves=(\d+)", line)
    if m:
        sealed[m.group(1)] = (t(line), int(m.group(2)), int(m.group(4)))
    m = re.search(r"window certified window=(\d+) duration_ms=(\d+) leaves=(\d+) block=(\d+) event=(\w+) latency_ms=(\d+)", line)
    if m and m.group(1) in sealed:
        s_at, dur, leaves = sealed[m.group(1)]
        end = int(m.group(1)) + dur
        rows.append((int(m.group(1)), leaves, s_at - end, int(m.group(6)), m.group(5)))
print("| window end + … | leaves | sealed and built | finalized certificate | event |")
print("|---|---|---|---|---|")
for w, leaves, built, final, ev in rows:
    print(f"| {w} | {leaves:,} | {built/1000:.1f} s | {final/1000:.1f} s | {ev} |")
buckets = [(l.split('le="')[1].split('"')[0], int(l.split()[-1])) for l in metrics.splitlines()
           if l.startswith("platone_ingest_latency_seconds_bucket")]
if buckets and buckets[-1][1]:
    total = buckets[-1][1]
    for q in (0.5, 0.99):
        le = next(le for le, c in buckets if c >= q * total)
        print(f"ingest p{int(q*100)}: ≤ {le} s (device time to durable commit, {total:,} samples)")
PY
