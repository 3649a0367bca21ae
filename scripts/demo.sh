#!/usr/bin/env bash
# The README's main command: runs the commerce shop end to end on this
# machine. Installs the Debian packages, builds the services from specs/
# (generated at build time by cppsvc_generate, schema locks included, the
# path users take), starts a private PostgreSQL, nats-server and every
# service (scripts/shop.sh), runs the shop's story (tools/shop_scenario.cc)
# and stops everything.
#
#   bash scripts/demo.sh [--keep]
#
# --keep leaves the shop running and prints how to call it; stop it with
# `bash scripts/shop.sh stop build/demo/shop`. The build uses the `dev`
# preset (build/); CMAKE_BUILD_PARALLEL_LEVEL limits its jobs.
set -euo pipefail
cd "$(dirname "$0")/.."

keep=0
for arg in "$@"; do
  case "$arg" in
    --keep) keep=1 ;;
    -h | --help)
      sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "demo.sh: unknown argument '$arg' (--keep, --help)" >&2
      exit 2
      ;;
  esac
done

started=$SECONDS
step() { printf '\n== %s\n' "$*"; }

step "dependencies (scripts/install-deps.sh)"
bash scripts/install-deps.sh

step "build: the commerce services, generated from specs/ by cppsvc_generate"
configure_log=$(mktemp)
cmake --preset dev > "$configure_log" 2>&1 || {
  cat "$configure_log" >&2
  exit 1
}
rm -f "$configure_log"
services=(auth products payments orders notifications)
targets=()
for svc in "${services[@]}"; do targets+=("${svc}_service"); done
targets+=(gateway_service cppsvc-token shop_scenario)
cmake --build --preset dev --target "${targets[@]}"
for t in "${services[@]}"; do
  [ -x "build/services/${t}_service" ] || {
    echo "demo.sh: the build failed (build/services/${t}_service is missing)" >&2
    exit 1
  }
done
# What the build generated (build/commerce) is what is checked in (generated/).
if bash tests/golden/compare_tree.sh generated build/commerce \
  "cmake --build build --target update-generated" > build/demo-generated.log 2>&1; then
  echo "generated/ is what specs/ produce: $(tail -n 1 build/demo-generated.log | sed 's/^ok: //')"
else
  echo "generated/ differs from what specs/ produce now (see build/demo-generated.log);" \
    "regenerate with: cmake --build build --target update-generated"
fi
echo "the checkout saga, as generated: generated/commerce/orders/v1/orders.cppsvc.md (section Sagas)"

step "start: PostgreSQL, nats-server, the five services and the gateway (scripts/shop.sh)"
shop=build/demo/shop
# A shop left running by an earlier `demo.sh --keep` is stopped first.
bash scripts/shop.sh stop "$shop" > /dev/null 2>&1 || true
stop_shop() {
  bash scripts/shop.sh stop "$shop" > /dev/null 2>&1 || true
}
if [ "$keep" -eq 0 ]; then trap stop_shop EXIT; fi
shop_started=$SECONDS
bash scripts/shop.sh start "$shop" > /dev/null
# shellcheck disable=SC1090,SC1091
source "$shop/shop.env"
for svc in "${services[@]}"; do
  var=$(printf '%s' "$svc" | tr '[:lower:]' '[:upper:]')_ADDRESS
  printf '  %-14s %s\n' "$svc" "${!var}"
done
printf '  %-14s %s\n' gateway "$GATEWAY_URL"
echo "  ready after $((SECONDS - shop_started)) s; logs in $shop/logs"

step "the story (build/tools/shop_scenario)"
build/tools/shop_scenario --env "$shop/shop.env"

step "the same shop over HTTP/JSON, through the generated gateway (curl)"
http_line() {  # http_line <what> <curl args...>: the status and the start of the body
  local what=$1 status
  shift
  status=$(curl -sS -o "$shop/http.out" -w '%{http_code}' "$@")
  printf '  %-46s -> %s %s\n' "$what" "$status" "$(head -c 70 "$shop/http.out" | tr -s '\n ' '  ')"
}
http_line "GET /v1/products:search?query=coffee" "$GATEWAY_URL/v1/products:search?query=coffee&limit=1"
http_line "GET /v1/cart (no token)" "$GATEWAY_URL/v1/cart"
http_line "POST /v1/auth/register (no email)" -X POST -H 'Content-Type: application/json' \
  -d '{"password":"long enough"}' "$GATEWAY_URL/v1/auth/register"
http_line "DELETE /v1/categories (no such method)" -X DELETE "$GATEWAY_URL/v1/categories"
http_line "GET /openapi.json" "$GATEWAY_URL/openapi.json"

if [ "$keep" -eq 1 ]; then
  cat << EOF

== the shop keeps running (--keep); its settings are in $shop/shop.env
  source $shop/shop.env
  build/tools/shop_scenario --env $shop/shop.env      # the story again
  # a token (customer, admin or service) signed with the shop's key:
  TOKEN=\$(env \$(grep ^CPPSVC_JWT_ $shop/shop.env) build/tools/cppsvc-token --sub me --role admin)
  # any RPC with grpcurl (not installed by install-deps.sh):
  grpcurl -plaintext -import-path specs -proto commerce/products/v1/products.proto \\
    -d '{"query": "coffee"}' \$PRODUCTS_ADDRESS commerce.products.v1.ProductsService/SearchProducts
  grpcurl -plaintext -H "authorization: Bearer \$TOKEN" -import-path specs \\
    -proto commerce/orders/v1/orders.proto -d '{}' \$ORDERS_ADDRESS commerce.orders.v1.OrdersService/GetCart
  # the checkout sagas, and a service's metrics:
  env \$(cat $shop/run/orders.env) build/services/orders_service sagas list
  curl -s http://127.0.0.1:\$ORDERS_ADMIN_PORT/metrics | grep cppsvc_saga
  # the same over HTTP/JSON, through the gateway (docs/gateway.md):
  curl -s "\$GATEWAY_URL/v1/products:search?query=coffee"
  curl -s "\$GATEWAY_URL/v1/cart" -H "Authorization: Bearer \$TOKEN"
  bash scripts/shop.sh stop $shop                    # stops everything
EOF
else
  step "stop"
  stop_shop
  trap - EXIT
  echo "stopped; the demo took $((SECONDS - started)) s"
fi
