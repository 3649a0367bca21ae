#!/usr/bin/env bash
# Every route of the commerce gateway over real HTTP (curl), against the
# running shop (scripts/shop.sh: real PostgreSQL, NATS and services): the
# shop's story through the gateway, then the bad requests the gateway must
# refuse with a status and a reason. Ends by checking that every route the
# gateway serves (its admin /routes) was exercised.
#
#   gateway_routes.sh --env <shop.env>
set -euo pipefail
[ "${1:-}" = --env ] && [ -s "${2:-}" ] || { echo "usage: $0 --env <shop.env>" >&2; exit 2; }
set -a
# shellcheck disable=SC1090
source "$2"
set +a
: "${GATEWAY_URL:?the shop runs no gateway}"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
declare -A covered=()
failures=0
status=""
out=""

fail() {
  echo "FAIL $*" >&2
  failures=$((failures + 1))
}

# call <want status, or any> <METHOD> <route template> <path> [json body] [token] [extra curl args...]
call() {
  local want=$1 method=$2 route=$3 path=$4 data=${5:-} token=${6:-}
  shift 6 2> /dev/null || shift $#
  local args=(-sS -o "$tmp/body" -D "$tmp/headers" -w '%{http_code}' -X "$method" --max-time 20)
  [ -z "$token" ] || args+=(-H "Authorization: Bearer $token")
  [ -z "$data" ] || args+=(-H 'Content-Type: application/json' --data-binary "$data")
  status=$(curl "${args[@]}" "$@" "$GATEWAY_URL$path" || true)
  out=$(cat "$tmp/body" 2> /dev/null || true)
  [ "$route" = - ] || covered["$method $route"]=1
  [ "$want" != any ] || return 0
  if [ "$status" != "$want" ]; then
    fail "$method $path: got $status, want $want: $out"
    return 0
  fi
  printf 'ok   %s %-6s %s\n' "$status" "$method" "$path"
}

# expect <jq filter> <what>: the last body satisfies the filter.
expect() {
  jq -e "$1" <<< "$out" > /dev/null 2>&1 || fail "$2: $(head -c 300 <<< "$out")"
}

header() { grep -i "^$1:" "$tmp/headers" | head -n 1 | cut -d' ' -f2- | tr -d '\r'; }

mint() {
  env -i CPPSVC_JWT_ALGORITHM="$CPPSVC_JWT_ALGORITHM" CPPSVC_JWT_ISSUER="$CPPSVC_JWT_ISSUER" \
    CPPSVC_JWT_AUDIENCE="$CPPSVC_JWT_AUDIENCE" CPPSVC_JWT_KEY_FILE="$CPPSVC_JWT_KEY_FILE" \
    CPPSVC_JWT_PRIVATE_KEY_FILE="$CPPSVC_JWT_PRIVATE_KEY_FILE" \
    "$SHOP_BIN_DIR/tools/cppsvc-token" --sub "$1" --role "$2" --ttl 3600
}

run=$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')
admin=$(mint "gateway-admin-$run" admin)

