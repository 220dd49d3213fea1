#!/usr/bin/env bash
# Development PKI for mutual TLS between devices, bridges and the MQTT broker (S-BAP-01).
# Generates, under $1 (default .tmp/pki): a CA, the broker's server certificate (localhost,
# 127.0.0.1) and one client certificate per name given after it. The certificate's CN is the
# MQTT identity (mosquitto `use_identity_as_username`), so ACLs name it.
#   scripts/pki.sh .tmp/pki platone-ingest-charlie dsotp pmu-001 pmu-002
# Keys are P-256, PKCS#8, made on the spot and never committed: production PKI is each
# utility's own.
set -euo pipefail
DIR="${1:-.tmp/pki}"
shift || true
mkdir -p "$DIR"
cd "$DIR"
DAYS=30
if [ ! -f ca.pem ]; then
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ca.key 2>/dev/null
  openssl req -x509 -new -key ca.key -sha256 -days "$DAYS" -subj "/CN=Platone development CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out ca.pem 2>/dev/null
fi
issue() { # name, extensions
  local name="$1" ext="$2"
  [ -f "$name.pem" ] && return 0
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$name.key" 2>/dev/null
  openssl req -new -key "$name.key" -subj "/CN=$name" -out "$name.csr" 2>/dev/null
  printf '%s\n' "$ext" >"$name.ext"
  openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -sha256 \
    -days "$DAYS" -extfile "$name.ext" -out "$name.pem" 2>/dev/null
  rm -f "$name.csr" "$name.ext"
}
issue broker "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,IP:127.0.0.1"
for name in "$@"; do
  issue "$name" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth"
done
chmod 600 ./*.key
