#!/usr/bin/env bash
# The checkout saga's timeout with a participant down (issue #21): payments
# is killed and kept down past the saga's timeout_ms (60 s in the contract).
# The owner gives the step up at the deadline and compensates in reverse
# order, starting with the step it gave up, whose undo waits for payments.
# When payments is back the order ends CANCELLED by TIMEOUT with its stock
# released, and payments, hearing the old step after its undo, charges
# nothing. Through the gateway, on a shop from with_shop.sh:
#   saga_timeout.sh --env <shop.env>
set -euo pipefail
[ "${1:-}" = --env ] && [ -s "${2:-}" ] || { echo "usage: $0 --env <shop.env>" >&2; exit 2; }
set -a
# shellcheck disable=SC1090
source "$2"
set +a
: "${GATEWAY_URL:?the shop runs no gateway}"
shop="$(dirname "$0")/../../scripts/shop.sh"
failures=0
fail() {
  echo "FAIL $*" >&2
  failures=$((failures + 1))
}

mint() {
  env -i CPPSVC_JWT_ALGORITHM="$CPPSVC_JWT_ALGORITHM" CPPSVC_JWT_ISSUER="$CPPSVC_JWT_ISSUER" \
    CPPSVC_JWT_AUDIENCE="$CPPSVC_JWT_AUDIENCE" CPPSVC_JWT_KEY_FILE="$CPPSVC_JWT_KEY_FILE" \
    CPPSVC_JWT_PRIVATE_KEY_FILE="$CPPSVC_JWT_PRIVATE_KEY_FILE" \
    "$SHOP_BIN_DIR/tools/cppsvc-token" --sub "$1" --role "$2" --ttl 3600
}
# api <METHOD> <path> [json body] [token]: prints the body; fails on a non-2xx status.
api() {
  local args=(-sS -f -X "$1" --max-time 20)
  [ -z "${4:-}" ] || args+=(-H "Authorization: Bearer $4")
  [ -z "${3:-}" ] || args+=(-H 'Content-Type: application/json' --data-binary "$3")
  curl "${args[@]}" "$GATEWAY_URL$2"
}

run=$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')
admin=$(mint "timeout-admin-$run" admin)
customer=$(mint "$(cat /proc/sys/kernel/random/uuid)" customer)
category=$(api POST /v1/categories "{\"name\":\"Timeout $run\",\"slug\":\"timeout-$run\"}" "$admin" | jq -r .category.id)
product=$(api POST /v1/products "{\"sku\":\"TIMEOUT-${run^^}\",\"name\":\"Timeout tea\",\"categoryId\":\"$category\",\"priceCents\":\"700\",\"stock\":5}" "$admin" | jq -r .product.id)

bash "$shop" kill "$SHOP_DIR" payments KILL > /dev/null
echo "payments killed"
api POST /v1/cart/items "{\"productId\":\"$product\",\"quantity\":2}" "$customer" > /dev/null
order=$(api POST /v1/orders "{\"requestId\":\"$(cat /proc/sys/kernel/random/uuid)\"}" "$customer" | jq -r .order.id)
started=$SECONDS
echo "order $order checked out"

# The sweeper gives the payment step up at the saga's deadline: the
# instance turns to compensating (cause timed_out) and sends payments its
# undo, which waits on the stream while payments is down.
saga=""
for _ in $(seq 1 100); do
  saga=$(psql -XAtq "$ORDERS_DATABASE_URL" -c \
    "SELECT status || ' ' || (payload->>'cause') FROM cppsvc_sagas WHERE saga = 'checkout' AND id = '$order'")
  [ "$saga" != "compensating timed_out" ] || break
  sleep 1
done
echo "saga: $saga after $((SECONDS - started)) s"
[ "$saga" = "compensating timed_out" ] || fail "saga of $order is '$saga', want 'compensating timed_out'"
[ $((SECONDS - started)) -ge 55 ] || fail "given up after $((SECONDS - started)) s, before the 60 s timeout"
status=$(api GET "/v1/orders/$order" "" "$customer" | jq -r .order.status)
[ "$status" != ORDER_STATUS_CONFIRMED ] || fail "order $order was confirmed with payments down"

# Payments comes back: it takes the undo (leaving a marker, so the old step
# it hears too only reports failure), then the stock is released and the
# order ends CANCELLED by the timeout.
bash "$shop" restart "$SHOP_DIR" payments > /dev/null
echo "payments restarted"
body=""
for _ in $(seq 1 120); do
  body=$(api GET "/v1/orders/$order" "" "$customer")
  status=$(jq -r .order.status <<< "$body")
  [ "$status" != ORDER_STATUS_CANCELLED ] || break
  sleep 0.25
done
echo "order $status ($(jq -r .order.cancellationReason <<< "$body")) $((SECONDS - started)) s after checkout"
[ "$status" = ORDER_STATUS_CANCELLED ] || fail "order $order is $status, want ORDER_STATUS_CANCELLED"
[ "$(jq -r .order.cancellationReason <<< "$body")" = CANCELLATION_REASON_TIMEOUT ] ||
  fail "order $order was cancelled for $(jq -r .order.cancellationReason <<< "$body"), want the timeout"
stock=$(api GET "/v1/products/$product" | jq -r .product.stock)
[ "$stock" = 5 ] || fail "stock is $stock after the cancel, want 5 (released)"
sleep 2 # the old step's delivery, if it is still on its way
step=$(psql -XAtq "$PAYMENTS_DATABASE_URL" -c \
  "SELECT state FROM cppsvc_saga_steps WHERE saga = 'checkout' AND id = '$order'")
charged=$(psql -XAtq "$PAYMENTS_DATABASE_URL" -c \
  "SELECT count(*) FROM payments WHERE order_id = '$order' AND status = 2")
echo "payments' step: ${step:-none}; successful charges: $charged"
[ "$step" = undone ] || fail "payments' step of $order is '${step:-none}', want undone"
[ "$charged" = 0 ] || fail "order $order was charged after it was cancelled"
[ "$failures" = 0 ] || exit 1
echo "saga_timeout: the order was cancelled by the timeout, its stock released, nothing charged"
