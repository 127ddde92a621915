#!/usr/bin/env bash
# Start a PostgreSQL server on loopback for the test suite and print its URL.
# Installs Debian's postgresql if needed (CI runs as root on a Debian machine).
set -euo pipefail
if ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
port=${QUOTADESK_PG_PORT:-55432}
if [ "${CI:-}" = "true" ] && [ -z "${QUOTADESK_PG_DATA:-}" ]; then
  # CI: a new cluster every run, on a port nobody else is using.
  data=$(mktemp -d /tmp/quotadesk-ci-pg.XXXXXX)
  while (echo > /dev/tcp/127.0.0.1/$port) 2>/dev/null; do port=$((port + 1)); done
else
  data=${QUOTADESK_PG_DATA:-/tmp/quotadesk-pg}
fi
id -u postgres >/dev/null 2>&1 || useradd --system --home /var/lib/postgresql postgres
as_pg() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi; }
if [ ! -f "$data/PG_VERSION" ]; then
  rm -rf "$data"; mkdir -p "$data"; chown postgres "$data" 2>/dev/null || true
  chmod 700 "$data"
  as_pg "$bin/initdb -D $data -U postgres --auth=trust -E UTF8 --locale=C.UTF-8" >/dev/null
fi
if ! as_pg "$bin/pg_ctl -D $data status" >/dev/null 2>&1; then
  # A port nobody listens on can still be taken: an outgoing connection's local port lies in
  # the same range (32768-60999 on Linux). If the server cannot bind, try the next ports.
  for attempt in 1 2 3 4 5 6 7 8 9 10; do
    if as_pg "$bin/pg_ctl -D $data -l $data/server.log -w -o '-p $port -k /tmp -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=100' start" >/dev/null; then
      break
    fi
    if [ "$attempt" = 10 ] || [ "${CI:-}" != "true" ]; then
      echo "postgres.sh: the server did not start; see $data/server.log" >&2
      exit 1
    fi
    port=$((port + 1))
    while (echo > /dev/tcp/127.0.0.1/$port) 2>/dev/null; do port=$((port + 1)); done
  done
fi
echo "postgresql+psycopg://postgres@127.0.0.1:$port/postgres"
