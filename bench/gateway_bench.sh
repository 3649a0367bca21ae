#!/usr/bin/env bash
# Gateway benchmark: the HTTP/JSON gateway against the generated gRPC client
# calling the same RPC directly, on the same backend in the same run. The
# shop runs as scripts/shop.sh starts it (every service, PostgreSQL, NATS,
# the gateway); one product is created; then, per repetition, in alternating
# order:
#   wrk -t2 -c<N> --latency  GET /v1/products/{id} through the gateway
#   gateway_grpc_load        products.GetProduct with N threads, one call each
# Each gives requests/s and p99; the rows are the medians over the
# repetitions of each side, the ratio is the median of the repetitions' own
# ratios:
#   requests/s, N connections   target gateway >= 0.70x the direct calls
#   p99, N connections          target gateway <= 2.00x the direct calls
#
#   bash bench/gateway_bench.sh <build-dir>
#
# Prints ROW/NOTE lines for bench/run.sh (see bench/README.md), progress on
# stderr. Environment: GATEWAY_BENCH_REPS (default 5), GATEWAY_BENCH_SECONDS
# (default 3, per side and repetition), GATEWAY_BENCH_CONNECTIONS (default
# 32), BENCH_NO_BUILD=1.
set -uo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: $0 <build-dir>" >&2
  exit 2
fi
build=$(cd "$1" && pwd) || exit 2
root=$(cd "$(dirname "$0")/.." && pwd)
reps=${GATEWAY_BENCH_REPS:-5}
seconds=${GATEWAY_BENCH_SECONDS:-3}
conns=${GATEWAY_BENCH_CONNECTIONS:-32}
rps_name="gateway: GET requests/s, $conns connections"
p99_name="gateway: GET p99, $conns connections"

error_rows() {  # error_rows VERDICT MESSAGE
  printf 'ROW\t%s\t—\t—\t—\t≥ 0.70x\t%s\n' "$rps_name" "$1"
  printf 'ROW\t%s\t—\t—\t—\t≤ 2.00x\t%s\n' "$p99_name" "$1"
  printf 'NOTE\tgateway: %s\n' "$2"
}

if ! command -v wrk > /dev/null; then
  error_rows SKIP "wrk is not installed (scripts/install-deps.sh)"
  exit 3
fi
targets=(gateway_grpc_load gateway_json_bench gateway_service cppsvc-token auth_service products_service orders_service
  payments_service notifications_service)
if [[ ${BENCH_NO_BUILD:-0} != 1 ]] && ! cmake --build "$build" --target "${targets[@]}" >&2; then
  error_rows ERROR "building ${targets[*]} failed (see the log above)"
  exit 1
fi
load=$build/bench/gateway/gateway_grpc_load
[[ -x $load ]] || { error_rows ERROR "$load is missing"; exit 1; }

# The gateway's JSON steps alone (info rows, before the shop starts): its
# response writer and path binding against protobuf's JSON utilities.
json_rows() {
  local out min_time=0.2 reps=$reps
  [[ ${BENCH_SMOKE:-0} == 1 ]] && min_time=0.01 reps=1
  out=$("$build/bench/gateway/gateway_json_bench" --benchmark_format=json \
    --benchmark_min_time="$min_time" --benchmark_repetitions="$reps" \
    --benchmark_report_aggregates_only=true 2> /dev/null) || {
    printf 'NOTE\tgateway: gateway_json_bench failed\n'
    return
  }
  local step ours base
  for step in Response PathVariable; do
    ours=$(jq -r --arg n "$step/gateway" '[.benchmarks[] | select(.run_name == $n and (.aggregate_name // "median") == "median")][0].cpu_time | floor' <<< "$out")
    base=$(jq -r --arg n "$step/protobuf" '[.benchmarks[] | select(.run_name == $n and (.aggregate_name // "median") == "median")][0].cpu_time | floor' <<< "$out")
    printf 'ROW\tgateway: %s JSON step, ns per call (GetProduct; baseline: protobuf JSON utilities)\t%s ns\t%s ns\t%sx\t—\tinfo\n' \
      "$step" "$ours" "$base" "$(awk -v a="$ours" -v b="$base" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')"
  done
}
json_rows

