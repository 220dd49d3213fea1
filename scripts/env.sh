# Sourced by the other scripts: one shared cargo target dir outside the clone, so that the
# main job, the tests and CI reuse each other's builds (docs/benchmarks.md, "Build").
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${PLATONE_TARGET_DIR:-$HOME/.cache/platone/target}}"
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
PLATONE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PLATONE_ROOT
export PLATONE_NODE="${PLATONE_NODE:-$CARGO_TARGET_DIR/debug/platone-node}"

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
