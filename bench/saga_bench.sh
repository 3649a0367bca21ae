#!/usr/bin/env bash
# Saga benchmark: a two-step saga between two services against the same
# events flowing through plain consumers with the same handlers, same run.
#   saga   bench/saga/proto/sagabench: saga_origin's Start records a flow and
#          emits FlowStarted, which starts saga `flow`; saga_worker runs step
#          one on it and step two on step one's success event; the owner
#          moves the instance on each and, at the end, records the flow as
#          completed and emits FlowCompleted.
#   plain  bench/saga/proto/plainbench: the same services, events and
#          business SQL (bench/saga/work.cc), chained by plain subscriptions:
#          the worker's consumers of FlowStarted and StepOneDone, the
#          origin's consumer of StepTwoDone, which emits FlowCompleted.
# Both run as real service binaries (generated main()) on a private
# PostgreSQL 15 and nats-server, one variant at a time, on fresh databases
# each round, variants alternating first. bench/saga/saga_load drives them:
#   throughput   SAGA_BENCH_FLOWS flows started by 16 callers, 20 per Start
#                call, as fast as they go: completed flows/s from the first
#                call to the last FlowCompleted seen on NATS. Target: saga
#                >= 0.70x plain (medians of SAGA_BENCH_ROUNDS rounds).
#   latency      open loop at 200 flows/s for SAGA_BENCH_SECONDS, one flow
#                per call: from sending Start to FlowCompleted on NATS.
#                Target: saga p99 < 50 ms (median of the rounds' p99s); the
#                plain p99 is the baseline column.
#
#   bash bench/saga_bench.sh <build-dir>
#
# Prints ROW/NOTE lines for bench/run.sh (see bench/README.md), progress on
# stderr. Environment: SAGA_BENCH_ROUNDS (default 3), SAGA_BENCH_FLOWS
# (default 6000), SAGA_BENCH_RATE (default 200), SAGA_BENCH_SECONDS (default
# 20), BENCH_NO_BUILD=1, BENCH_KEEP=1 (keep the directory and its logs).
# BENCH_SMOKE=1: one round, 400 flows, 2 s. About 3 minutes with the defaults.
set -uo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: $0 <build-dir>" >&2
  exit 2
fi
build=$(cd "$1" && pwd) || exit 2
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
smoke=${BENCH_SMOKE:-0}
rounds=${SAGA_BENCH_ROUNDS:-$([[ $smoke == 1 ]] && echo 1 || echo 3)}
flows=${SAGA_BENCH_FLOWS:-$([[ $smoke == 1 ]] && echo 400 || echo 6000)}
rate=${SAGA_BENCH_RATE:-200}
seconds=${SAGA_BENCH_SECONDS:-$([[ $smoke == 1 ]] && echo 2 || echo 20)}
for v in rounds flows rate seconds; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "saga_bench: $v must be a positive number" >&2; exit 2; }
done
tput_name="sagas: two-step saga vs plain consumers, completed flows/s"
p99_name="sagas: start to completion, p99 at $rate flows/s"

error_rows() {  # error_rows VERDICT MESSAGE
  printf 'ROW\t%s\t—\t—\t—\t≥ 0.70x\t%s\n' "$tput_name" "$1"
  printf 'ROW\t%s\t—\t—\t—\t< 50 ms\t%s\n' "$p99_name" "$1"
  printf 'NOTE\tsagas: %s\n' "$2"
}

services=(sagabench_origin sagabench_worker plainbench_origin plainbench_worker)
if [[ ${BENCH_NO_BUILD:-0} != 1 ]] && ! cmake --build "$build" --target saga_load cppsvc-token >&2; then
  error_rows ERROR "building saga_load and its services failed (see the log above)"
  exit 1
