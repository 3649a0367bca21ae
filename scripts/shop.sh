#!/usr/bin/env bash
# Runs the whole commerce shop on this machine, for the demo, tests and
# benchmarks: a private PostgreSQL (scripts/pg.sh) with one database per
# service, a private nats-server with JetStream (scripts/nats.sh), and every
# service binary, all on loopback ports nobody else uses.
#
#   scripts/shop.sh start <dir>          starts everything, waits until every
#                                        service's /readyz answers 200, writes
#                                        <dir>/shop.env and prints it
#   scripts/shop.sh stop <dir>           SIGTERM to every service (SIGKILL after
#                                        SHOP_STOP_TIMEOUT s), then nats and PostgreSQL
#   scripts/shop.sh env <dir>            prints <dir>/shop.env
#   scripts/shop.sh kill <dir> <svc> [SIG]   signals one service (default KILL)
#                                            and waits for it to end
#   scripts/shop.sh restart <dir> <svc>  starts one service again with the
#                                        environment it had, waits for /readyz
#   scripts/shop.sh status <dir>         one line per service: running or not
#
# <dir>/shop.env is KEY=value lines (no quoting needed, `source`-able):
# SHOP_DIR, PG_URL, NATS_URL, <SVC>_ADDRESS (host:port of gRPC),
# GATEWAY_URL (http://host:port of the HTTP/JSON gateway),
# <SVC>_ADMIN_PORT, <SVC>_DATABASE_URL, the CPPSVC_JWT_* settings a client
# needs to sign tokens the services accept (ES256: the private key file and
# the public key file), SHOP_DECLINE_ABOVE_CENTS and SHOP_BIN_DIR.
# Logs: <dir>/logs/<svc>.log; each service's environment: <dir>/run/<svc>.env.
#
# Settings from the environment:
#   SHOP_BUILD_DIR          where the binaries are (default <repo>/build):
#                           services/<svc>_service and tools/cppsvc-token
#   SHOP_SERVICES           which services to run (default: all five and the
#                           gateway)
#   SHOP_READY_TIMEOUT      seconds to wait for /readyz (default 90)
#   SHOP_STOP_TIMEOUT       seconds a service gets to drain on stop (default 15)
#   SHOP_DECLINE_ABOVE_CENTS  payments' simulated provider declines charges
#                           above this many cents (default 100000)
#   SHOP_REVOCATION_INTERVAL_MS  how often services poll auth's revoked
#                           tokens (default 500)
#   SHOP_SAGA_TIMEOUT_SWEEP_MS   orders' saga sweeper period (default 500)
#   SHOP_EXTRA_ENV          extra KEY=value words given to every service
#   SHOP_REPLICAS           processes of each of products, payments, orders
#                           and notifications (default 1); replica N > 1 is
#                           the service <svc>-N (logs, kill, restart), on the
#                           same database, and every client (the gateway,
#                           orders' products client) round-robins over all;
#                           shop.env then lists <SVC>_ADDRESSES=a,b,...
#   SHOP_IMAGES=1           runs each service that has an image (`<svc>:latest`,
#                           from scripts/images.sh) in a container of it
#                           (`docker run --network host`, the same environment,
#                           the key files mounted read-only), in the engine
#                           DOCKER_HOST names; the others as processes.
#                           kill, restart and stop signal the container.
#                           SHOP_DOCKER: the client (default /usr/bin/docker)
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
all_services=(auth products payments orders notifications gateway)

usage() {
  echo "usage: $0 start|stop|env|status <dir> | kill <dir> <svc> [SIG] | restart <dir> <svc>" >&2
  exit 2
}

[ "$#" -ge 2 ] || usage
cmd=$1
dir=$2
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

read -r -a services <<< "${SHOP_SERVICES:-${all_services[*]}}"
build=${SHOP_BUILD_DIR:-$repo/build}

# Replicas <svc>-2 ... <svc>-N of the services that scale out, after their
# first process in both lists.
replicated=(products payments orders notifications)
with_replicas() {  # with_replicas <svc...>: the names with their replicas
  local svc n
  for svc in "$@"; do
    echo "$svc"
    printf '%s\n' "${replicated[@]}" | grep -qx "$svc" || continue
    for ((n = 2; n <= ${SHOP_REPLICAS:-1}; n++)); do echo "$svc-$n"; done
  done
}
[[ ${SHOP_REPLICAS:-1} =~ ^[1-9][0-9]*$ ]] || { echo "shop.sh: SHOP_REPLICAS must be a positive number" >&2; exit 2; }
mapfile -t all_services < <(with_replicas "${all_services[@]}")
mapfile -t services < <(with_replicas "${services[@]}")