echo "== the catalog, as an admin"
call 200 POST /v1/categories /v1/categories "{\"name\":\"Mugs $run\",\"slug\":\"mugs-$run\"}" "$admin"
category=$(jq -r .category.id <<< "$out")
call 200 GET /v1/categories /v1/categories
expect ".categories | map(.id) | index(\"$category\") != null" "the new category is listed"
product_body() {
  echo "{\"sku\":\"$1-${run^^}\",\"name\":\"$2\",\"description\":\"a $2\",\"categoryId\":\"$category\",\"priceCents\":\"$3\",\"stock\":$4}"
}
call 200 POST /v1/products /v1/products "$(product_body MUG 'Gateway mug' 1299 10)" "$admin"
product=$(jq -r .product.id <<< "$out")
version=$(jq -r .product.version <<< "$out")
expect '.product.priceCents == "1299"' "int64 fields are JSON strings"
call 200 PATCH "/v1/products/{product_id}" "/v1/products/$product" "{\"version\":\"$version\",\"name\":\"Gateway coffee mug\"}" "$admin"
expect '.product.name == "Gateway coffee mug"' "the product was renamed"
call 200 POST "/v1/products/{product_id}/stock" "/v1/products/$product/stock" "{\"requestId\":\"$(cat /proc/sys/kernel/random/uuid)\",\"delta\":5,\"note\":\"delivery\"}" "$admin"
expect '.product.stock == 15' "stock adjusted to 15"
call 200 GET "/v1/products/{product_id}" "/v1/products/$product"
call 200 GET /v1/products "/v1/products?categoryId=$category&pageSize=10"
expect ".products | length == 1" "one product in the category"
call 200 GET /v1/products:search "/v1/products:search?query=coffee&categoryId=$category"
expect ".products[0].id == \"$product\"" "search finds the mug"
call 200 POST /v1/products /v1/products "$(product_body DEL 'Doomed item' 100 1)" "$admin"
doomed=$(jq -r .product.id <<< "$out")
call 200 DELETE "/v1/products/{product_id}" "/v1/products/$doomed" "" "$admin"
call 404 GET - "/v1/products/$doomed"
expect '.code == "NOT_FOUND"' "a deleted product is gone"

echo "== a customer"
email="gw-$run@example.com"
call 200 POST /v1/auth/register /v1/auth/register "{\"email\":\"$email\",\"password\":\"correct horse battery\",\"displayName\":\"Gateway Ada\"}"
user=$(jq -r .user.id <<< "$out")
call 200 POST /v1/auth/login /v1/auth/login "{\"email\":\"$email\",\"password\":\"correct horse battery\"}"
token=$(jq -r .tokens.accessToken <<< "$out")
refresh=$(jq -r .tokens.refreshToken <<< "$out")
call 200 GET /v1/auth/me /v1/auth/me "" "$token"
expect ".user.id == \"$user\"" "me is the customer"
call 200 POST /v1/auth/refresh /v1/auth/refresh "{\"refreshToken\":\"$refresh\"}"
token=$(jq -r .tokens.accessToken <<< "$out")
refresh=$(jq -r .tokens.refreshToken <<< "$out")
call 200 GET /v1/users "/v1/users?pageSize=5" "" "$admin"
call 200 POST "/v1/users/{user_id}/roles" "/v1/users/$user/roles" '{"role":"customer"}' "$admin"

echo "== the cart and the checkout saga"
call 200 POST /v1/cart/items /v1/cart/items "{\"productId\":\"$product\",\"quantity\":1}" "$token"
call 200 DELETE "/v1/cart/items/{product_id}" "/v1/cart/items/$product" "" "$token"
call 200 POST - /v1/cart/items "{\"productId\":\"$product\",\"quantity\":2}" "$token"
call 200 GET /v1/cart /v1/cart "" "$token"
expect '.cart.totalCents == "2598"' "the cart holds two mugs"
call 200 POST /v1/orders /v1/orders "{\"requestId\":\"$(cat /proc/sys/kernel/random/uuid)\"}" "$token"
order=$(jq -r .order.id <<< "$out")
expect '.order.status == "ORDER_STATUS_PENDING"' "the order starts PENDING"
for _ in $(seq 1 150); do
  call 200 GET "/v1/orders/{order_id}" "/v1/orders/$order" "" "$token" > /dev/null
  case "$(jq -r .order.status <<< "$out")" in ORDER_STATUS_CONFIRMED | ORDER_STATUS_CANCELLED) break ;; esac
  sleep 0.1
