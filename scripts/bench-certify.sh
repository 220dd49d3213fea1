#!/usr/bin/env bash
# Measurement-to-certificate latency and certifier throughput (issue #5; FR-BAP-DM-02/03).
#
# One machine runs everything: a node on the `bench` chain (Charlie's gateway certifies
# pmu-001…pmu-1000, datasets 1…1000; the debug build the tests use), mosquitto, the SCD, and
# release builds of `platone ingest`, `platone certify` and `platone sim`. PMUS PMUs publish at
# RATE Hz for DURATION seconds into WINDOW_MS windows; then every window with data is waited for
# on chain.
# Per window, from the certifier's log: leaves, build time (certifier leaves/s), and the parts of
# the latency: window end → sealed and built, → included in a block, → finalized certificate.
# A measurement's own latency adds its wait for the window's end; its percentiles are taken over
# measurements spread evenly over each window. Ingest's latency (device time to durable commit)
# comes from its histogram.
#   PMUS=1000 RATE=50 DURATION=600 WINDOW_MS=60000 BACKEND=postgres scripts/bench-certify.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
. scripts/env.sh
PMUS="${PMUS:-1000}"
RATE="${RATE:-50}"
DURATION_S="${DURATION:-300}"
WINDOW_MS="${WINDOW_MS:-60000}"
GRACE_MS="${GRACE_MS:-5000}"
# SQLite keeps up with ~400 PMUs at 50 Hz here (docs/benchmarks.md); above that, PostgreSQL.
BACKEND="${BACKEND:-$( ((PMUS * RATE > 20000)) && echo postgres || echo sqlite)}"
MQTT_PORT="${PLATONE_BENCH_MQTT_PORT:-18831}"
RPC_PORT="${PLATONE_BENCH_RPC_PORT:-19944}"
HTTP_PORT="${PLATONE_BENCH_HTTP_PORT:-18082}"
((PMUS <= 1000)) || { echo "the bench chain registers 1,000 PMUs" >&2; exit 2; }

platone_build
cargo build --locked --release -p platone
BIN="$CARGO_TARGET_DIR/release/platone"
OUT="$PLATONE_ROOT/.tmp/bench-certify"
rm -rf "$OUT"
mkdir -p "$OUT"

pids=()
cleanup() {
  stop_pids
  [ "$BACKEND" != postgres ] || bash scripts/pg.sh stop
}
trap cleanup EXIT

scd="$(bench_scd "$BACKEND" "$OUT")"

"$PLATONE_NODE" --chain bench --alice --force-authoring --base-path "$OUT/node" \
  --unsafe-force-node-key-generation --rpc-port "$RPC_PORT" --no-prometheus --port 0 \
  2>"$OUT/node.log" &
node=$!
pids+=("$node")
bench_mosquitto_conf "$MQTT_PORT" >"$OUT/mosquitto.conf"
mosquitto -c "$OUT/mosquitto.conf" 2>"$OUT/mosquitto.log" &
pids+=($!)
{
  printf '[scd]\nurl = "%s"\n[broker]\nport = %s\nembedded = false\n' "$scd" "$MQTT_PORT"
  printf '[ingest]\ngateway = "charlie"\nwindow_ms = %s\n[http]\nlisten = "127.0.0.1:%s"\n' "$WINDOW_MS" "$HTTP_PORT"
  # The bench chain's gateway is Charlie, as on the development chain.
  printf '[certify]\nrpc = "ws://127.0.0.1:%s"\ngrace_ms = %s\nsuri = "//Charlie"\n' "$RPC_PORT" "$GRACE_MS"
  bench_devices "$PMUS"
} >"$OUT/platone.toml"

until curl -sf -H 'Content-Type: application/json' \
  -d '{"id":1,"jsonrpc":"2.0","method":"chain_getHeader","params":[]}' \
  "http://127.0.0.1:$RPC_PORT" >/dev/null 2>&1; do
  kill -0 "$node" 2>/dev/null || { tail -5 "$OUT/node.log" >&2; exit 1; }
  sleep 1
done
RUST_LOG=warn "$BIN" --config "$OUT/platone.toml" --no-api ingest 2>"$OUT/ingest.log" &
pids+=($!)
RUST_LOG=info "$BIN" --config "$OUT/platone.toml" --no-api certify 2>"$OUT/certify.log" &
pids+=($!)
sleep 1
RUST_LOG=warn "$BIN" --config "$OUT/platone.toml" sim --pmus "$PMUS" --rate "$RATE" --meters 0 \
  --seconds "$DURATION_S" 2>"$OUT/sim.log" &
sim_main=$!
pids+=("$sim_main")
wait "$sim_main" || true
# Every window that has data must be certified: once the window open when the simulator stopped
# is sealed, wait until everything sealed is certified.
sleep $(( (WINDOW_MS + GRACE_MS) / 1000 + 3 ))
deadline=$(( $(date +%s) + 180 ))
while (( $(date +%s) < deadline )); do
  (( $(grep -c "window certified" "$OUT/certify.log") >= $(grep -c "window sealed" "$OUT/certify.log") )) && break
  sleep 2
