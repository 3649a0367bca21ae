#!/usr/bin/env bash
# Starts and stops a throwaway nats-server (with JetStream) for tests and
# benchmarks, listening on a free loopback port chosen by the server itself.
#
#   scripts/nats.sh start <dir>   prints nats://127.0.0.1:PORT; writes
#                                 <dir>/nats.url, <dir>/nats.pid, <dir>/nats.log
#                                 and keeps JetStream data in <dir>/js
#   scripts/nats.sh stop <dir>    stops the server started in <dir>
#
# Exit status 3 means nats-server is not installed (apt-get install
# nats-server, or scripts/install-deps.sh); NATS_SERVER overrides the binary.
set -euo pipefail

usage() {
  echo "usage: $0 start|stop <dir>" >&2
  exit 2
}

[ "$#" -eq 2 ] || usage
cmd=$1
dir=$2

find_server() {
  if [ -n "${NATS_SERVER:-}" ]; then
    [ -x "$NATS_SERVER" ] || return 1
    echo "$NATS_SERVER"
    return
  fi
  # /usr/sbin is not on a non-root PATH on Debian.
  command -v nats-server 2> /dev/null && return
  for candidate in /usr/sbin/nats-server /usr/bin/nats-server /usr/local/bin/nats-server; do
    if [ -x "$candidate" ]; then
      echo "$candidate"
      return
    fi
  done
  return 1
}

# Alive and not a zombie: once the start script exits, the server's parent
# is whatever reaps orphans, which may take a while to do so.
alive() {
  local stat
  kill -0 "$1" 2> /dev/null || return 1
  # /proc/<pid>/stat: "<pid> (<comm>) <state> ..."
  read -r stat < "/proc/$1/stat" 2> /dev/null || return 1
  stat=${stat##*) }
  [ "${stat:0:1}" != Z ]
}

running() {
  [ -f "$dir/nats.pid" ] && alive "$(cat "$dir/nats.pid")"
}

stop() {
  [ -f "$dir/nats.pid" ] || return 0
  local pid
  pid=$(cat "$dir/nats.pid")
  if alive "$pid"; then
    kill -TERM "$pid" 2> /dev/null || true
    for _ in $(seq 1 50); do
      alive "$pid" || break
      sleep 0.1
    done
    if alive "$pid"; then
      kill -KILL "$pid" 2> /dev/null || true
    fi
  fi
  rm -f "$dir/nats.pid" "$dir/nats.url"
}

start() {
  local server
  if ! server=$(find_server); then
    echo "nats.sh: nats-server is not installed" >&2
    exit 3
  fi
  mkdir -p "$dir/js" "$dir/ports"
  dir=$(cd "$dir" && pwd)
  if running; then
    echo "nats.sh: a nats-server is already running for $dir" >&2
    exit 1
  fi
  rm -f "$dir/nats.url" "$dir/nats.pid" "$dir"/ports/*.ports

  # -p -1: the server picks a free port and reports it in the ports file.
  "$server" -a 127.0.0.1 -p -1 -js -sd "$dir/js" --ports_file_dir "$dir/ports" \
    < /dev/null > "$dir/nats.log" 2>&1 &
  local pid=$!
  echo "$pid" > "$dir/nats.pid"

  local url="" ports port
  for _ in $(seq 1 100); do
    if ! alive "$pid"; then
      echo "nats.sh: nats-server exited; last log lines:" >&2
      tail -n 20 "$dir/nats.log" >&2 || true
      rm -f "$dir/nats.pid"
      exit 1
    fi
    ports=$(cat "$dir"/ports/*.ports 2> /dev/null || true)
    url=$(printf '%s' "$ports" | grep -o 'nats://[0-9.]*:[0-9]*' | head -n 1 || true)
    if [ -n "$url" ]; then
      port=${url##*:}
      # Accepting connections: the server greets every client with INFO.
      if (exec 3<> "/dev/tcp/127.0.0.1/$port" && read -r -t 1 -n 4 greeting <&3 && [ "$greeting" = INFO ]) \
        2> /dev/null; then
        echo "$url" > "$dir/nats.url"
        echo "$url"
        return 0
      fi
    fi
    sleep 0.1
  done
  echo "nats.sh: nats-server did not accept connections within 10 s" >&2
  stop
  exit 1
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  *) usage ;;
esac
