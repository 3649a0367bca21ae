#!/usr/bin/env bash
# Initializes $PGDATA on first start (superuser postgres with
# $POSTGRES_PASSWORD, password authentication from the network), then runs
# the server in the foreground as the postgres user.
set -euo pipefail
: "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD is required}"
mkdir -p "$PGDATA" /run/postgresql
chown -R postgres:postgres "$PGDATA" /run/postgresql
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  printf '%s\n' "$POSTGRES_PASSWORD" > /tmp/pwfile
  chown postgres /tmp/pwfile
  runuser -u postgres -- initdb --username=postgres --pwfile=/tmp/pwfile \
    --auth-local=trust --auth-host=scram-sha-256 -D "$PGDATA" > /dev/null
  rm -f /tmp/pwfile
  echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
fi
exec runuser -u postgres -- postgres -D "$PGDATA" -c listen_addresses='*'
