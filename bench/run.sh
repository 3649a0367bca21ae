#!/usr/bin/env bash
# Runs every benchmark of bench/ and prints one markdown table of ratios.
#
#   bash bench/run.sh [--no-build] [build-dir]     (build-dir: default ./build)
#
# Builds what the benchmarks need (unless --no-build), then runs each
# bench/*_bench.sh as `bash SCRIPT <build-dir>`, in name order. A benchmark
# prints on stdout, one a line, tab-separated:
#
#   ROW   name  ours  baseline  ratio  target  verdict    verdict: ok|MISS|info|SKIP|ERROR
#   NOTE  text                                            printed under the table
#
# Anything else on its stdout is ignored; progress belongs on stderr, which
# goes to a log (shown when the benchmark fails). The run is a report: it
# exits 0 even when a target is missed, and non-zero only when it could not
# run (bad arguments, the build failed). BENCH_REPS sets repetitions.
#
# BENCH_SMOKE=1: every benchmark once, as briefly as it can run (its own
# settings still win when set), and exit 1 when any benchmark could not
# run (ERROR). The numbers mean nothing then; ctest bench_smoke runs this
# so that no benchmark can rot unnoticed.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)

do_build=1
build=""
for arg in "$@"; do
  case $arg in
    --no-build)
      do_build=0
      export BENCH_NO_BUILD=1
      ;;
    -h | --help)
      sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    -*) echo "run.sh: unknown option $arg" >&2; exit 2 ;;
    *)
      [[ -z $build ]] || { echo "run.sh: one build directory only" >&2; exit 2; }
      build=$arg
      ;;
  esac
done
build=${build:-$root/build}
smoke=${BENCH_SMOKE:-0}
if [[ $smoke == 1 ]]; then
  export BENCH_REPS=${BENCH_REPS:-1}
  export SERVER_BENCH_REPS=${SERVER_BENCH_REPS:-1} SERVER_BENCH_ROUNDS=${SERVER_BENCH_ROUNDS:-1}
  export SERVER_BENCH_SECONDS=${SERVER_BENCH_SECONDS:-0.3}
  export DB_BENCH_ROUNDS=${DB_BENCH_ROUNDS:-1} DB_BENCH_SECONDS=${DB_BENCH_SECONDS:-1}
  export EVENTS_BENCH_ROUNDS=${EVENTS_BENCH_ROUNDS:-1} EVENTS_BENCH_ROWS=${EVENTS_BENCH_ROWS:-2000}
  export EVENTS_BENCH_SECONDS=${EVENTS_BENCH_SECONDS:-1}
  export GATEWAY_BENCH_REPS=${GATEWAY_BENCH_REPS:-1} GATEWAY_BENCH_SECONDS=${GATEWAY_BENCH_SECONDS:-1}
fi
if [[ ! -f $build/CMakeCache.txt ]]; then
  echo "run.sh: $build is not a configured build directory (cmake --preset dev, or --preset release)" >&2
  exit 2
fi
build=$(cd "$build" && pwd)

cache_value() { sed -n "s/^$1:[A-Z]*=//p" "$build/CMakeCache.txt" | head -n 1; }

if [[ $(cache_value CPPSVC_BUILD_BENCH) == OFF ]]; then
  echo "run.sh: $build has CPPSVC_BUILD_BENCH=OFF; reconfigure with -DCPPSVC_BUILD_BENCH=ON" >&2
  exit 2
fi
if ((do_build)); then
  echo "run.sh: building the benchmark targets in $build" >&2
  if ! cmake --build "$build" --target protoc-gen-cpp-svc make_synthetic_spec server_bench db_bench events_bench >&2; then
    echo "run.sh: build failed" >&2
    exit 1
  fi
fi

logdir=$(mktemp -d "${TMPDIR:-/tmp}/cppsvc-bench.XXXXXX")
trap 'rm -rf "$logdir"' EXIT

rows=()
notes=()
shopt -s nullglob
scripts=("$here"/*_bench.sh)
if ((${#scripts[@]} == 0)); then
  echo "run.sh: no bench/*_bench.sh found" >&2
  exit 1
fi

started=$(date -u '+%Y-%m-%d %H:%M UTC')
load_before=$(cut -d ' ' -f 1-3 /proc/loadavg 2>/dev/null || echo "?")
for script in "${scripts[@]}"; do
  name=$(basename "$script" .sh)
  echo "run.sh: running $name" >&2
  out=$logdir/$name.out
  log=$logdir/$name.log
  # stdout (the rows) to $out; stderr (progress) both to the terminal and $log.
  bash "$script" "$build" 2>&1 >"$out" | tee "$log" >&2
  status=${PIPESTATUS[0]}
  got_rows=0
  while IFS=$'\t' read -r kind a b c d e f; do
    case $kind in
      ROW)
        rows+=("$a"$'\t'"$b"$'\t'"$c"$'\t'"$d"$'\t'"$e"$'\t'"$f")
        got_rows=1
        ;;
      NOTE) notes+=("$a") ;;
    esac
  done <"$out"
  if ((status != 0 && !got_rows)); then
    rows+=("$name"$'\t—\t—\t—\t—\tERROR')
    notes+=("$name exited with status $status: $(tail -n 1 "$log" | cut -c 1-200)")
  elif ((status != 0)); then
    notes+=("$name exited with status $status")
  fi
done
load_after=$(cut -d ' ' -f 1-3 /proc/loadavg 2>/dev/null || echo "?")

# --- the report -------------------------------------------------------------

build_type=$(cache_value CMAKE_BUILD_TYPE)
flags_var=CMAKE_CXX_FLAGS_$(tr '[:lower:]' '[:upper:]' <<<"${build_type:-none}")
echo
echo "## cpp-svc benchmarks"
echo
echo "$started; $(nproc 2>/dev/null || echo ?) cores; load average $load_before before, $load_after after;" \
  "build \`$(basename "$build")\` (${build_type:-no build type}$([[ -n $(cache_value "$flags_var") ]] && echo ", $(cache_value "$flags_var")"));" \
  "$("$(cache_value Protobuf_PROTOC_EXECUTABLE || echo protoc)" --version 2>/dev/null || echo 'protoc ?'); ${BENCH_REPS:-7} repetitions, medians."
echo
echo "| benchmark | ours (median) | baseline (median) | ratio | target | verdict |"
echo "| --- | ---: | ---: | ---: | --- | --- |"
misses=0
errors=0
for row in "${rows[@]}"; do
  IFS=$'\t' read -r name ours base ratio target verdict <<<"$row"
  case $verdict in
    MISS)
      verdict="**MISS**"
      misses=$((misses + 1))
      ;;
    ERROR)
      verdict="**ERROR**"
      errors=$((errors + 1))
      ;;
  esac
  echo "| $name | $ours | $base | $ratio | $target | $verdict |"
done
if ((${#notes[@]} > 0)); then
  echo
  for note in "${notes[@]}"; do echo "- $note"; done
fi
echo
if ((misses + errors == 0)); then
  echo "All targets met."
else
  echo "MISSED: $misses target(s); ERRORS: $errors benchmark(s). (A report: run.sh still exits 0.)"
fi
if [[ $build_type == Debug ]]; then
  echo "(Debug build: for representative numbers use \`cmake --preset release && bash bench/run.sh build-release\`.)"
fi
if [[ $smoke == 1 ]] && ((errors > 0)); then
  echo "BENCH_SMOKE: $errors benchmark(s) could not run" >&2
  exit 1
fi
exit 0
