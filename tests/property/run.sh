#!/usr/bin/env bash
# Compile-everything property test: random valid contracts (random_contract,
# one per seed) must generate without an error, every generated C++ file
# must compile (g++ -fsyntax-only, warnings as errors, against a
# precompiled header of the runtime, gRPC and GoogleTest) and every file's
# migrations must apply to a fresh database of the PostgreSQL fixture.
#
#   run.sh <random_contract> <protoc> <plugin> <grpc plugin> <specs dir>
#          <protobuf include dir> <pg dir> <pg.sh> <embed script> <work dir> <flags...>
#
# Seeds: CPPSVC_PROPERTY_SEED (default: from the clock, printed) is the
# first; CPPSVC_PROPERTY_CASES (default 2) cases run, seeds first..first+n-1.
# A failing case prints its seed and the command that reruns it alone; its
# files are kept under <work dir>/seed-<seed>.
set -euo pipefail
gen=$1 protoc=$2 plugin=$3 grpc_plugin=$4 specs=$5 wkt=$6 pg_dir=$7 pg_sh=$8 embed=$9 work=${10}
shift 10
flags=("$@")
first=${CPPSVC_PROPERTY_SEED:-$(date +%s%N | cut -c 6-15)}
cases=${CPPSVC_PROPERTY_CASES:-2}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$work"
echo "property: seeds $first..$((first + cases - 1)) (rerun: CPPSVC_PROPERTY_SEED=$first CPPSVC_PROPERTY_CASES=$cases)"

# The headers every generated file includes, parsed once per run (so the
# runtime's headers are never older than the build's).
pch="$work/pch/cppsvc_property_pch.h"
mkdir -p "$work/pch"
cp "$here/pch.h" "$pch"
g++ "${flags[@]}" -x c++-header "$pch" -o "$pch.gch"

fail() {  # fail <seed> <what>
  echo "FAIL: seed $1: $2"
  echo "rerun this case alone: CPPSVC_PROPERTY_SEED=$1 CPPSVC_PROPERTY_CASES=1 ctest --test-dir <build-dir> -R property.compile_everything --output-on-failure"
  echo "its contract and output: $work/seed-$1"
  exit 1
}

generate() {  # generate <seed> <dir>: the contract's protos and everything generated
  local dir=$2
  rm -rf "$dir" && mkdir -p "$dir/in" "$dir/out"
  "$gen" "$dir/in" "$1" > "$dir/protos"
  mapfile -t protos < "$dir/protos"
  "$protoc" -I "$dir/in" -I "$specs" -I "$wkt" \
    --plugin=protoc-gen-cpp-svc="$plugin" --plugin=protoc-gen-grpc="$grpc_plugin" \
    --cpp_out="$dir/out" --grpc_out="$dir/out" --cpp-svc_out="$dir/out" \
    --cpp-svc_opt=schema_lock=update "${protos[@]}" > "$dir/protoc.log" 2>&1 ||
    { cat "$dir/protoc.log"; return 1; }
  find "$dir/out" -type d -name migrations -exec cmake -P "$embed" {} +
}

compile() {  # compile <dir>: every generated .cc of cpp-svc, two at a time
  (cd "$1/out" && find . -name '*.cppsvc*.cc' | LC_ALL=C sort) |
    xargs -P 2 -I{} sh -c 'g++ "$@" -Winvalid-pch -include "'"$pch"'" -I "'"$1/out"'" -fsyntax-only "'"$1/out"'/{}" 2>&1 ||
      { echo "in {}"; exit 255; }' sh "${flags[@]}"
}

migrate() {  # migrate <seed> <dir>: each file's migrations on a database of its own
  local d n=0 url f db
  for d in $(cd "$2/out" && find . -type d -name migrations | LC_ALL=C sort); do
    n=$((n + 1))
    db="property_$1_${n}_$$"
    url=$(bash "$pg_sh" createdb "$pg_dir" "$db")
    for f in $(ls "$2/out/$d"/*.sql | LC_ALL=C sort); do
      psql "$url" -v ON_ERROR_STOP=1 -X -q --single-transaction -f "$f" > /dev/null 2>&1 ||
        { psql "$url" -v ON_ERROR_STOP=1 -X -q --single-transaction -f "$f" 2>&1 | head -5; echo "in $f"; return 1; }
    done
    psql "${url%/*}/postgres" -X -q -c "DROP DATABASE \"$db\"" > /dev/null
  done
  echo "$n"
}

for ((i = 0; i < cases; i++)); do
  seed=$((first + i))
  dir="$work/seed-$seed"
  start=$(date +%s.%N)
  generate "$seed" "$dir" || fail "$seed" "the plugin refused a valid contract (or crashed)"
  compile "$dir" || fail "$seed" "generated code does not compile"
  dbs=$(migrate "$seed" "$dir") || fail "$seed" "a migration does not apply"
  files=$(find "$dir/out" -name '*.cppsvc*.cc' | wc -l)
  printf 'ok: seed %s: %s protos, %s C++ files compiled, %s databases migrated (%.1f s)\n' \
    "$seed" "$(wc -l < "$dir/protos")" "$files" "$dbs" "$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')"
  rm -rf "$dir"
done
echo "property: $cases random contracts generated, compiled and migrated"