# The service a process name runs: orders-2 -> orders.
base_of() { printf '%s' "${1%-[0-9]*}"; }

upper() { printf '%s' "$1" | tr '[:lower:]' '[:upper:]'; }

# The prefix of a process's settings: its service's (ORDERS_ for orders-2).
prefix() { upper "$(base_of "$1")"; }

log() { echo "shop.sh: $*" >&2; }

# Alive and not a zombie.
alive() {
  local stat
  kill -0 "$1" 2> /dev/null || return 1
  read -r stat < "/proc/$1/stat" 2> /dev/null || return 1
  stat=${stat##*) }
  [ "${stat:0:1}" != Z ]
}

# The pid of <svc> when it is still the process this script started: the
# pid file names it and its executable is the service binary (or, for a
# moment after the start, setsid or env, which exec it).
service_pid() {
  local svc=$1 pid exe
  [ -s "$dir/run/$svc.pid" ] || return 1
  pid=$(cat "$dir/run/$svc.pid")
  alive "$pid" || return 1
  exe=$(readlink "/proc/$pid/exe" 2> /dev/null || true)
  case "$exe" in
    *"/$(base_of "$svc")_service"* | */setsid | */env | "$docker") echo "$pid" ;;
    *) return 1 ;;
  esac
}

port_in_use() {
  (exec 3<> "/dev/tcp/127.0.0.1/$1") 2> /dev/null
}

# Sets `port` to a free port, none handed out twice by this run, below the
# kernel's range for outgoing connections (which would take a port picked
# here before its service binds it).
declare -A taken_ports=()
port=0
pick_port() {
  local low=32768 first=10000 candidate
  read -r low _ < /proc/sys/net/ipv4/ip_local_port_range 2> /dev/null || true
  [ "$low" -gt $((first + 1000)) ] || first=1024
  for _ in $(seq 1 500); do
    candidate=$((first + RANDOM % (low - first)))
    [ -z "${taken_ports[$candidate]:-}" ] || continue
    if ! port_in_use "$candidate"; then
      taken_ports[$candidate]=1
      port=$candidate
      return 0
    fi
  done
  log "found no free port"
  exit 1
}

