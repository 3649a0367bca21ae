#!/usr/bin/env bash
# The whole commerce system from the generated compose.yaml, on a private
# Docker engine with Debian's docker-compose, checked end to end:
#
#   scripts/compose.sh <work-dir> [--compile] [<shop_scenario binary>]
#
# 1. scripts/docker.sh starts the engine (its data in <work-dir>/docker)
#    and makes debian:bookworm-slim;
# 2. the images: every service's and the gateway's from their generated
#    Dockerfiles (scripts/images.sh: with --compile each compiles the project
#    in its shared build stage, otherwise the binaries of the build in
#    COMPOSE_BUILD_DIR, default build/, are used), and local stand-ins for
#    postgres:15 and nats (tools/compose-local/);
# 3. `docker-compose up` of generated/commerce/compose.yaml with
#    services/compose.override.yaml (the services' own settings) and
#    tools/compose-local/compose.local.yaml, two replicas of each service;
# 4. waits until every container is healthy, runs the shop's story against
#    the first replica of each service, and calls the gateway on the port
#    compose published;
# 5. `docker-compose down -v`, also on failure (COMPOSE_KEEP=1 keeps it up).
# Prints how long each step took. Needs root; exit status 77 without the
# engine or docker-compose (bash scripts/install-deps.sh installs them),
# except under CI=true. COMPOSE_ENGINE_DIR puts the engine elsewhere (the
# tests share one, and its base image, in the build tree).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
[ "$#" -ge 1 ] || { echo "usage: $0 <work-dir> [--compile] [<shop_scenario>]" >&2; exit 2; }
mkdir -p "$1"
work=$(cd "$1" && pwd)
shift
compile=0
if [ "${1:-}" = --compile ]; then compile=1; shift; fi
build=${COMPOSE_BUILD_DIR:-$repo/build}
scenario=${1:-$build/tools/shop_scenario}
docker=/usr/bin/docker
compose=(docker-compose --compatibility -p "cppsvc$(printf '%s' "$work" | md5sum | cut -c1-8)"
  -f "$repo/generated/commerce/compose.yaml" -f "$repo/services/compose.override.yaml"
  -f "$repo/tools/compose-local/compose.local.yaml")

step_start=$SECONDS
step() {
  echo "compose.sh: $1 in $((SECONDS - step_start)) s"
  step_start=$SECONDS
}
engine=${COMPOSE_ENGINE_DIR:-$work/docker}
skip() {
  echo "SKIP: $1"
  [ "${CI:-}" = true ] && exit 1
  exit 77
}
command -v docker-compose > /dev/null || skip "docker-compose is missing (bash scripts/install-deps.sh)"

set +e
out=$(bash "$repo/scripts/docker.sh" start "$engine" 2>&1)
rc=$?
set -e
[ "$rc" -ne 3 ] || skip "$out"
[ "$rc" -eq 0 ] || { echo "$out" >&2; exit 1; }
export "${out?}"  # DOCKER_HOST=...
export DOCKER_BUILDKIT=1 COMPOSE_DOCKER_CLI_BUILD=1
down() {
  if [ "${COMPOSE_KEEP:-0}" = 1 ]; then
    echo "compose.sh: left running (${compose[*]} down -v; scripts/docker.sh stop $engine)"
    return
  fi
  "${compose[@]}" down -v --remove-orphans > "$work/down.log" 2>&1 || cat "$work/down.log" >&2
  bash "$repo/scripts/docker.sh" stop "$engine" || true
}
trap down EXIT
bash "$repo/scripts/docker.sh" base "$engine"
step "engine and debian:bookworm-slim"

if [ "$compile" = 1 ]; then
  bash "$repo/scripts/images.sh"
else
  bash "$repo/scripts/images.sh" --from-build "$build"
fi
step "service and gateway images"
for image in postgres:15 nats:2.9; do
  "$docker" build --network host -q -t "cppsvc-local/$image" \
    -f "$repo/tools/compose-local/${image%%:*}.Dockerfile" "$repo/tools/compose-local" > /dev/null
done
step "stand-ins for postgres:15 and nats"

