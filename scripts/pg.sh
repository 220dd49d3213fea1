#!/usr/bin/env bash
# A private PostgreSQL server for tests and benchmarks: its own cluster under the repo's .tmp/,
# run as the `postgres` system user on its own port. Never touches the machine's default cluster.
#   scripts/pg.sh start   # prints the URL to use as PLATONE_PG_URL
#   scripts/pg.sh stop | status | url | purge
set -euo pipefail
. "$(dirname "$0")/env.sh"
PG_DIR="${PLATONE_PG_DIR:-$PLATONE_ROOT/.tmp/pg}"
PG_BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
[ -n "$PG_BIN" ] || { echo "PostgreSQL is not installed: run scripts/setup.sh" >&2; exit 1; }
# The port this cluster runs on, chosen at its start: the first free one from 54329 (or
# PLATONE_PG_PORT), so that another clone's private server or the user's own on that port is
# left alone.
PORT_FILE="$PG_DIR/port"
port_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
pg_port() { cat "$PORT_FILE" 2>/dev/null || echo "${PLATONE_PG_PORT:-54329}"; }
url() { echo "postgres://platone@127.0.0.1:$(pg_port)/postgres"; }

# The server refuses to run as root; the Debian package's `postgres` user runs it.
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "${1:-start}" in
  start)
    mkdir -p "$PG_DIR"
    if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$PG_DIR"; chmod 700 "$PG_DIR"; fi
    if [ ! -f "$PG_DIR/data/PG_VERSION" ]; then
      as_pg "$PG_BIN/initdb" -D "$PG_DIR/data" -U platone --auth=trust -E UTF8 >"$PG_DIR/initdb.log"
    fi
    if ! as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" status >/dev/null 2>&1; then
      port="${PLATONE_PG_PORT:-54329}"
      while port_taken "$port"; do
        port=$((port + 1))
        [ "$port" -lt 54429 ] || { echo "no free port for PostgreSQL from 54329" >&2; exit 1; }
      done
      echo "$port" >"$PORT_FILE"
      # Tuned for a test box: durable commits stay on (fsync), but a small footprint.
      as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 start \
        -o "-p $port -k $PG_DIR -c listen_addresses=127.0.0.1 -c shared_buffers=256MB -c max_connections=50" >/dev/null
    fi
    url
    ;;
  stop)
    as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -w -m fast stop >/dev/null 2>&1 || true
    ;;
  status)
    as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" status
    ;;
  url)
    url
    ;;
  purge)
    "$0" stop
    rm -rf "$PG_DIR"
    ;;
  *)
    echo "usage: $0 start|stop|status|url|purge" >&2
    exit 2
    ;;
esac
