#!/usr/bin/env bash
# Starts and stops a throwaway PostgreSQL 15 server for tests and the demo,
# listening on a free loopback port with trust authentication and its unix
# socket in the server's directory.
#
#   scripts/pg.sh start <dir>            initdb into <dir>/data on first use
#                                        (again: reuses the data and the port);
#                                        prints postgresql://postgres@127.0.0.1:PORT/postgres
#                                        and writes it to <dir>/pg.url, the port
#                                        to <dir>/port, the server log to <dir>/pg.log
#   scripts/pg.sh stop <dir>             fast shutdown of the server of <dir>
#   scripts/pg.sh createdb <dir> <name>  creates database <name>, prints its URL
#
# PostgreSQL refuses to run as root: when run as root, the server runs as the
# `postgres` user of the Debian package, which then owns <dir>. When that
# user cannot reach <dir> (a checkout under /root), the server's files (data,
# log, socket) live in /tmp/cppsvc-pg-<hash of dir> instead, and <dir> keeps
# pg.url and port.
#
# PG_DURABLE=1 keeps PostgreSQL's durability defaults (fsync, synchronous
# commit) for benchmarks; by default a throwaway server skips them.
# Exit status 3 means PostgreSQL 15 is not installed (apt-get install
# postgresql-15, or scripts/install-deps.sh); PG_BINDIR overrides
# /usr/lib/postgresql/15/bin.
set -euo pipefail

usage() {
  echo "usage: $0 start|stop <dir> | createdb <dir> <name>" >&2
  exit 2
}

[ "$#" -ge 2 ] || usage
cmd=$1
dir=$2

bindir=${PG_BINDIR:-/usr/lib/postgresql/15/bin}

check_installed() {
  local tool
  for tool in initdb pg_ctl postgres psql; do
    if [ ! -x "$bindir/$tool" ]; then
      echo "pg.sh: PostgreSQL 15 is not installed ($bindir/$tool is missing);" \
        "apt-get install postgresql-15, or run scripts/install-deps.sh" >&2
      exit 3
    fi
  done
}

# Runs a command as the user that owns the server: `postgres` when we are root.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    # The caller's working directory may be closed to `postgres` (e.g. /root).
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

# Where the server's own files go: <dir>, or a private directory under /tmp
# when the server's user cannot reach <dir>.
home=""
resolve_home() {
  home=$dir
  if [ "$(id -u)" -eq 0 ] && getent passwd postgres > /dev/null &&
    ! (cd / && runuser -u postgres -- test -x "$dir"); then
    home=/tmp/cppsvc-pg-$(printf '%s' "$dir" | sha1sum | cut -c1-16)
    mkdir -p "$home"
    chown postgres:postgres "$home"
    chmod 700 "$home"
  fi
}

running() {
  [ -f "$home/data/postmaster.pid" ] && as_owner "$bindir/pg_ctl" status -D "$home/data" > /dev/null 2>&1
}

port_in_use() {
  (exec 3<> "/dev/tcp/127.0.0.1/$1") 2> /dev/null
}

# A port nobody listens on now; the server may still lose a race for it, in
# which case start() tries another.
pick_port() {
  local port
  for _ in $(seq 1 100); do
    port=$((20000 + RANDOM % 40000))
    if ! port_in_use "$port"; then
      echo "$port"
      return 0
    fi
  done
  echo "pg.sh: found no free port" >&2
  exit 1
}