# HTTP status of GET http://127.0.0.1:<port><path> ("" when nothing answers).
http_status() {
  local port=$1 path=$2 line=""
  {
    exec 3<> "/dev/tcp/127.0.0.1/$port" &&
      printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$path" >&3 &&
      read -r -t 2 line <&3
  } 2> /dev/null || true
  exec 3>&- 2> /dev/null || true
  line=${line#HTTP/1.? }
  printf '%s' "${line%% *}"
}

env_value() {  # env_value <file> <KEY>
  sed -n "s/^$2=//p" "$1" | head -n 1
}

docker=${SHOP_DOCKER:-/usr/bin/docker}

# The container of <svc> for <dir> (SHOP_IMAGES=1), or "" when it runs as a
# process.
container_of() {
  [ "${SHOP_IMAGES:-0}" = 1 ] || return 0
  "$docker" image inspect "$(base_of "$1"):latest" > /dev/null 2>&1 || return 0
  printf 'shop-%s-%s' "$(printf '%s' "$dir" | md5sum | cut -c1-8)" "$1"
}

# Starts <svc> in the background with exactly the environment in
# <dir>/run/<svc>.env, in a process group of its own: the binary, or with
# SHOP_IMAGES=1 a container of its image, attached (its output in the log).
launch() {
  local svc=$1 binary container
  container=$(container_of "$svc")
  if [ -n "$container" ]; then
    "$docker" rm -f "$container" > /dev/null 2>&1 || true
    echo "== $(date -u +%FT%TZ) start" >> "$dir/logs/$svc.log"
    setsid "$docker" run --rm --name "$container" --network host --env-file "$dir/run/$svc.env" \
      -v "$dir/jwt:$dir/jwt:ro" "$(base_of "$svc"):latest" \
      < /dev/null >> "$dir/logs/$svc.log" 2>&1 &
    echo $! > "$dir/run/$svc.pid"
    return
  fi
  binary=$build/services/$(base_of "$1")_service
  if [ ! -x "$binary" ]; then
    log "$binary is missing: cmake --build $build --target $(base_of "$svc")_service"
    exit 1
  fi
  mapfile -t vars < "$dir/run/$svc.env"
  echo "== $(date -u +%FT%TZ) start" >> "$dir/logs/$svc.log"
  setsid env -i "${vars[@]}" "$binary" < /dev/null >> "$dir/logs/$svc.log" 2>&1 &
  echo $! > "$dir/run/$svc.pid"
}

# Waits until every named service answers /readyz with 200.
wait_ready() {
  local deadline=$((SECONDS + ${SHOP_READY_TIMEOUT:-90})) pending svc port pid
  pending=("$@")
  while [ "${#pending[@]}" -gt 0 ]; do
    local still=()
    for svc in "${pending[@]}"; do
      if ! pid=$(service_pid "$svc"); then
        log "$svc exited before it was ready; last lines of $dir/logs/$svc.log:"
        tail -n 20 "$dir/logs/$svc.log" >&2 || true
        return 1
      fi
      port=$(env_value "$dir/run/$svc.env" "$(prefix "$svc")_ADMIN_PORT")
      [ "$(http_status "$port" /readyz)" = 200 ] || still+=("$svc")
    done
    pending=("${still[@]+"${still[@]}"}")
    [ "${#pending[@]}" -eq 0 ] && break
    if [ "$SECONDS" -ge "$deadline" ]; then
      for svc in "${pending[@]}"; do
        port=$(env_value "$dir/run/$svc.env" "$(prefix "$svc")_ADMIN_PORT")
        log "$svc is not ready after ${SHOP_READY_TIMEOUT:-90} s (/readyz: $(http_status "$port" /readyz)); last lines of $dir/logs/$svc.log:"
        tail -n 20 "$dir/logs/$svc.log" >&2 || true
      done
      return 1
    fi
    sleep 0.2
  done
}

make_keys() {
  mkdir -p "$dir/jwt"
  if [ ! -s "$dir/jwt/private.pem" ]; then
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$dir/jwt/private.pem" 2> /dev/null
    openssl pkey -in "$dir/jwt/private.pem" -pubout -out "$dir/jwt/public.pem" 2> /dev/null
    chmod 600 "$dir/jwt/private.pem"
  fi
  # A container's service runs as uid 10001 (the images' user).
  if [ "${SHOP_IMAGES:-0}" = 1 ] && [ "$(id -u)" -eq 0 ]; then chown -R 10001 "$dir/jwt"; fi
}

create_databases() {
  local svc pg_port
  pg_port=$(cat "$dir/pg/port")
  for svc in "${services[@]}"; do
    [ "$svc" != gateway ] || continue  # keeps no state
    [ "$(base_of "$svc")" = "$svc" ] || continue  # a replica: its service's database
    if [ "$(psql -X -tA -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres \
      -c "SELECT count(*) FROM pg_database WHERE datname = '$svc'")" = 0 ]; then
      bash "$repo/scripts/pg.sh" createdb "$dir/pg" "$svc" > /dev/null
    fi
  done
}

start() {
  local svc pid
  for svc in "${services[@]}"; do
    if pid=$(service_pid "$svc"); then
      log "$svc is already running for $dir (pid $pid): $0 stop $dir first"
      exit 1
    fi
  done
  mkdir -p "$dir/run" "$dir/logs"
  if [ ! -x "$build/tools/cppsvc-token" ]; then
    log "$build/tools/cppsvc-token is missing: cmake --build $build --target cppsvc-token"
    exit 1
  fi

  pg_url=$(bash "$repo/scripts/pg.sh" start "$dir/pg")
  create_databases
  nats_url=$(bash "$repo/scripts/nats.sh" start "$dir/nats")
  make_keys

  jwt=(CPPSVC_JWT_ALGORITHM=ES256 CPPSVC_JWT_ISSUER=commerce-auth
             CPPSVC_JWT_AUDIENCE=commerce CPPSVC_JWT_KEY_FILE="$dir/jwt/public.pem")
  # The token every service shows auth when it polls the revoked tokens.
  env -i "${jwt[@]}" CPPSVC_JWT_PRIVATE_KEY_FILE="$dir/jwt/private.pem" \
    "$build/tools/cppsvc-token" --sub shop-services --role service --ttl 2592000 \
    > "$dir/jwt/service.token"
  chmod 600 "$dir/jwt/service.token"
  if [ "${SHOP_IMAGES:-0}" = 1 ] && [ "$(id -u)" -eq 0 ]; then chown 10001 "$dir/jwt/service.token"; fi

  local attempt
  for attempt in 1 2 3; do
    if launch_all; then
      mv "$dir/shop.env.tmp" "$dir/shop.env"
      cat "$dir/shop.env"
      return 0
    fi
    # A port taken by someone else between picking and binding: again, on
    # other ports.
    if [ "$attempt" -lt 3 ] && port_taken; then
      log "a port was taken meanwhile; starting the services again on other ports"
      for svc in "${all_services[@]}"; do stop_one "$svc" KILL; done
      continue
    fi
    break
  done
  stop_all
  exit 1
}

# True when a service's last start failed to listen on its port.
port_taken() {
  local svc
  for svc in "${services[@]}"; do
    awk '/^== .* start$/ { n = 0 } /cannot listen/ { n = 1 } END { exit !n }' \
      "$dir/logs/$svc.log" 2> /dev/null && return 0
  done
  return 1
}

# Picks the ports, writes each service's environment and shop.env.tmp,
# starts the services and waits for them; false when one is not ready.
launch_all() {
  local svc
  declare -A grpc_port admin_port
  for svc in "${all_services[@]}"; do
    pick_port
    grpc_port[$svc]=$port
    pick_port
    admin_port[$svc]=$port
  done
  local pg_base=${pg_url%/postgres}
  local decline=${SHOP_DECLINE_ABOVE_CENTS:-100000}
  local extra=()
  read -r -a extra <<< "${SHOP_EXTRA_ENV:-}"
  # Shared by payments' replicas: the provider signs with one secret.
  local webhook_secret
  webhook_secret=shop-webhook-secret-$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')
  # addresses <svc>: host:port of its every process, comma-separated.
  addresses() {
    local r list=""
    for r in $(with_replicas "$1"); do list+=${list:+,}127.0.0.1:${grpc_port[$r]}; done
    printf '%s' "$list"
  }

  for svc in "${services[@]}"; do
    local p base
    p=$(prefix "$svc")
    base=$(base_of "$svc")
    {
      echo "PATH=/usr/local/bin:/usr/bin:/bin"
      echo "HOME=$dir"
      printf '%s\n' "${jwt[@]}"
      echo "NATS_URL=$nats_url"
      if [ "$svc" = gateway ]; then
        echo "GATEWAY_HTTP_PORT=${grpc_port[$svc]}"
        local backend
        for backend in "${all_services[@]}"; do
          [ "$backend" != gateway ] && [ "$(base_of "$backend")" = "$backend" ] || continue
          echo "GATEWAY_$(upper "$backend")_ADDRESSES=$(addresses "$backend")"
        done
      else
        echo "${p}_DATABASE_URL=$pg_base/$base"
        echo "${p}_GRPC_PORT=${grpc_port[$svc]}"
      fi
      echo "${p}_ADMIN_PORT=${admin_port[$svc]}"
      echo "${p}_LISTEN_ADDRESS=127.0.0.1"
      # Every service, auth included, refuses a token auth has revoked.
      echo "CPPSVC_REVOCATION_TARGET=127.0.0.1:${grpc_port[auth]}"
      echo "CPPSVC_REVOCATION_METHOD=/commerce.auth.v1.AuthService/ListRevokedTokens"
      echo "CPPSVC_SERVICE_TOKEN_FILE=$dir/jwt/service.token"
      echo "CPPSVC_REVOCATION_INTERVAL_MS=${SHOP_REVOCATION_INTERVAL_MS:-500}"
      echo "CPPSVC_REVOCATION_MAX_STALENESS_MS=30000"
      echo "${p}_RELAY_POLL_MS=200"
      # The gateway (on loopback) names the HTTP client in x-forwarded-for,
      # so the services' per-peer limits apply to that client.
      echo "CPPSVC_TRUSTED_PROXIES=127.0.0.1"
      case "$base" in
        auth) echo "CPPSVC_JWT_PRIVATE_KEY_FILE=$dir/jwt/private.pem" ;;
        orders)
          echo "ORDERS_PRODUCTS_ADDRESSES=$(addresses products)"
          echo "ORDERS_SAGA_SWEEP_MS=${SHOP_SAGA_TIMEOUT_SWEEP_MS:-500}"
          ;;
        payments)
          echo "PAYMENTS_FAKE_DECLINE_ABOVE_CENTS=$decline"
          echo "PAYMENTS_WEBHOOK_SECRET=$webhook_secret"
          ;;
      esac
      [ "${#extra[@]}" -eq 0 ] || printf '%s\n' "${extra[@]}"
    } > "$dir/run/$svc.env"
    chmod 600 "$dir/run/$svc.env"
  done

  {
    echo "SHOP_DIR=$dir"
    echo "SHOP_BIN_DIR=$build"
    echo "PG_URL=$pg_url"
    echo "NATS_URL=$nats_url"
    for svc in "${all_services[@]}"; do
      local p
      p=$(upper "$svc")
      if [ "$svc" = gateway ]; then
        printf '%s\n' "${services[@]}" | grep -qx gateway || continue
        echo "GATEWAY_URL=http://127.0.0.1:${grpc_port[$svc]}"
        echo "GATEWAY_ADMIN_PORT=${admin_port[$svc]}"
      elif [ "$(base_of "$svc")" = "$svc" ] && printf '%s\n' "${services[@]}" | grep -qx "$svc"; then
        echo "${p}_ADDRESS=127.0.0.1:${grpc_port[$svc]}"
        echo "${p}_ADDRESSES=$(addresses "$svc")"
        echo "${p}_ADMIN_PORT=${admin_port[$svc]}"
        echo "${p}_DATABASE_URL=$pg_base/$svc"
      fi
    done
    printf '%s\n' "${jwt[@]}"
    echo "CPPSVC_JWT_PRIVATE_KEY_FILE=$dir/jwt/private.pem"
    echo "SHOP_DECLINE_ABOVE_CENTS=$decline"
  } > "$dir/shop.env.tmp"

  for svc in "${services[@]}"; do
    launch "$svc"
  done
  wait_ready "${services[@]}"
}

