#!/usr/bin/env bash
# The checkout path scaled out on one machine (issue #23): with_shop.sh runs
# the shop with SHOP_REPLICAS=2, so products, payments, orders and
# notifications each run as two processes on their one database, behind the
# generated clients' round robin (this test's orders and products clients,
# orders' products client, the gateway). saga_faults places 200 checkouts
# through both orders processes, without kills (e2e.saga_faults has those),
# and checks that no event was lost or handled twice: every saga ended, one
# charge per confirmed order, stock, exactly one notification per order.
# Then each process's /metrics must show it did part of the work: both
# orders processes answered Checkout, and both processes of every service
# handled events (durable consumers shared by the replicas).
#   scale_out.sh --env <shop.env> <saga_faults binary>
set -euo pipefail
[ "${1:-}" = --env ] && [ -s "${2:-}" ] && [ -x "${3:-}" ] ||
  { echo "usage: $0 --env <shop.env> <saga_faults>" >&2; exit 2; }
env_file=$2
faults=$3
shop="$(dirname "$0")/../../scripts/shop.sh"
shop_dir=$(sed -n 's/^SHOP_DIR=//p' "$env_file")

for svc in orders products payments notifications; do
  [ -s "$shop_dir/run/$svc-2.env" ] || { echo "FAIL no second $svc process (SHOP_REPLICAS=2?)" >&2; exit 1; }
done
"$faults" --env "$env_file" --shop "$shop" --orders 200 --kills 0 --max-timeouts 0

# metric <process> <name> [label filter]: the sum of its series on /metrics.
metric() {
  local port
  port=$(sed -n 's/^[A-Z]*_ADMIN_PORT=//p' "$shop_dir/run/$1.env")
  curl -s "http://127.0.0.1:$port/metrics" |
    awk -v m="$2" -v f="${3:-}" 'index($0, m) == 1 && index($0, f) { s += $NF } END { printf "%d", s }'
}
failures=0
for svc in orders products payments notifications; do
  for p in "$svc" "$svc-2"; do
    handled=$(metric "$p" cppsvc_consumer_handled_total)
    echo "scale_out: $p handled $handled events"
    [ "$handled" -gt 0 ] || { echo "FAIL $p handled no event" >&2; failures=$((failures + 1)); }
  done
done
for p in orders orders-2; do
  calls=$(metric "$p" cppsvc_request_duration_seconds_count 'Checkout')
  echo "scale_out: $p answered $calls Checkout calls"
  [ "$calls" -gt 0 ] || { echo "FAIL $p answered no Checkout" >&2; failures=$((failures + 1)); }
done
[ "$failures" -eq 0 ] || exit 1
echo "scale_out: ok"