init_cluster() {
  if [ "$(id -u)" -eq 0 ]; then
    if ! getent passwd postgres > /dev/null; then
      echo "pg.sh: running as root needs the postgres user (from the postgresql-15 package)" >&2
      exit 3
    fi
    chown -R postgres:postgres "$dir" "$home"
  fi
  # A fresh <dir> gets a fresh cluster, also when the cluster lives under /tmp.
  if [ "$home" != "$dir" ] && [ ! -e "$dir/port" ]; then
    rm -rf "$home/data"
  fi
  [ -f "$home/data/PG_VERSION" ] && return 0
  rm -rf "$home/data"
  if ! as_owner "$bindir/initdb" -D "$home/data" -U postgres --auth=trust --encoding=UTF8 \
    --locale=C --no-sync > "$dir/initdb.log" 2>&1; then
    echo "pg.sh: initdb failed; last lines of $dir/initdb.log:" >&2
    tail -n 20 "$dir/initdb.log" >&2 || true
    exit 1
  fi
  # Only the socket in <dir> and loopback TCP, both without passwords.
  as_owner tee "$home/data/pg_hba.conf" > /dev/null << 'EOF'
local all all trust
host all all 127.0.0.1/32 trust
EOF
  # Enough connections for tests that run many transactions at once, in
  # parallel. A throwaway server: durability is not worth the time, unless
  # a benchmark asks for it.
  as_owner tee -a "$home/data/postgresql.conf" > /dev/null << 'EOF'

# scripts/pg.sh
listen_addresses = '127.0.0.1'
max_connections = 300
log_min_messages = warning
log_min_error_statement = panic
EOF
  if [ "${PG_DURABLE:-0}" != 1 ]; then
    as_owner tee -a "$home/data/postgresql.conf" > /dev/null << 'EOF'
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
  fi
}

start() {
  check_installed
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  resolve_home
  if running; then
    echo "pg.sh: a PostgreSQL server is already running for $dir" >&2
    exit 1
  fi
  init_cluster
  rm -f "$dir/pg.url"

  # unix_socket_directories is limited to 107 bytes per socket path.
  local socket_dir=$home
  if [ "${#home}" -gt 90 ]; then
    socket_dir=""
  fi

  local reuse_port="" port attempt
  [ -s "$dir/port" ] && reuse_port=$(cat "$dir/port")
  for attempt in $(seq 1 10); do
    if [ -n "$reuse_port" ]; then
      port=$reuse_port
    else
      port=$(pick_port)
    fi
    if as_owner "$bindir/pg_ctl" start -D "$home/data" -l "$home/pg.log" -w -t 60 \
      -o "-p $port -k '$socket_dir'" > "$dir/pg_ctl.log" 2>&1; then
      echo "$port" > "$dir/port"
      local url="postgresql://postgres@127.0.0.1:$port/postgres"
      echo "$url" > "$dir/pg.url"
      echo "$url"
      return 0
    fi
    if [ -n "$reuse_port" ] || ! grep -q 'could not bind\|Address already in use' "$home/pg.log"; then
      break
    fi
    echo "pg.sh: port $port was taken, trying another (attempt $attempt)" >&2
  done
  echo "pg.sh: PostgreSQL did not start; last lines of $home/pg.log:" >&2
  tail -n 20 "$home/pg.log" >&2 || true
  exit 1
}

stop() {
  check_installed
  [ -d "$dir" ] || return 0
  dir=$(cd "$dir" && pwd)
  resolve_home
  if running; then
    as_owner "$bindir/pg_ctl" stop -D "$home/data" -m fast -w -t 60 > /dev/null
  fi
  rm -f "$dir/pg.url"
}

createdb() {
  check_installed
  local name=$1
  dir=$(cd "$dir" && pwd)
  resolve_home
  if [ ! -s "$dir/port" ] || ! running; then
    echo "pg.sh: no PostgreSQL server is running for $dir" >&2
    exit 1
  fi
  local port
  port=$(cat "$dir/port")
  # Quoted as an identifier: any name PostgreSQL accepts.
  local ident=${name//\"/\"\"}
  "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d postgres \
    -c "CREATE DATABASE \"$ident\"" > /dev/null
  echo "postgresql://postgres@127.0.0.1:$port/$name"
}

case "$cmd" in
  start)
    [ "$#" -eq 2 ] || usage
    start
    ;;
  stop)
    [ "$#" -eq 2 ] || usage
    stop
    ;;
  createdb)
    [ "$#" -eq 3 ] || usage
    createdb "$3"
    ;;
  *) usage ;;
esac