done
metrics=$(curl -sf "http://127.0.0.1:$HTTP_PORT/metrics" || true)
stop_pids

echo "bench-certify: $PMUS PMUs × $RATE Hz for ${DURATION_S} s, ${WINDOW_MS} ms windows," \
  "grace ${GRACE_MS} ms, SCD on $BACKEND ($(nproc) cores, $(date -u +%F))"
python3 - "$OUT/certify.log" "$GRACE_MS" "$WINDOW_MS" "$metrics" <<'PY'
import re, sys, datetime
log, grace, window_ms, metrics = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
def t(line):
    ts = line.split()[0].rstrip("Z")
    return datetime.datetime.fromisoformat(ts[:26]).replace(tzinfo=datetime.timezone.utc).timestamp() * 1000
sealed, included, rows = {}, {}, []
for line in open(log):
    m = re.search(r"window sealed window=(\d+) duration_ms=(\d+) datasets=(\d+) leaves=(\d+) build_ms=(\d+)", line)
    if m:
        sealed[m.group(1)] = (t(line), int(m.group(2)), int(m.group(3)), int(m.group(4)), int(m.group(5)))
    m = re.search(r"window included window=(\d+) submitted_ms=(\d+) included_ms=(\d+)", line)
    if m:
        included[m.group(1)] = int(m.group(3))
    m = re.search(r"window certified window=(\d+) duration_ms=(\d+) leaves=(\d+) block=(\d+) event=(\w+) latency_ms=(\d+)", line)
    if m and m.group(1) in sealed:
        s_at, dur, datasets, leaves, build = sealed[m.group(1)]
        end = int(m.group(1)) + dur
        rows.append(dict(start=int(m.group(1)), dur=dur, datasets=datasets, leaves=leaves, build=build,
                         sealed=s_at - end, included=included.get(m.group(1)), final=int(m.group(6)),
                         event=m.group(5)))
if not rows:
    sys.exit("no certified window in the certifier's log")
print("| window start | datasets | leaves | build | leaves/s | end → sealed | → included | → finalized | event |")
print("|---|---|---|---|---|---|---|---|---|")
for r in rows:
    inc = f"{r['included']/1000:.1f} s" if r['included'] is not None else "–"
    rate = f"{r['leaves'] / max(r['build'], 1) * 1000:,.0f}"
    print(f"| {r['start']} | {r['datasets']:,} | {r['leaves']:,} | {r['build']/1000:.1f} s | {rate} | "
          f"{r['sealed']/1000:.1f} s | {inc} | {r['final']/1000:.1f} s | {r['event']} |")
def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]
# Full windows only: the first and last are partial (the simulator starts and stops inside them).
full = [r for r in rows if r['dur'] == window_ms][1:-1] or rows
finals = [r['final'] for r in full]
print(f"\nwindow end → finalized over {len(full)} full windows: p50 {pct(finals, .5)/1000:.1f} s, "
      f"p99 {pct(finals, .99)/1000:.1f} s, max {max(finals)/1000:.1f} s; "
      f"every window finalized before the next closed: {'yes' if max(finals) < window_ms else 'NO'}")
# A measurement taken u ms into its window waits dur - u for the window to end.
lat = [r['dur'] * (k + 0.5) / 200 + r['final'] for r in full for k in range(200)]
print(f"measurement → finalized certificate: p50 {pct(lat, .5)/1000:.1f} s, p99 {pct(lat, .99)/1000:.1f} s")
parts = [("wait for window end (mean)", sum(r['dur'] / 2 for r in full) / len(full)),
         ("window end → sealed and built (incl. grace)", sum(r['sealed'] for r in full) / len(full)),
         ("sealed → included", sum((r['included'] or r['sealed']) - r['sealed'] for r in full) / len(full)),
         ("included → finalized", sum(r['final'] - (r['included'] or r['final']) for r in full) / len(full))]
for name, v in parts:
    print(f"  {name}: {v/1000:.1f} s")
leaves = sum(r['leaves'] for r in full)
build = sum(r['build'] for r in full)
print(f"certifier: {leaves:,} leaves built in {build/1000:.1f} s = {leaves / max(build, 1) * 1000:,.0f} leaves/s "
      f"(seal and build, SCD reads included)")
stored = next((int(float(l.split()[-1])) for l in metrics.splitlines()
               if l.startswith("platone_ingest_stored_total")), None)
total = sum(r['leaves'] for r in rows)
if stored is not None:
    print(f"stored by ingest {stored:,}; certified {total:,} leaves in {len(rows)} windows "
          f"({'all' if total == stored else 'NOT all'})")
buckets = [(l.split('le="')[1].split('"')[0], int(float(l.split()[-1]))) for l in metrics.splitlines()
           if l.startswith("platone_ingest_latency_seconds_bucket")]
if buckets and buckets[-1][1]:
    n = buckets[-1][1]
    for q in (0.5, 0.99):
        le = next(le for le, c in buckets if c >= q * n)
        print(f"ingest p{int(q*100)}: ≤ {le} s (device time to durable commit, {n:,} samples)")
PY
