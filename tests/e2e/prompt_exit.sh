#!/usr/bin/env bash
# Every service of the shop, idle, stops within a second of SIGTERM (with
# PREFIX_SHUTDOWN_DELAY_MS at its default 0) and logs "stopped" with
# drained true: nothing on the way out (event fetches, pollers, library
# shutdowns) holds the exit. Run through with_shop.sh:
#   prompt_exit.sh --env <shop.env>
set -euo pipefail
[ "$1" = --env ] || { echo "usage: prompt_exit.sh --env <shop.env>" >&2; exit 2; }
# shellcheck disable=SC1090
source "$2"
shop="$(dirname "$0")/../../scripts/shop.sh"
limit_ms=1000
failed=0
for svc in auth products payments orders notifications gateway; do
  started=$(date +%s%N)
  bash "$shop" kill "$SHOP_DIR" "$svc" TERM > /dev/null
  took=$((($(date +%s%N) - started) / 1000000))
  line=$(grep '"msg":"stopped"' "$SHOP_DIR/logs/$svc.log" | tail -n 1 || true)
  if [ "$took" -ge "$limit_ms" ]; then
    echo "FAIL $svc: exited $took ms after SIGTERM (limit $limit_ms ms)"
    failed=1
  elif [ "$svc" != gateway ] && [[ "$line" != *'"drained":true'* ]]; then
    echo "FAIL $svc: no \"stopped\" line with drained true in its log"
    failed=1
  else
    echo "ok   $svc: exited $took ms after SIGTERM"
  fi
done
exit "$failed"