done
expect '.order.status == "ORDER_STATUS_CONFIRMED"' "the saga confirmed the order"
payment=$(jq -r .order.paymentId <<< "$out")
call 200 GET "/v1/users/{user_id}/orders" "/v1/users/$user/orders?pageSize=10" "" "$token"
expect ".orders[0].id == \"$order\"" "the customer's orders list it"
call 400 POST "/v1/orders/{order_id}:cancel" "/v1/orders/$order:cancel" '{"detail":"changed my mind"}' "$token"
expect '.code == "FAILED_PRECONDITION"' "a confirmed order cannot be cancelled"
call 200 GET "/v1/payments/{payment_id}" "/v1/payments/$payment" "" "$admin"
expect '.payment.amountCents == "2598"' "the payment charged the order's total"
call 200 POST "/v1/payments/{payment_id}:refund" "/v1/payments/$payment:refund" "{\"requestId\":\"$(cat /proc/sys/kernel/random/uuid)\",\"reason\":\"goodwill\"}" "$admin"
call 401 POST /v1/payments/webhook /v1/payments/webhook "{\"provider\":\"fake\",\"providerEventId\":\"ev-$run\",\"paymentId\":\"$payment\",\"outcome\":\"PROVIDER_OUTCOME_SUCCEEDED\",\"signature\":\"$(printf '0%.0s' $(seq 64))\",\"timestamp\":\"$(date +%s)\"}"
expect '.message | test("signature")' "a webhook with a bad signature is refused"

echo "== notifications"
call 200 GET "/v1/users/{user_id}/notification-preferences" "/v1/users/$user/notification-preferences" "" "$token"
call 200 PATCH "/v1/users/{user_id}/notification-preferences" "/v1/users/$user/notification-preferences" '{"emailEnabled":false}' "$token"
expect '.preferences.emailEnabled == false' "email turned off"
call 200 GET "/v1/users/{user_id}/notifications" "/v1/users/$user/notifications?pageSize=20" "" "$token"

echo "== bad requests"
call 400 POST - /v1/cart/items '{"productId": ' "$token"
expect '.code == "INVALID_ARGUMENT" and (.request_id | length) > 0' "malformed JSON"
call 400 POST - /v1/cart/items "{\"productId\":\"$product\",\"quantity\":\"many\"}" "$token"
expect '.details[0].field == "quantity"' "a wrong JSON type names the field"
call 400 POST - /v1/cart/items "{\"productId\":\"$product\",\"quantity\":1,\"colour\":\"red\"}" "$token"
expect '.details[0].field == "colour"' "an unknown field is named"
call 400 POST - /v1/auth/register '{"password":"long enough password"}'
expect '.details | map(.field) | index("email") != null' "a missing required field is named"
call 404 GET - /v1/nowhere
call 405 PUT - "/v1/products/$product" "{}" "$admin"
[ "$(header allow)" = "DELETE, GET, PATCH" ] || fail "405 lists the allowed methods: '$(header allow)'"
head -c 1100000 /dev/zero | tr '\0' a > "$tmp/big"
call 413 POST - /v1/cart/items "" "$token" --data-binary "@$tmp/big" -H 'Content-Type: application/json'
call 401 GET - /v1/cart
[ -n "$(header www-authenticate)" ] || fail "401 without WWW-Authenticate"
call 403 POST - /v1/categories '{"name":"x","slug":"x"}' "$token"
expect '.code == "PERMISSION_DENIED"' "a customer may not create categories"
limited=0
for i in $(seq 1 12); do
  call any POST - /v1/auth/login "{\"email\":\"nobody-$i-$run@example.com\",\"password\":\"wrong password\"}" "" -H "X-Forwarded-For: 192.0.2.$i" > /dev/null
  [ "$status" != 429 ] || limited=1
done
[ "$limited" = 0 ] || fail "logins from different forwarded addresses share no bucket"
# Auth's own limit: 5 failed logins from one client address (the gateway
# passes it on as X-Forwarded-For) refuse that address's next login, even a
# right one; another address logs in.
for i in $(seq 1 5); do
  call 401 POST - /v1/auth/login "{\"email\":\"guess-$i-$run@example.com\",\"password\":\"wrong password\"}" "" -H "X-Forwarded-For: 198.51.100.77" > /dev/null
