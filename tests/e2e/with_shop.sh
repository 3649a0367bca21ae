#!/usr/bin/env bash
# Runs one end-to-end program against a shop: starts the shop with
# scripts/shop.sh in <work-dir>/shop, runs `<program> --env <shop.env>
# [args...]` and stops everything, also when the program fails. On failure
# the tail of every service's log is printed (the logs stay in
# <work-dir>/shop/logs).
#
#   with_shop.sh <repo> <build-dir> <work-dir> <program> [args...]
set -euo pipefail
repo=$1
build=$2
work=$3
program=$4
shift 4

export SHOP_BUILD_DIR=$build
bash "$repo/scripts/shop.sh" stop "$work/shop" > /dev/null 2>&1 || true
rm -rf "$work"
mkdir -p "$work"
cleanup() {
  bash "$repo/scripts/shop.sh" stop "$work/shop" > /dev/null 2>&1 || true
}
trap cleanup EXIT

started=$SECONDS
bash "$repo/scripts/shop.sh" start "$work/shop" > /dev/null
echo "e2e: shop ready in $((SECONDS - started)) s ($work/shop)"
if ! "$program" --env "$work/shop/shop.env" "$@"; then
  echo "e2e: $(basename "$program") failed; service logs in $work/shop/logs" >&2
  for log in "$work"/shop/logs/*.log; do
    echo "--- last lines of $log" >&2
    tail -n 15 "$log" >&2
  done
  exit 1
fi