fi
load=$build/bench/saga/saga_load
for bin in "$load" "${services[@]/#/$build/bench/saga/}" "$build/tools/cppsvc-token"; do
  [[ -x $bin ]] || { error_rows ERROR "$bin is missing (cmake --build $build --target saga_load)"; exit 1; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/cppsvc-saga-bench.XXXXXX")
chmod 755 "$work"  # as root, the server runs as `postgres`, which must reach $work/pg
pids=()
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
  ((${#pids[@]} == 0)) || kill -KILL "${pids[@]}" 2> /dev/null
  if [[ ${BENCH_KEEP:-0} == 1 ]]; then
    echo "saga_bench: kept $work (servers still running)" >&2
    return
  fi
  bash "$root/scripts/pg.sh" stop "$work/pg" > /dev/null 2>&1
  bash "$root/scripts/nats.sh" stop "$work/nats" > /dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT

if ! pg_url=$(bash "$root/scripts/pg.sh" start "$work/pg" 2> "$work/pg.err"); then
  error_rows SKIP "PostgreSQL did not start: $(tail -n 1 "$work/pg.err")"
  exit 3
fi
if ! nats_url=$(bash "$root/scripts/nats.sh" start "$work/nats" 2> "$work/nats.err"); then
  error_rows SKIP "nats-server did not start: $(tail -n 1 "$work/nats.err")"
  exit 3
fi
jwt=(CPPSVC_JWT_ALGORITHM=HS256 CPPSVC_JWT_KEY=saga-bench-key-of-at-least-32-bytes
  CPPSVC_JWT_ISSUER=saga-bench CPPSVC_JWT_AUDIENCE=saga-bench)
env -i "${jwt[@]}" "$build/tools/cppsvc-token" --sub bench --role user --ttl 7200 > "$work/token"

port_free() { ! (exec 3<> "/dev/tcp/127.0.0.1/$1") 2> /dev/null; }
pick_port() {  # sets `port`
  for _ in $(seq 1 200); do
    port=$((20000 + RANDOM % 20000))
    port_free "$port" && return 0
  done
  echo "saga_bench: found no free port" >&2
  exit 1
}
ready() { [[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1/readyz") == 200 ]]; }

# start_service BINARY NAME DATABASE: runs the service in the background on
# fresh ports and waits for /readyz; sets `grpc_port`.
start_service() {
  local prefix admin
  prefix=$(tr '[:lower:]' '[:upper:]' <<< "$2")
  pick_port
  grpc_port=$port
  pick_port
  admin=$port
  env -i PATH=/usr/bin:/bin "${jwt[@]}" NATS_URL="$nats_url" CPPSVC_LOG_REQUESTS=false \
    "${prefix}_DATABASE_URL=${pg_url%/postgres}/$3" "${prefix}_GRPC_PORT=$grpc_port" \
    "${prefix}_ADMIN_PORT=$admin" "${prefix}_LISTEN_ADDRESS=127.0.0.1" \
    "$build/bench/saga/$1" >> "$work/$2.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 300); do
    ready "$admin" && return 0
    kill -0 "${pids[-1]}" 2> /dev/null || break
    sleep 0.1
  done
  error_rows ERROR "$2 did not become ready: $(tail -n 2 "$work/$2.log" | tr '\n' ' ')"
  exit 1
}

stop_services() {
  ((${#pids[@]} == 0)) && return
  kill -TERM "${pids[@]}" 2> /dev/null
  wait "${pids[@]}" 2> /dev/null
  pids=()
}

# run_variant VARIANT ROUND: starts its two services on fresh databases,
# runs both loads, stops them; appends `VARIANT flows_per_s p50 p99 missing
# errors` to $work/results.
run_variant() {
  local v=$1 r=$2 pkg worker_db origin_db origin_port tput lat
  pkg=$([[ $v == saga ]] && echo sagabench || echo plainbench)
  origin_db=${v}_origin_r$r worker_db=${v}_worker_r$r
  bash "$root/scripts/pg.sh" createdb "$work/pg" "$origin_db" > /dev/null &&
    bash "$root/scripts/pg.sh" createdb "$work/pg" "$worker_db" > /dev/null ||
    { error_rows ERROR "could not create the databases"; exit 1; }
  start_service "${pkg}_worker" "${v}_worker" "$worker_db"
  start_service "${pkg}_origin" "${v}_origin" "$origin_db"
  origin_port=$grpc_port
  common=(--variant "$v" --address "127.0.0.1:$origin_port" --nats "$nats_url" --token-file "$work/token")
  # A short warm-up: connections, prepared statements, consumers.
  "$load" "${common[@]}" --mode throughput --flows 100 --batch 10 --drain 10 > /dev/null
  # Latency first: the throughput burst leaves the databases vacuuming and
  # the relays deleting sent rows for a while, which the open loop would
  # then measure too.
  lat=$("$load" "${common[@]}" --mode latency --rate "$rate" --seconds "$seconds" --threads 16 --drain 30)
  tput=$("$load" "${common[@]}" --mode throughput --flows "$flows" --batch 20 --threads 16 --drain 60)
  stop_services
  echo "saga_bench: round $r $v: $tput; $lat" >&2
  awk -v v="$v" -v t="$tput" -v l="$lat" 'BEGIN {
    n = split(t " " l, kv, " ")
    for (i = 1; i <= n; i++) { split(kv[i], p, "="); f[p[1]] += p[2] }
    print v, f["flows_per_s"], f["p50_ms"], f["p99_ms"], f["missing"], f["errors"]
  }' >> "$work/results"
}

for ((r = 1; r <= rounds; r++)); do
  if ((r % 2)); then order=(saga plain); else order=(plain saga); fi
  for v in "${order[@]}"; do run_variant "$v" "$r"; done
done

median() {  # median VARIANT COLUMN
  awk -v v="$1" -v c="$2" '$1 == v { print $c }' "$work/results" | sort -g |
    awk '{ x[NR] = $1 } END { print x[int((NR + 1) / 2)] }'
}
total() { awk -v v="$1" -v c="$2" '$1 == v { s += $c } END { print s + 0 }' "$work/results"; }
saga_t=$(median saga 2) plain_t=$(median plain 2)
saga_p99=$(median saga 4) plain_p99=$(median plain 4)
lost=$(($(total saga 5) + $(total plain 5) + $(total saga 6) + $(total plain 6)))
ratio=$(awk -v a="$saga_t" -v b="$plain_t" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "0" }')
verdict() { [[ $lost == 0 ]] && awk -v ok="$1" 'BEGIN { print ok ? "ok" : "MISS" }' || echo MISS; }
printf 'ROW\t%s\t%.0f/s\t%.0f/s\t%sx\t≥ 0.70x\t%s\n' "$tput_name" "$saga_t" "$plain_t" "$ratio" \
  "$(verdict "$(awk -v r="$ratio" 'BEGIN { print (r >= 0.70) }')")"
printf 'ROW\t%s\t%s ms\t%s ms\t%sx\t< 50 ms\t%s\n' "$p99_name" "$saga_p99" "$plain_p99" \
  "$(awk -v a="$saga_p99" -v b="$plain_p99" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "—" }')" \
  "$(verdict "$(awk -v p="$saga_p99" 'BEGIN { print (p < 50) }')")"
printf 'ROW\tsagas: start to completion, p50 at %s flows/s\t%s ms\t%s ms\t—\t—\tinfo\n' "$rate" \
  "$(median saga 3)" "$(median plain 3)"
printf 'NOTE\tsagas: %s rounds of %s flows (throughput) and %s s at %s flows/s (latency) per variant; per round (variant flows/s p50 p99 missing errors): %s\n' \
  "$rounds" "$flows" "$seconds" "$rate" "$(paste -sd ';' "$work/results" | sed 's/;/; /g')"
((lost == 0)) || printf 'NOTE\tsagas: %s flows were not completed or failed to start: the rows are MISS\n' "$lost"