# SIGTERM (or <sig>) to one service, then waits up to SHOP_STOP_TIMEOUT
# seconds for it to end; SIGKILL after that.
stop_one() {
  local svc=$1 sig=${2:-TERM} pid waited=0 limit container
  limit=$((${SHOP_STOP_TIMEOUT:-15} * 10))
  pid=$(service_pid "$svc") || {
    rm -f "$dir/run/$svc.pid"
    return 0
  }
  container=$(container_of "$svc")
  signal() {  # the process, or the container's (its client only follows it)
    if [ -n "$container" ]; then
      "$docker" kill --signal "$1" "$container" > /dev/null 2>&1 || true
    else
      kill -"$1" "$pid" 2> /dev/null || true
    fi
  }
  signal "$sig"
  while alive "$pid" && [ "$waited" -lt "$limit" ]; do
    sleep 0.1
    waited=$((waited + 1))
  done
  if alive "$pid"; then
    log "$svc (pid $pid) did not stop within ${SHOP_STOP_TIMEOUT:-15} s; killing it"
    signal KILL
    kill -KILL "$pid" 2> /dev/null || true
    while alive "$pid"; do sleep 0.1; done
  fi
  rm -f "$dir/run/$svc.pid"
}

stop_all() {
  local svc pidfile
  # Every process started for <dir>, whatever SHOP_REPLICAS says now.
  for pidfile in "$dir"/run/*.pid; do
    [ -e "$pidfile" ] || continue
    svc=$(basename "$pidfile" .pid)
    stop_one "$svc" TERM &
  done
  wait
  bash "$repo/scripts/nats.sh" stop "$dir/nats" || true
  bash "$repo/scripts/pg.sh" stop "$dir/pg" || true
  rm -f "$dir/shop.env"
}

case "$cmd" in
  start)
    [ "$#" -eq 2 ] || usage
    start
    ;;
  stop)
    [ "$#" -eq 2 ] || usage
    stop_all
    ;;
  env)
    [ "$#" -eq 2 ] || usage
    if [ ! -s "$dir/shop.env" ]; then
      log "no shop is running for $dir ($0 start $dir)"
      exit 1
    fi
    cat "$dir/shop.env"
    ;;
  status)
    [ "$#" -eq 2 ] || usage
    # The services, and any replica started for <dir> whatever SHOP_REPLICAS says now.
    for svc in $( (printf '%s\n' "${all_services[@]}"; ls "$dir/run" 2> /dev/null | sed -n 's/\.env$//p') | awk '!seen[$0]++'); do
      if pid=$(service_pid "$svc"); then echo "$svc running (pid $pid)"; else echo "$svc stopped"; fi
    done
    ;;
  kill)
    if [ "$#" -lt 3 ] || [ "$#" -gt 4 ]; then usage; fi
    [ -s "$dir/run/$3.env" ] || { log "unknown service $3"; exit 2; }
    stop_one "$3" "${4:-KILL}"
    ;;
  restart)
    [ "$#" -eq 3 ] || usage
    [ -s "$dir/run/$3.env" ] || { log "unknown service $3"; exit 2; }
    stop_one "$3" TERM
    launch "$3"
    wait_ready "$3"
    ;;
  *) usage ;;
esac
