#!/usr/bin/env bash
# Sets everything up and runs the main job: installs the Debian packages,
# builds the plugin, generates the commerce services from specs/ and shows
# what was generated.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake --preset dev > /dev/null
cmake --build --preset dev --target protoc-gen-cpp-svc
plugin=build/generator/protoc-gen-cpp-svc
out=$(mktemp -d)
mapfile -t protos < <(cd specs && find commerce -name '*.proto' | LC_ALL=C sort)

# The schema locks next to the protos hold the migrations generated so far:
# without them every file would start over at 0001_init.
echo "== protoc -I specs --cpp-svc_out=$out --cpp-svc_opt=schema_lock_dir=specs ${protos[*]}"
protoc -I specs --plugin=protoc-gen-cpp-svc="$plugin" --cpp-svc_out="$out" \
  --cpp-svc_opt=schema_lock_dir=specs "${protos[@]}"
echo
echo "== generated files"
(cd "$out" && find . -type f | LC_ALL=C sort | sed 's|^\./|  |')
echo
echo "== commerce/orders/v1/orders.cppsvc.h (handler base to subclass in services/)"
cat "$out/commerce/orders/v1/orders.cppsvc.h"
echo
echo "== checkout saga (commerce/orders/v1/orders.cppsvc.md)"
sed -n '/^## Sagas/,$p' "$out/commerce/orders/v1/orders.cppsvc.md"
echo
# generated/ holds the C++, the docs and the migrations; the locks it was
# generated with are the ones in specs/, which the plugin checked.
if diff -r -q -x '*.schema.lock.json' generated "$out" > /dev/null; then
  echo "generated/ is up to date with specs/ (output in $out)"
else
  echo "generated/ differs from what specs/ produce now: cmake --build build --target update-generated"
fi
