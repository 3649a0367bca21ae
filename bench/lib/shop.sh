# Shared by the benchmarks that run on the commerce shop (gateway_bench.sh,
# shop_bench.sh); sourced, not run. Expects `build`, `root` and an
# `error_rows VERDICT MESSAGE` function from the script.

# Starts the shop of scripts/shop.sh in a fresh directory under $TMPDIR,
# stops and removes it on exit, and exports shop.env (GATEWAY_URL,
# <SVC>_ADDRESS, the CPPSVC_JWT_* settings, ...). Sets `work`. $1 names the
# benchmark in the directory and on stderr.
bench_start_shop() {
  work=$(mktemp -d "${TMPDIR:-/tmp}/cppsvc-$1.XXXXXX")
  chmod 755 "$work"
  # shellcheck disable=SC2317  # called by the EXIT trap
  bench_stop_shop() {
    SHOP_BUILD_DIR=$build bash "$root/scripts/shop.sh" stop "$work/shop" > /dev/null 2>&1
    rm -rf "$work"
  }
  trap bench_stop_shop EXIT
  echo "$1: starting the shop in $work/shop" >&2
  if ! SHOP_BUILD_DIR=$build bash "$root/scripts/shop.sh" start "$work/shop" > /dev/null 2> "$work/shop.err"; then
    error_rows ERROR "the shop did not start: $(tail -n 1 "$work/shop.err")"
    exit 1
  fi
  set -a
  # shellcheck disable=SC1091
  source "$work/shop/shop.env"
  set +a
}

# A token of the shop's issuer: bench_mint SUBJECT ROLE.
bench_mint() {
  env -i CPPSVC_JWT_ALGORITHM="$CPPSVC_JWT_ALGORITHM" CPPSVC_JWT_ISSUER="$CPPSVC_JWT_ISSUER" \
    CPPSVC_JWT_AUDIENCE="$CPPSVC_JWT_AUDIENCE" CPPSVC_JWT_KEY_FILE="$CPPSVC_JWT_KEY_FILE" \
    CPPSVC_JWT_PRIVATE_KEY_FILE="$CPPSVC_JWT_PRIVATE_KEY_FILE" \
    "$build/tools/cppsvc-token" --sub "$1" --role "$2" --ttl 7200
}

# Creates a category and one product through the gateway, as an admin:
# bench_create_product NAME PRICE_CENTS STOCK. Sets `product` (its id).
bench_create_product() {
  local admin category created
  admin=$(bench_mint bench-admin admin)
  bench_post() {  # bench_post PATH JSON: the response body
    curl -sS -X POST -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' \
      --data-binary "$2" "$GATEWAY_URL$1"
  }
  category=$(bench_post /v1/categories '{"name":"Bench","slug":"bench"}' | jq -r .category.id)
  created=$(bench_post /v1/products "{\"sku\":\"BENCH-1\",\"name\":\"$1\",\"description\":\"x\",\"categoryId\":\"$category\",\"priceCents\":\"$2\",\"stock\":$3}")
  product=$(jq -r .product.id <<< "$created")
  if [[ -z $product || $product == null ]]; then
    error_rows ERROR "could not create the product through the gateway: $(head -c 200 <<< "$created")"
    exit 1
  fi
}
