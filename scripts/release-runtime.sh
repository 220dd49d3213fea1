#!/usr/bin/env bash
# Captures a released runtime as the upgrade test's starting point (tests/fixtures/release-*):
# its wasm, zstd-compressed in the framing nodes accept for `:code`, and the chain spec it
# shipped with. Run once per release, after tagging it, with the release's commit:
#   bash scripts/release-runtime.sh <commit>
# The upgrade test (tests/tests/consortium.rs) then launches a network on it and upgrades it to
# the tree's runtime.
set -euo pipefail
. "$(dirname "$0")/env.sh"
rev="${1:?usage: release-runtime.sh <commit>}"
command -v zstd >/dev/null || { echo "release-runtime: needs zstd (apt install zstd)" >&2; exit 1; }
spec="$(git -C "$PLATONE_ROOT" show "$rev:runtime/src/lib.rs" | sed -n 's/^\s*spec_version: \([0-9]*\),.*/\1/p')"
[ -n "$spec" ] || { echo "release-runtime: no spec_version at $rev" >&2; exit 1; }
out="$PLATONE_ROOT/tests/fixtures/release-$spec"
tree="$(mktemp -d)/release-$spec"
git -C "$PLATONE_ROOT" worktree add --detach "$tree" "$rev" >/dev/null
trap 'git -C "$PLATONE_ROOT" worktree remove --force "$tree"' EXIT
# Only the runtime: its build script builds the wasm. In a target dir of its own: the worktree's
# path crates get the same crate hashes as this tree's (cargo hashes their paths relative to
# the workspace), and its older sources would then pass for this tree's in the shared one.
target="$CARGO_TARGET_DIR/release-capture"
(cd "$tree" && CARGO_TARGET_DIR="$target" cargo build --locked -p platone-runtime)
wasm="$target/debug/wbuild/platone-runtime/platone_runtime.wasm"
mkdir -p "$out"
# sp-maybe-compressed-blob's zstd prefix, then the frame.
{ printf '\x52\xbc\x53\x76\x46\xdb\x8e\x05'; zstd -19 -q -c "$wasm"; } >"$out/runtime.wasm.zst"
git -C "$PLATONE_ROOT" show "$rev:chain-spec/local-consortium.json" >"$out/local-consortium.json"
{
  echo "Runtime spec $spec as released at commit $(git -C "$PLATONE_ROOT" rev-parse "$rev"),"
  echo "captured by scripts/release-runtime.sh. Wasm sha256 $(sha256sum "$wasm" | cut -d' ' -f1)."
} >"$out/README.md"
echo "wrote $out"