# shellcheck source=bench/lib/shop.sh
source "$root/bench/lib/shop.sh"
bench_start_shop gateway_bench
bench_create_product "Bench mug" 100 1
url="$GATEWAY_URL/v1/products/$product"

to_ms() {  # to_ms 3.21ms|850.00us|1.02s
  awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n = n; else if (v ~ /s$/) n *= 1000; printf "%.3f", n }'
}
run_wrk() {  # run_wrk SECONDS: "rps p99_ms non2xx"
  local out rps p99 bad
  out=$(wrk -t2 -c"$conns" -d"${1}s" --latency "$url" 2>&1)
  rps=$(awk '/^Requests\/sec:/ { print $2 }' <<< "$out")
  p99=$(awk '$1 == "99%" { print $2 }' <<< "$out")
  bad=$(awk '/Non-2xx or 3xx responses:/ { print $5 }' <<< "$out")
  echo "${rps:-0} $(to_ms "${p99:-0}") ${bad:-0}"
}
run_grpc() {  # run_grpc SECONDS: "rps p99_ms errors"
  local out
  out=$("$load" --address "$PRODUCTS_ADDRESS" --product "$product" --threads "$conns" --seconds "$1")
  sed -E 's/rps=([0-9.]+) p50_ms=[0-9.]+ p99_ms=([0-9.]+) errors=([0-9]+)/\1 \2 \3/' <<< "$out"
}

echo "gateway_bench: warming up" >&2
run_wrk 1 > /dev/null
run_grpc 1 > /dev/null
gw_rps=() gw_p99=() rpc_rps=() rpc_p99=() rps_ratios=() p99_ratios=()
bad_total=0
for ((r = 1; r <= reps; r++)); do
  if ((r % 2)); then
    read -r g_rps g_p99 g_bad <<< "$(run_wrk "$seconds")"
    read -r d_rps d_p99 d_bad <<< "$(run_grpc "$seconds")"
  else
    read -r d_rps d_p99 d_bad <<< "$(run_grpc "$seconds")"
    read -r g_rps g_p99 g_bad <<< "$(run_wrk "$seconds")"
  fi
  bad_total=$((bad_total + g_bad + d_bad))
  gw_rps+=("$g_rps") gw_p99+=("$g_p99") rpc_rps+=("$d_rps") rpc_p99+=("$d_p99")
  rps_ratios+=("$(awk -v a="$g_rps" -v b="$d_rps" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')")
  p99_ratios+=("$(awk -v a="$g_p99" -v b="$d_p99" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')")
  echo "gateway_bench: rep $r: gateway $g_rps/s p99 $g_p99 ms; direct $d_rps/s p99 $d_p99 ms" >&2
done

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
rps_ratio=$(median "${rps_ratios[@]}")
p99_ratio=$(median "${p99_ratios[@]}")
rps_verdict=$(awk -v r="$rps_ratio" -v bad="$bad_total" 'BEGIN { v = (r >= 0.70 && bad == 0) ? "ok" : "MISS"; print v }')
p99_verdict=$(awk -v r="$p99_ratio" 'BEGIN { v = (r <= 2.00) ? "ok" : "MISS"; print v }')
printf 'ROW\t%s\t%s/s\t%s/s\t%sx\t≥ 0.70x\t%s\n' "$rps_name" "$(median "${gw_rps[@]}")" \
  "$(median "${rpc_rps[@]}")" "$rps_ratio" "$rps_verdict"
printf 'ROW\t%s\t%s ms\t%s ms\t%sx\t≤ 2.00x\t%s\n' "$p99_name" "$(median "${gw_p99[@]}")" \
  "$(median "${rpc_p99[@]}")" "$p99_ratio" "$p99_verdict"
printf 'NOTE\tgateway: wrk -t2 -c%s through the gateway vs the generated client with %s threads, %s s each per repetition, %s repetitions; ratios per repetition: requests/s %s, p99 %s; failed requests: %s\n' \
  "$conns" "$conns" "$seconds" "$reps" "${rps_ratios[*]}" "${p99_ratios[*]}" "$bad_total"
