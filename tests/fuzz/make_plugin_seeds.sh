#!/usr/bin/env bash
# Writes the seed corpus of fuzz.plugin_requests: the CodeGeneratorRequests
# protoc sends for the commerce contract, saved by a plugin that only copies
# its input: one request per commerce file, read against the checked-in
# schema locks; two with schema_lock=update; one for all files at once,
# without locks; one with every other option.
#   make_plugin_seeds.sh <protoc> <specs dir> <protobuf include dir> <out dir>
set -euo pipefail
protoc=$1 specs=$2 wkt=$3 out=$4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Answers with an empty response claiming proto3 optional support (field 2 = 1).
cat > "$tmp/dump.sh" <<'DUMP'
#!/bin/sh
cat > "$CPPSVC_SEED"
printf '\020\001'
DUMP
chmod +x "$tmp/dump.sh"
mkdir -p "$out" "$tmp/out"
dump() {  # dump <seed name> <parameter> <protos...>
  local name=$1 param=$2
  shift 2
  CPPSVC_SEED="$out/$name" "$protoc" -I "$specs" -I "$wkt" --plugin=protoc-gen-dump="$tmp/dump.sh" \
    --dump_out="$tmp/out" ${param:+--dump_opt="$param"} "$@"
}
mapfile -t protos < <(cd "$specs" && find commerce -name '*.proto' | LC_ALL=C sort)
for p in "${protos[@]}"; do
  dump "$(basename "$p" .proto)-check" "schema_lock_dir=specs" "$p"
done
dump "orders-update" "schema_lock=update" commerce/orders/v1/orders.proto
dump "products-update" "schema_lock=update,werror=true" commerce/products/v1/products.proto
dump "all-no-lock" "" "${protos[@]}"
dump "orders-emit" "emit=handler_base+doc+migrations,schema_lock=update,schema_lock_store_command=cmake --build b --target t_schema_locks" \
  commerce/orders/v1/orders.proto
ls -l "$out"
