#!/usr/bin/env bash
# Idempotent set-up of a fresh Debian machine for building and testing Platone.
# Installs only what is missing, so a warm machine returns in seconds.
set -euo pipefail

need_apt=()
for pkg in clang libclang-dev protobuf-compiler mold mosquitto mosquitto-clients \
  postgresql-15 pkg-config libssl-dev make openssl curl; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need_apt+=("$pkg")
done
if ((${#need_apt[@]})); then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "setup: installing ${need_apt[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
  # The Debian package starts a system broker on :1883; tests run their own.
  if command -v systemctl >/dev/null 2>&1; then $SUDO systemctl disable --now mosquitto >/dev/null 2>&1 || true; fi
  pkill -x mosquitto 2>/dev/null || true
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
echo "setup: ok"
