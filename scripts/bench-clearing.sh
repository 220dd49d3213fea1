#!/usr/bin/env bash
# Clearing time against HiGHS on the same instances, measured in one run (issue #13;
# docs/benchmarks.md, "Market clearing"):
#   scripts/bench-clearing.sh [OFFERSxREQUESTS …]    # default: 100x10 1000x100 3000x300 10000x1000, one slot
# Generates each synthetic session (pallets/clearing/benches/synthetic/mod.rs) as a market file,
# clears it with platone-clearing natively in release (best of 3), solves it with HiGHS
# (highspy from PyPI, in a venv under the cache dir) as three lexicographic LPs on the same
# aggregated network (scripts/highs_clear.py, "ladder"), checks that
# the objectives agree, and prints the times and their ratio. Not part of .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
HIGHSPY_VERSION=1.16.0
venv="${XDG_CACHE_HOME:-$HOME/.cache}/platone/highspy-$HIGHSPY_VERSION"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import highspy' 2>/dev/null; then
  python3 -m venv --clear "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "highspy==$HIGHSPY_VERSION" numpy
fi
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(100x10 1000x100 3000x300 10000x1000)
cargo build --locked --release -q -p platone-clearing --features serde --example clear_file
bin="$CARGO_TARGET_DIR/release/examples/clear_file"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
printf '| offers × requests, one slot | platone-clearing | HiGHS (3 LPs on the same network, solve only) | ratio | objectives |\n|---|---|---|---|---|\n'
for size in "${sizes[@]}"; do
  offers="${size%x*}"
  requests="${size#*x}"
  file="$work/$size.json"
  "$bin" generate "$offers" "$requests" 1 >"$file"
  ours="$("$bin" time "$file" 3)"
  highs="$("$venv/bin/python" scripts/highs_clear.py "$file" ladder | tail -n 1)"
  python3 - "$size" "$ours" "$highs" <<'PY'
import json, sys
size, ours, highs = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
key = lambda o: (o["slot"], o["direction"])
a = {key(o): (o["dso_volume"], o["tso_volume"], o["cost"]) for o in ours["objectives"]}
b = {key(o): (o["dso_volume"], o["tso_volume"], o["cost"]) for o in highs["objectives"]}
same = "equal" if a == b else f"DIFFER: ours {a}, HiGHS {b}"
ratio = ours["seconds"] / highs["solve_seconds"] if highs["solve_seconds"] else float("nan")
print(f"| {size} | {ours['seconds'] * 1e3:.2f} ms | {highs['solve_seconds'] * 1e3:.2f} ms | {ratio:.2f} | {same} |")
if a != b:
    sys.exit(1)
PY
done