# Keys: compose mounts secrets with the files' own modes, and the services
# run as uid 10001.
mkdir -p "$work/keys"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$work/keys/private.pem" 2> /dev/null
openssl pkey -in "$work/keys/private.pem" -pubout -out "$work/keys/public.pem" 2> /dev/null
export CPPSVC_JWT_KEY_PATH=$work/keys/public.pem CPPSVC_JWT_PRIVATE_KEY_PATH=$work/keys/private.pem
export CPPSVC_JWT_ALGORITHM=ES256 CPPSVC_JWT_ISSUER=commerce-auth CPPSVC_JWT_AUDIENCE=commerce
export CPPSVC_SERVICE_TOKEN_PATH=$work/keys/service.token
env -i CPPSVC_JWT_ALGORITHM=ES256 CPPSVC_JWT_ISSUER=commerce-auth CPPSVC_JWT_AUDIENCE=commerce \
  CPPSVC_JWT_PRIVATE_KEY_FILE="$CPPSVC_JWT_PRIVATE_KEY_PATH" \
  "$build/tools/cppsvc-token" --sub compose-services --role service --ttl 86400 > "$CPPSVC_SERVICE_TOKEN_PATH"
chmod 644 "$work/keys/"*
export PAYMENTS_WEBHOOK_SECRET=compose-webhook-secret POSTGRES_PASSWORD=compose-test
"${compose[@]}" up -d --no-build > "$work/up.log" 2>&1 || { cat "$work/up.log" >&2; exit 1; }

# Every container healthy (the databases job has no health check: it ends).
containers() { "${compose[@]}" ps -q 2> /dev/null; }
deadline=$((SECONDS + ${COMPOSE_READY_TIMEOUT:-180}))
while :; do
  pending=0
  for id in $(containers); do
    state=$("$docker" inspect -f '{{.Name}} {{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' "$id")
    case "$state" in
      *" running healthy" | *databases*" exited none") ;;
      *) pending=$((pending + 1)) last=$state ;;
    esac
  done
  [ "$pending" -gt 0 ] || break
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "compose.sh: $pending containers not healthy after ${COMPOSE_READY_TIMEOUT:-180} s (e.g. $last)" >&2
    "${compose[@]}" ps >&2
    "${compose[@]}" logs --tail 20 >&2
    exit 1
  fi
  sleep 2
done
running=$(containers | wc -l)
step "compose up: $running containers healthy"

# The first replica of each service, by its address on compose's network.
address() {
  local id
  id=$("${compose[@]}" ps -q "$1" | head -n 1)
  "$docker" inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$id"
}
{
  for svc in auth products orders payments notifications; do
    port=$(sed -n 's/.*\.grpc_port = \([0-9]*\).*/\1/p' "$repo/generated/commerce/$svc/v1/$svc.cppsvc.server.h" | head -n 1)
    echo "$(printf '%s' "$svc" | tr '[:lower:]' '[:upper:]')_ADDRESS=$(address "$svc"):$port"
  done
  echo "CPPSVC_JWT_ALGORITHM=ES256"
  echo "CPPSVC_JWT_ISSUER=commerce-auth"
  echo "CPPSVC_JWT_AUDIENCE=commerce"
  echo "CPPSVC_JWT_KEY_FILE=$work/keys/public.pem"
  echo "CPPSVC_JWT_PRIVATE_KEY_FILE=$work/keys/private.pem"
  echo "SHOP_DECLINE_ABOVE_CENTS=100000"
} > "$work/shop.env"
"$scenario" --env "$work/shop.env"
step "the shop's story"

# The gateway, on the host port compose published for its first replica.
http_port=$("${compose[@]}" port --index 1 gateway 8080 | sed 's/.*://')
for path in /openapi.json /v1/products; do
  status=$(curl -sS -o "$work/body" -w '%{http_code}' "http://127.0.0.1:$http_port$path")
  [ "$status" = 200 ] || { echo "compose.sh: GET $path through the gateway: $status $(head -c 300 "$work/body")" >&2; exit 1; }
done
products=$(jq '.products | length' "$work/body")
[ "$products" -gt 0 ] || { echo "compose.sh: the gateway lists no product" >&2; exit 1; }
step "the gateway on 127.0.0.1:$http_port ($products products)"
echo "compose.sh: ok"
