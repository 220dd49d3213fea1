#!/usr/bin/env bash
# Idempotent set-up of a fresh Debian machine for building and testing Platone.
# Installs only what is missing, so a warm machine returns in seconds.
set -euo pipefail

need_apt=()
for pkg in clang libclang-dev protobuf-compiler mold mosquitto mosquitto-clients \
  pkg-config libssl-dev make openssl curl python3 python3-venv; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need_apt+=("$pkg")
done
# PostgreSQL's server binaries, of whatever version this release ships (scripts/pg.sh runs a
# private cluster from them).
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || need_apt+=(postgresql)
if ((${#need_apt[@]})); then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "setup: installing ${need_apt[*]}"
  # The user's services stay as they are: the tests and the main job run their own broker and
  # PostgreSQL, so nothing installed here is started (policy-rc.d, for this install only, and
  # only if the machine has none of its own).
  policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    policy=/usr/sbin/policy-rc.d
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
    $SUDO chmod 755 "$policy"
    trap '$SUDO rm -f "$policy"' EXIT
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
  if [ -n "$policy" ]; then
    $SUDO rm -f "$policy"
    trap - EXIT
  fi
fi

if ! command -v rustup >/dev/null 2>&1; then
  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal
  # shellcheck disable=SC1091
  . "$HOME/.cargo/env"
fi
# rust-toolchain.toml pins the channel; make sure its target and component exist.
cd "$(dirname "$0")/.."
rustup show active-toolchain >/dev/null
rustup target add wasm32-unknown-unknown wasm32v1-none >/dev/null
rustup component add rust-src >/dev/null

# Test tools (scripts/test.sh asks for them; the main job needs none): Schemathesis (PyPI)
# tests the running SCD API against its OpenAPI document (bridges/api/tests/api.rs). Pinned, in
# a venv of our own under the cache dir: the system's Python packages stay as they are.
if [ "${PLATONE_SETUP_TEST_TOOLS:-0}" = 1 ]; then
  . scripts/env.sh
  if [ ! -x "$PLATONE_SCHEMATHESIS_VENV/bin/schemathesis" ]; then
    python3 -m venv --clear "$PLATONE_SCHEMATHESIS_VENV"
    "$PLATONE_SCHEMATHESIS_VENV/bin/pip" install -q --disable-pip-version-check \
      "schemathesis==$PLATONE_SCHEMATHESIS_VERSION"
  fi
  # polkadot-js (npm) for the aggregator-side client test (tests/js, tests/tests/market.rs):
  # Node.js from Debian if the machine has none, the packages pinned by tests/js's lock file,
  # installed beside it (and again only when the lock changes).
  if ! command -v npm >/dev/null 2>&1; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends nodejs npm
  fi
  if ! cmp -s tests/js/package-lock.json tests/js/node_modules/.platone-lock 2>/dev/null; then
    (cd tests/js && npm ci --no-audit --no-fund --loglevel=error &&
      cp package-lock.json node_modules/.platone-lock)
  fi
  # cargo-nextest runs the tests; a machine without one gets it built once into the cache dir.
  if ! command -v cargo-nextest >/dev/null 2>&1 && [ ! -x "$PLATONE_NEXTEST_ROOT/bin/cargo-nextest" ]; then
    cargo install --locked --quiet --root "$PLATONE_NEXTEST_ROOT" "cargo-nextest@$PLATONE_NEXTEST_VERSION"
  fi
fi
echo "setup: ok"
