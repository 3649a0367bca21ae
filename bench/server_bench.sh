#!/usr/bin/env bash
# Server benchmark: the generated gRPC server (bench/server/proto, with JWT
# authentication, RBAC, validation, metrics and request logging on) against a
# hand-written minimal grpc++ callback server for the same contract and the
# same handler logic, both driven by the same load client in one process
# (bench/server/server_bench.cc).
#
#   bash bench/server_bench.sh <build-dir>
#
# Prints rows for bench/run.sh on stdout (see bench/README.md):
#   ROW<TAB>name<TAB>ours<TAB>baseline<TAB>ratio<TAB>target<TAB>verdict
#   NOTE<TAB>text
# and progress on stderr. Builds the `server_bench` target first unless
# BENCH_NO_BUILD=1.
#
# The binary runs SERVER_BENCH_REPS times (default 5) with ours as its
# contract configures it (bench.proto sets inline_handlers: a handler runs on
# gRPC's thread when a bulkhead slot is free), then once with every call
# handed to a bulkhead worker (--handlers workers), as services whose
# handlers may block run. Every run has its own baseline. Each row is the
# run whose ratio is the median of its mode's runs (see median_run), failed
# calls are summed over the runs, and a note lists each run's own ratios:
# one run's p99 moves with the few stalls of the shared machine that fall in
# its slices, far more than its p50 or p95 do. Rows, per mode:
#   QPS, 32 in flight          closed loop; target ours >= 0.90x the baseline
#   p99 at 50% of capacity     open loop at half the baseline's capacity for
#                              calls sent one by one (see server_bench.cc),
#                              latency from each call's scheduled send time,
#                              failed calls counted as the slowest;
#                              target ours <= 1.20x the baseline
#   p50 (same run), CPU/call   info
# The targets apply to the contract's configuration; the rows with handlers
# on workers are info: what the hand-off to a worker costs.
# A failed call of ours in the closed loop makes the QPS row MISS.
# With nats-server installed (scripts/nats.sh), the second run also compares
# NATS request-reply latency, one call at a time, p50 and p99: the generated
# server's NATS transport against a bare nats.c responder (info rows).
#
# Each phase gives each server SERVER_BENCH_SECONDS per round, in 0.2 s
# slices that alternate between the servers (order rotated per slice), so
# that both meet the same moods of the shared machine; a phase's figures pool
# all its slices (QPS over all timed time, p99 over every call sent).
#
# Environment: SERVER_BENCH_REPS (default 5), SERVER_BENCH_ROUNDS (default
# 10), SERVER_BENCH_SECONDS (default 1, per phase and round),
# SERVER_BENCH_ARGS (more server_bench flags, e.g. "--channels 4" or
# "--slice 0.5"), BENCH_NO_BUILD=1. A run times 4 x rounds x seconds of load
# and warms up for about 15 s more (a minute by default); the script makes
# reps + 1 runs (about 6 minutes by default).
set -uo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: $0 <build-dir>" >&2
  exit 2
fi
build=$(cd "$1" && pwd) || exit 2
rounds=${SERVER_BENCH_ROUNDS:-10}
seconds=${SERVER_BENCH_SECONDS:-1}
reps=${SERVER_BENCH_REPS:-5}
[[ $reps =~ ^[1-9][0-9]*$ ]] || { echo "SERVER_BENCH_REPS must be a positive number" >&2; exit 2; }
[[ $rounds =~ ^[1-9][0-9]*$ ]] || { echo "SERVER_BENCH_ROUNDS must be a positive number" >&2; exit 2; }
[[ $seconds =~ ^[0-9]+(\.[0-9]+)?$ ]] || { echo "SERVER_BENCH_SECONDS must be a number" >&2; exit 2; }

qps_name="server: QPS, 32 in flight"
p99_name="server: p99 at 50% of baseline capacity"
modes=("contract" "workers")
label() {  # label MODE: how a row names the mode
  if [[ $1 == contract ]]; then echo "as the contract says: handlers inline"; else echo "handlers on workers"; fi
}

cache_value() {  # cache_value VAR: a value from the build's CMakeCache.txt
  sed -n "s/^$1:[A-Z]*=//p" "$build/CMakeCache.txt" 2>/dev/null | head -n 1
}

targets() {  # targets MODE: the QPS and p99 targets of a mode's rows ("—" for info rows)
  if [[ $1 == contract ]]; then echo "≥ 0.90x|≤ 1.20x"; else echo "—|—"; fi
}