done
call 429 POST - /v1/auth/login "{\"email\":\"$email\",\"password\":\"correct horse battery\"}" "" -H "X-Forwarded-For: 198.51.100.77"
expect '.code == "RESOURCE_EXHAUSTED" and (.message | test("too many failed logins"))' "auth refuses the address that failed 5 times"
call 200 POST - /v1/auth/login "{\"email\":\"$email\",\"password\":\"correct horse battery\"}" "" -H "X-Forwarded-For: 198.51.100.78"
# Login allows 5/s per address with a burst of 10: 30 at once from one
# address must see 429s.
for i in $(seq 1 30); do
  curl -sS -o /dev/null -D "$tmp/login-$i" -X POST -H 'Content-Type: application/json' --max-time 20 \
    --data-binary "{\"email\":\"someone-$i-$run@example.com\",\"password\":\"wrong password\"}" \
    "$GATEWAY_URL/v1/auth/login" &
done
wait
limited=$(grep -l '^HTTP/1.1 429' "$tmp"/login-* | head -n 1 || true)
[ -n "$limited" ] || fail "login is limited per address: no 429 among 30 at once"
cp "${limited:-/dev/null}" "$tmp/headers"
[ -n "$(header retry-after)" ] || fail "429 without Retry-After"
echo "ok   429 POST   /v1/auth/login (Retry-After: $(header retry-after))"

echo "== a slow client"
start=$(date +%s%N)
hostport=${GATEWAY_URL#http://}
slow=$(
  exec 3<> "/dev/tcp/${hostport%:*}/${hostport##*:}"
  printf 'GET /v1/categories HTTP/1.1\r\nHost: x\r\n' >&3
  timeout 20 head -n 1 <&3
)
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
grep -q ' 408' <<< "$slow" || fail "a request never finished gets 408: '$slow'"
echo "ok   408 after $elapsed_ms ms"

echo "== logout, then the token is refused"
call 200 POST /v1/auth/logout /v1/auth/logout "{\"refreshToken\":\"$refresh\"}" "$token"
for _ in $(seq 1 50); do
  call any GET - /v1/auth/me "" "$token" > /dev/null
  [ "$status" = 401 ] && break
  sleep 0.1
done
[ "$status" = 401 ] || fail "a logged-out token is refused at the edge: $status"

echo "== a backend stops: 503, fast once its circuit is open"
bash "$(dirname "$0")/../../scripts/shop.sh" kill "$SHOP_DIR" notifications > /dev/null
for i in $(seq 1 12); do
  start=$(date +%s%N)
  call any GET - "/v1/users/$user/notification-preferences" "" "$admin" > /dev/null
  elapsed_ms=$((($(date +%s%N) - start) / 1000000))
  [ "$status" = 503 ] || fail "call $i with notifications down: $status"
done
expect '.code == "UNAVAILABLE"' "the stopped backend is UNAVAILABLE"
[ "$elapsed_ms" -lt 200 ] || fail "with the circuit open the answer took $elapsed_ms ms"
echo "ok   503 in $elapsed_ms ms with notifications stopped"

echo "== every route was exercised"
routes=$(curl -sS "http://127.0.0.1:$GATEWAY_ADMIN_PORT/routes" | jq -r '.[]')
count=0
while IFS= read -r route; do
  count=$((count + 1))
  [ -n "${covered[$route]:-}" ] || fail "route not exercised: $route"
done <<< "$routes"
[ "$count" -ge 29 ] || fail "the gateway serves $count routes, want 29"
echo "$count routes exercised"

echo "== /openapi.json lists exactly the routes served"
call 200 GET - /openapi.json
documented=$(jq -r '.paths | to_entries[] | .key as $p | .value | keys[]
  | select(IN("get", "put", "post", "delete", "patch")) | "\(ascii_upcase) \($p)"' <<< "$out" | sort)
if [ "$documented" != "$(sort <<< "$routes")" ]; then
  fail "the OpenAPI document and the routes differ: $(diff <(echo "$documented") <(sort <<< "$routes") | head -n 10)"
fi

if [ "$failures" -gt 0 ]; then
  echo "gateway_routes: $failures failures" >&2
  exit 1
fi
echo "gateway_routes: all passed"
