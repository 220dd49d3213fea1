# Sourced by the other scripts: one shared cargo target dir outside the clone, so that the
# main job, the tests and CI reuse each other's builds (docs/benchmarks.md, "Build").
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${PLATONE_TARGET_DIR:-$HOME/.cache/platone/target}}"
# Absolute, so that tests running in crate directories find what lives beside it.
case "$CARGO_TARGET_DIR" in /*) ;; *) CARGO_TARGET_DIR="$PWD/$CARGO_TARGET_DIR" ;; esac
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
PLATONE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PLATONE_ROOT
# Every compile of the workspace's own crates is also its clippy run (scripts/rustc-clippy). Its
# path is part of cargo's crate hashes, so it lives at one place outside the clone, and every
# clone shares the same builds; CLIPPY_ARGS is tracked by cargo too, so it never varies.
PLATONE_RUSTC_WRAPPER="${XDG_CACHE_HOME:-$HOME/.cache}/platone/bin/rustc-clippy"
if ! cmp -s "$PLATONE_ROOT/scripts/rustc-clippy" "$PLATONE_RUSTC_WRAPPER" 2>/dev/null; then
  mkdir -p "$(dirname "$PLATONE_RUSTC_WRAPPER")"
  install -m 755 "$PLATONE_ROOT/scripts/rustc-clippy" "$PLATONE_RUSTC_WRAPPER"
fi
export RUSTC_WORKSPACE_WRAPPER="$PLATONE_RUSTC_WRAPPER"
export CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__"
export PLATONE_NODE="${PLATONE_NODE:-$CARGO_TARGET_DIR/debug/platone-node}"
# Schemathesis for the API's conformance test, in a venv setup.sh creates for scripts/test.sh.
PLATONE_SCHEMATHESIS_VERSION=4.32.5
PLATONE_SCHEMATHESIS_VENV="${XDG_CACHE_HOME:-$HOME/.cache}/platone/schemathesis-$PLATONE_SCHEMATHESIS_VERSION"
# cargo-nextest runs the tests: the machine's own if it has one, else one setup.sh builds here.
PLATONE_NEXTEST_VERSION=0.9.143
PLATONE_NEXTEST_ROOT="${XDG_CACHE_HOME:-$HOME/.cache}/platone/nextest-$PLATONE_NEXTEST_VERSION"
PLATONE_NEXTEST="$(command -v cargo-nextest 2>/dev/null || echo "$PLATONE_NEXTEST_ROOT/bin/cargo-nextest")"

# Build everything the main job and the tests run, in the one profile both use. Always the whole
# workspace: building a subset resolves different features and would rebuild the node.
platone_build() {
  (cd "$PLATONE_ROOT" && cargo build --locked --workspace "$@")
}

# Stops the processes listed in the caller's `pids` array, newest first, waiting for each: ingest
# commits and acks what it holds while the broker it reads from is still up.
stop_pids() {
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill -TERM "${pids[i]}" 2>/dev/null || true
    wait "${pids[i]}" 2>/dev/null || true
  done
  pids=()
}

# An empty SCD for a benchmark run: SQLite under directory $2, or the private PostgreSQL server
# (scripts/pg.sh) with a clean schema, so that nothing from an earlier run counts. Prints its URL.
bench_scd() {
  case "$1" in
    sqlite) echo "sqlite://$2/scd.sqlite" ;;
    postgres)
      local url
      url="$(bash "$PLATONE_ROOT/scripts/pg.sh" start)"
      psql -q "$url" -c 'DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;' >/dev/null 2>&1
      echo "$url"
      ;;
    *) echo "unknown backend $1" >&2; return 2 ;;
  esac
}

# mosquitto for benchmarks on loopback port $1: lossless (no queue limit), quiet, packets bounded.
bench_mosquitto_conf() {
  printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\n' "$1"
  printf 'max_inflight_messages 10000\nmax_queued_messages 0\nlog_type error\nlog_type warning\n'
  # Ingest's message limit (1 MiB of payload) plus topic and headers.
  printf 'max_packet_size 1114112\n'
}

# `[[devices]]` of the config for PMUs pmu-001…pmu-$1, datasets 1…$1 (the bench chain's).
bench_devices() {
  for ((i = 1; i <= $1; i++)); do
    printf '[[devices]]\nname = "pmu-%03d"\nkind = "pmu"\ndataset = %d\n' "$i" "$i"
  done
}