error_rows() {  # error_rows MODE MESSAGE: the mode's QPS and p99 rows as ERROR, and why
  local t
  t=$(targets "$1")
  printf 'ROW\t%s (%s)\t—\t—\t—\t%s\tERROR\n' "$qps_name" "$(label "$1")" "${t%%|*}"
  printf 'ROW\t%s (%s)\t—\t—\t—\t%s\tERROR\n' "$p99_name" "$(label "$1")" "${t##*|}"
  printf 'NOTE\tserver (%s): %s\n' "$(label "$1")" "$2"
}

if [[ ${BENCH_NO_BUILD:-0} != 1 ]]; then
  echo "server_bench: building server_bench in $build" >&2
  if ! cmake --build "$build" --target server_bench >&2; then
    error_rows contract "building server_bench failed (see the log above)"
    exit 1
  fi
fi
bin=$build/bench/server/server_bench
if [[ ! -x $bin ]]; then
  error_rows contract "$bin is missing (cmake --build $build --target server_bench)"
  exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/cppsvc-server-bench.XXXXXX")
nats_dir="$work/nats"
cleanup() {
  [[ -f $nats_dir/nats.url ]] && bash "$(dirname "$0")/../scripts/nats.sh" stop "$nats_dir" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT

nats_args=""
if bash "$(dirname "$0")/../scripts/nats.sh" start "$nats_dir" >/dev/null 2>"$work/nats.err"; then
  nats_args="--nats-url $(cat "$nats_dir/nats.url")"
fi

# median_run MODE KEY WORSE: the output of the mode's run whose ratio of
# KEY_ours to KEY_baseline is the median of its runs' ratios; of an even
# number of runs, the worse of the middle two (WORSE: "high" when a higher
# ratio is worse, "low" when a lower one is). A failed percentile (-1) makes
# the ratio infinite. Each run is a pair measured together, so the rows
# compare ours and the baseline of one run rather than medians taken apart.
median_run() {
  local mode=$1 key=$2 worse=$3 runs f
  runs=$(cat "$work/runs.$mode")
  for ((run = 1; run <= runs; run++)); do
    f="$work/out.$mode.$run"
    awk -F '\t' -v k="$key" -v f="$f" '
      $1 == k "_ours" { o = $2 }
      $1 == k "_baseline" { b = $2 }
      END { printf "%.17g\t%s\n", (o == "" || b == "" || o < 0 || b <= 0) ? 1e300 : o / b, f }' "$f"
  done | sort -g -k1,1 | awk -F '\t' -v w="$worse" '
    { f[NR] = $2 }
    END { print f[(NR % 2) ? (NR + 1) / 2 : (w == "high" ? NR / 2 + 1 : NR / 2)] }'
}

# sum_runs MODE KEY: KEY summed over the mode's runs (counts of failed calls).
sum_runs() {
  cat "$work/out.$1".* | awk -F '\t' -v k="$2" '$1 == k { s += $2 } END { print s + 0 }'
}

load_before=$(cut -d ' ' -f 1-3 /proc/loadavg 2>/dev/null || echo "?")
for mode in "${modes[@]}"; do
  extra="--handlers $mode"
  [[ $mode == contract ]] && extra="$extra $nats_args"
  runs=1
  [[ $mode == contract ]] && runs=$reps
  status=0
  for ((run = 1; run <= runs; run++)); do
    echo "server_bench: ours, $(label "$mode"), run $run/$runs" >&2
    # shellcheck disable=SC2086  # lists of flags
    "$bin" --rounds "$rounds" --seconds "$seconds" $extra ${SERVER_BENCH_ARGS:-} >"$work/out.$mode.$run"
    run_status=$?
    if ((run_status != 0)) || [[ $(awk -F '\t' '$1 == "done" { print $2 }' "$work/out.$mode.$run") != 1 ]]; then
      # The failed run's output, for its error line.
      status=$((run_status != 0 ? run_status : 1))
      cp "$work/out.$mode.$run" "$work/out.$mode.failed"
      break
    fi
  done
  echo "$status" >"$work/status.$mode"
  echo "$runs" >"$work/runs.$mode"
done
load_after=$(cut -d ' ' -f 1-3 /proc/loadavg 2>/dev/null || echo "?")

out=""
val() {  # val KEY [DEFAULT]: the value of a `KEY<TAB>value` line of the current run's output
  local v
  v=$(awk -F '\t' -v k="$1" '$1 == k { print $2; exit }' "$out")
  echo "${v:-${2:-}}"
}

fmt_qps() { awk -v v="$1" 'BEGIN { printf "%.0f calls/s", v }'; }
fmt_us() {  # 812.4 -> "812 µs", 1834.2 -> "1.83 ms", -1 -> "failed" (failed calls reached the percentile)
  awk -v v="$1" 'BEGIN { if (v < 0) printf "failed"; else if (v >= 1e6) printf "%.2f s", v / 1e6; else if (v >= 1000) printf "%.2f ms", v / 1000; else printf "%.0f µs", v }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a < 0) print "inf"; else if (b > 0) printf "%.2f", a / b; else print "inf" }'; }
at_least() { awk -v r="$1" -v t="$2" 'BEGIN { print (r != "inf" && r >= t) ? "ok" : "MISS" }'; }
at_most() { awk -v r="$1" -v t="$2" 'BEGIN { print (r != "inf" && r <= t) ? "ok" : "MISS" }'; }

failed=0
for mode in "${modes[@]}"; do
  status=$(cat "$work/status.$mode")
  lab=$(label "$mode")
  if ((status != 0)); then
    out="$work/out.$mode.failed"
    why=$(val error)
    error_rows "$mode" "server_bench failed (status $status)${why:+: $why}"
    failed=1
    continue
  fi
  # Each row from its median run; the notes from the p99 row's.
  out=$(median_run "$mode" closed_qps low)
  qps_ours=$(val closed_qps_ours)
  qps_base=$(val closed_qps_baseline)
  out=$(median_run "$mode" open_p50_us high)
  p50_ours=$(val open_p50_us_ours)
  p50_base=$(val open_p50_us_baseline)
  out=$(median_run "$mode" cpu_us high)
  cpu_ours=$(val cpu_us_ours)
  cpu_base=$(val cpu_us_baseline)
  out=$(median_run "$mode" open_p99_us high)
  p99_ours=$(val open_p99_us_ours)
  p99_base=$(val open_p99_us_baseline)
  p99_run=$out
  # Failed calls of every run count.
  closed_errors_ours=$(sum_runs "$mode" closed_errors_ours)
  errors_ours=$((closed_errors_ours + $(sum_runs "$mode" open_errors_ours)))
  errors_base=$(($(sum_runs "$mode" closed_errors_baseline) + $(sum_runs "$mode" open_errors_baseline)))

  # Targets for the contract's configuration; the worker rows are info.
  t=$(targets "$mode")
  qps_target=${t%%|*} p99_target=${t##*|}
  r=$(ratio "$qps_ours" "$qps_base")
  verdict=$(at_least "$r" 0.90)
  ((closed_errors_ours > 0)) && verdict=MISS
  [[ $mode == contract ]] || verdict=info
  printf 'ROW\t%s (%s)\t%s\t%s\t%sx\t%s\t%s\n' "$qps_name" "$lab" "$(fmt_qps "$qps_ours")" "$(fmt_qps "$qps_base")" "$r" "$qps_target" "$verdict"
  r=$(ratio "$p99_ours" "$p99_base")
  verdict=$(at_most "$r" 1.20)
  [[ $mode == contract ]] || verdict=info
  printf 'ROW\t%s (%s)\t%s\t%s\t%sx\t%s\t%s\n' "$p99_name" "$lab" "$(fmt_us "$p99_ours")" "$(fmt_us "$p99_base")" "$r" "$p99_target" "$verdict"
  printf 'ROW\tserver: p50 at 50%% of baseline capacity (%s)\t%s\t%s\t%sx\t—\tinfo\n' \
    "$lab" "$(fmt_us "$p50_ours")" "$(fmt_us "$p50_base")" "$(ratio "$p50_ours" "$p50_base")"
  printf 'ROW\tserver: CPU per call, 32 in flight, client + server (%s)\t%s\t%s\t%sx\t—\tinfo\n' \
    "$lab" "$(fmt_us "$cpu_ours")" "$(fmt_us "$cpu_base")" "$(ratio "$cpu_ours" "$cpu_base")"

  per_round=$(awk -F '\t' '
    $1 == "closed_round" { c = c sprintf("%s%s r%s %.0f/s", (c ? ", " : ""), $3, $2, $4) }
    $1 == "open_round" { o = o sprintf("%s%s r%s %s", (o ? ", " : ""), $3, $2, ($5 < 0 ? "failed" : sprintf("%.0f µs", $5))) }
    END { printf "QPS: %s; p99: %s", c, o }' "$out")
  printf 'NOTE\tserver (%s): open loop at %s calls/s, half the baseline'"'"'s capacity for calls sent one by one: %s calls/s, the %s cores divided by the %s µs of CPU per call an untimed open loop at half its closed-loop QPS (%s calls/s) took (%s cores busy); calls sent one by one wake threads on both sides and get no batching; cores busy during the timed slices: %s (ours), %s (baseline); per round (its slices pooled): %s\n' \
    "$lab" "$(awk -v v="$(val rate)" 'BEGIN { printf "%.0f", v }')" \
    "$(awk -v v="$(val capacity)" 'BEGIN { printf "%.0f", v }')" "$(val cores)" "$(val open_probe_cpu_us)" \
    "$(awk -v v="$(val closed_capacity)" 'BEGIN { printf "%.0f", v / 2 }')" "$(val open_probe_cores_busy)" \
    "$(val open_cores_busy_ours)" "$(val open_cores_busy_baseline)" "$per_round"
  runs=$(cat "$work/runs.$mode")
  if ((runs > 1)); then
    # Each run's own ratios: the spread the medians above are taken over.
    per_run=""
    for ((run = 1; run <= runs; run++)); do
      per_run+="${per_run:+; }run $run: $(awk -F '\t' '
        { v[$1] = $2 }
        function r(a, b) { return (a < 0 || b <= 0) ? "inf" : sprintf("%.2f", a / b) }
        END {
          printf "QPS %sx, p99 %sx, p50 %sx, CPU %sx", r(v["closed_qps_ours"], v["closed_qps_baseline"]),
            r(v["open_p99_us_ours"], v["open_p99_us_baseline"]), r(v["open_p50_us_ours"], v["open_p50_us_baseline"]),
            r(v["cpu_us_ours"], v["cpu_us_baseline"])
        }' "$work/out.$mode.$run")"
    done
    printf 'NOTE\tserver (%s): %s runs of server_bench, each with its own baseline; each row above is the run whose ratio is the median of the runs'"'"' (of an even number, the worse of the middle two), and the notes of this mode are from the run of the p99 row (run %s); each run'"'"'s own ratios: %s\n' \
      "$lab" "$runs" "${p99_run##*.}" "$per_run"
  fi
  tail_shape=""
  for q in p90 p95 p999; do
    qo=$(val "open_${q}_us_ours") qb=$(val "open_${q}_us_baseline")
    [[ -n $qo && -n $qb ]] || continue
    tail_shape+="${tail_shape:+; }${q/p999/p99.9} $(fmt_us "$qo") vs $(fmt_us "$qb") ($(ratio "$qo" "$qb")x)"
  done
  if [[ -n $tail_shape ]]; then
    printf 'NOTE\tserver (%s): the open loop'"'"'s latency around its p99, ours vs baseline, on the same schedule: %s\n' "$lab" "$tail_shape"
  fi
  printf 'NOTE\tserver (%s): the open loop'"'"'s own lateness (a call sent after its scheduled time, counted in its latency), p99 over all calls: %s (ours), %s (baseline)\n' \
    "$lab" "$(fmt_us "$(val open_lag_p99_us_ours 0)")" "$(fmt_us "$(val open_lag_p99_us_baseline 0)")"
  if ((errors_ours + errors_base > 0)); then
    printf 'NOTE\tserver (%s): failed calls during timing, all runs: %s (ours), %s (baseline); by code, warm-up included, in the run of the p99 row: ours: %s; baseline: %s\n' \
      "$lab" "$errors_ours" "$errors_base" "$(val failures_ours none)" "$(val failures_baseline none)"
  fi
  if [[ -n $(val nats_p50_us_ours) ]]; then
    out=$(median_run "$mode" nats_p50_us high)
    printf 'ROW\tserver: NATS request-reply p50, one at a time\t%s\t%s\t%sx\t—\tinfo\n' \
      "$(fmt_us "$(val nats_p50_us_ours)")" "$(fmt_us "$(val nats_p50_us_baseline)")" \
      "$(ratio "$(val nats_p50_us_ours)" "$(val nats_p50_us_baseline)")"
    out=$(median_run "$mode" nats_p99_us high)
    printf 'ROW\tserver: NATS request-reply p99, one at a time\t%s\t%s\t%sx\t—\tinfo\n' \
      "$(fmt_us "$(val nats_p99_us_ours)")" "$(fmt_us "$(val nats_p99_us_baseline)")" \
      "$(ratio "$(val nats_p99_us_ours)" "$(val nats_p99_us_baseline)")"
    out=$p99_run
    printf 'NOTE\tserver: NATS baseline = a bare nats.c queue subscriber answering with the same logic; ours = the generated server'"'"'s NATS transport (JWT, RBAC, validation, metrics, log; handler on a bulkhead worker: a NATS subscription delivers calls one at a time, so its handlers never run inline); one raw nats.c requester, SendAsap everywhere; errors, all runs: ours %s, baseline %s\n' \
      "$(sum_runs "$mode" nats_errors_ours)" "$(sum_runs "$mode" nats_errors_baseline)"
  elif [[ $mode == contract ]]; then
    printf 'NOTE\tserver: NATS rows skipped: %s\n' "$(head -n 1 "$work/nats.err" 2>/dev/null || echo "nats-server did not start")"
  fi
done
# The common notes from any run that finished.
for out in "$work/out.contract.1" "$work/out.workers.1" "$work/out.contract.failed" "$work/out.workers.failed"; do
  [[ -s $out ]] && break
done

build_type=$(cache_value CMAKE_BUILD_TYPE)
flags_var=CMAKE_CXX_FLAGS_$(tr '[:lower:]' '[:upper:]' <<<"${build_type:-none}")
printf 'NOTE\tserver: baseline = a hand-written grpc++ callback server, same proto and handler, no pipeline; ours = the generated BenchServiceServer with HS256 JWT, RBAC, validation, metrics and request logging (to /dev/null) on, %s bulkhead workers; both on 127.0.0.1 in one process with the load client (%s channels, callback API; the open loop sent by %s threads after an untimed open warm-up), so they share %s cores; the process turns Abseil'"'"'s mutex deadlock detection off, as a generated main() does, for both servers\n' \
  "$(val workers)" "$(val channels)" "$(val senders)" "$(val cores)"
printf 'NOTE\tserver: build %s (%s%s); %s runs as the contract says and 1 with handlers on workers, each of %s rounds x %s s per phase and server, in %s slices of %s s alternating between the servers, pooled; load average %s before, %s after\n' \
  "$(basename "$build")" "${build_type:-no build type}" "$([[ -n $(cache_value "$flags_var") ]] && echo ", $(cache_value "$flags_var")")" \
  "$reps" "$rounds" "$seconds" "$(val slices)" "$(val slice_seconds)" "$load_before" "$load_after"
if awk -v l="${load_before%% *}" -v c="$(val cores)" 'BEGIN { exit !(l + 0 > c * 0.75) }'; then
  printf 'NOTE\tserver: the machine was busy (load %s on %s cores): other jobs take CPU from both servers, and the server with more threads (ours) gets a larger share, so the QPS ratio flatters ours; the CPU-per-call row is the steadier measure\n' \
    "${load_before%% *}" "$(val cores)"
fi
if [[ -n $(val ours_without) ]]; then
  printf 'NOTE\tserver: DIAGNOSIS RUN: ours had %s turned off (SERVER_BENCH_ARGS)\n' "$(val ours_without)"
fi
if [[ -n $(val baseline_twice) ]]; then
  printf 'NOTE\tserver: DIAGNOSIS RUN: "ours" was a second baseline server (--baseline-twice): the ratios are the harness'"'"'s own spread\n'
fi
if [[ -n $(val piece_jwt_verify) ]]; then
  printf 'NOTE\tserver: CPU per call of the whole pipeline of ours around the handler, inline, without gRPC (one thread, hot loop): %s µs\n' "$(val piece_pipeline)"
  printf 'NOTE\tserver: CPU per call of each step of ours on its own (one thread, hot loop): JWT verify %s µs, request log %s µs, metrics %s µs, handing the call to a bulkhead worker and back %s µs, RBAC %s µs, validation %s µs, trace ids %s µs, the handler %s µs\n' \
    "$(val piece_jwt_verify)" "$(val piece_request_log)" "$(val piece_metrics)" "$(val piece_bulkhead_hop)" \
    "$(val piece_rbac)" "$(val piece_validate)" "$(val piece_trace)" "$(val piece_handler)"
fi
exit "$failed"
