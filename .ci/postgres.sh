#!/usr/bin/env bash
# Start a throw-away PostgreSQL server on 127.0.0.1 for the store tests and print its URL.
# Installs the distribution's packages when the server binaries are missing.
set -euo pipefail
port="${RHEUMETRICS_PG_PORT:-54329}"
dir="${RHEUMETRICS_PG_DIR:-/tmp/rheumetrics-pg}"
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$bindir" ] || [ ! -x "$bindir/pg_ctl" ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
  bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
fi
run() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
if ! run "$bindir/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
  rm -rf "$dir"; mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres "$dir"
  run "$bindir/initdb" -D "$dir" -U postgres --auth=trust -E UTF8 >/dev/null
  run "$bindir/pg_ctl" -D "$dir" -l "$dir/server.log" -w \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
fi
run "$bindir/psql" -h 127.0.0.1 -p "$port" -U postgres -tAc \
  "SELECT 1 FROM pg_database WHERE datname='rheumetrics_test'" | grep -q 1 ||
  run "$bindir/createdb" -h 127.0.0.1 -p "$port" -U postgres rheumetrics_test
echo "postgresql+psycopg://postgres@127.0.0.1:$port/rheumetrics_test"
