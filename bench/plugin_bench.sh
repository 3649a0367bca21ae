#!/usr/bin/env bash
# Plugin benchmark: protoc-gen-cpp-svc against grpc_cpp_plugin on the same
# files, in the same run, on the commerce spec and on a synthetic spec of 200
# services / 2,000 rpcs written by make_synthetic_spec.
#
#   bash bench/plugin_bench.sh <build-dir>
#
# Prints rows for bench/run.sh on stdout (see bench/README.md):
#   ROW<TAB>name<TAB>ours<TAB>baseline<TAB>ratio<TAB>target<TAB>verdict
#   NOTE<TAB>text
# and progress on stderr. Expects <build-dir>/generator/protoc-gen-cpp-svc
# and <build-dir>/bench/make_synthetic_spec to be built (run.sh builds them).
#
# Each spec is timed two ways, every measurement interleaved with the others
# in each repetition (order rotated), after one untimed warm-up round:
#   protoc + plugin  `protoc --cpp-svc_out` vs `protoc --grpc_out`, each into
#                    an empty output directory: what a clean build waits for;
#                    protoc's parsing and file writing are in both numbers.
#   plugin alone     the plugin binary fed a CodeGeneratorRequest saved from
#                    protoc (by a dump plugin), response to /dev/null: the
#                    plugin's own work, parsing not included.
#
# Hostile contracts (bench/make_hostile_spec.sh: 5,000 roles in one chain, a
# 5,000-role cycle with a 40,000-character misspelt role, 10,000 rpcs in one
# service) are timed against protoc parsing the same file alone
# (`protoc -o /dev/null`), CPU time; target for the refused ones, which the
# plugin only checks: at most 1 s more. BENCH_SMOKE=1 makes them a tenth of
# the size.
#
# Environment: BENCH_REPS (default 7, odd is best), PROTOC (default: the
# build's, else protoc on PATH), GRPC_CPP_PLUGIN (default: on PATH, else
# /usr/bin/grpc_cpp_plugin), BENCH_KEEP=1 keeps the work directory.
set -uo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: $0 <build-dir>" >&2
  exit 2
fi
build=$(cd "$1" && pwd) || exit 2
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
reps=${BENCH_REPS:-7}
[[ $reps =~ ^[1-9][0-9]*$ ]] || { echo "BENCH_REPS must be a positive number" >&2; exit 2; }

cache_value() {  # cache_value VAR: a value from the build's CMakeCache.txt
  sed -n "s/^$1:[A-Z]*=//p" "$build/CMakeCache.txt" 2>/dev/null | head -n 1
}

plugin=$build/generator/protoc-gen-cpp-svc
spec_maker=$build/bench/make_synthetic_spec
protoc=${PROTOC:-$(cache_value Protobuf_PROTOC_EXECUTABLE)}
[[ -x $protoc ]] || protoc=$(command -v protoc)
grpc_plugin=${GRPC_CPP_PLUGIN:-$(command -v grpc_cpp_plugin || echo /usr/bin/grpc_cpp_plugin)}

for tool in "$plugin" "$spec_maker" "$protoc" "$grpc_plugin"; do
  if [[ ! -x $tool ]]; then
    echo "plugin_bench: $tool is missing (build protoc-gen-cpp-svc and make_synthetic_spec first)" >&2
    printf 'ROW\tplugin (all rows)\t—\t—\t—\t—\tERROR\n'
    printf 'NOTE\tplugin: %s is missing\n' "$tool"
    exit 1
  fi
done

work=$(mktemp -d "${TMPDIR:-/tmp}/cppsvc-plugin-bench.XXXXXX")
if [[ ${BENCH_KEEP:-0} == 1 ]]; then
  echo "plugin_bench: work directory kept: $work" >&2
else
  trap 'rm -rf "$work"' EXIT
fi

# Import roots: the synthetic spec, specs/ (cppsvc options, commerce) and
# protobuf's well-known types.
includes=(-I"$work/spec" -I"$root/specs")
wkt=$(cache_value Protobuf_INCLUDE_DIR)
[[ -n $wkt && -f $wkt/google/protobuf/timestamp.proto ]] && includes+=(-I"$wkt")

# A plugin that saves its CodeGeneratorRequest and answers with an empty
# response claiming proto3 optional support (field 2 = 1), so protoc accepts it.
cat >"$work/dump-plugin.sh" <<'EOF'
#!/bin/sh
cat >"$CPPSVC_BENCH_REQUEST"
printf '\020\001'
EOF
chmod +x "$work/dump-plugin.sh"

# --- helpers ------------------------------------------------------------------

# timed NAME CMD...: runs CMD (stdout/stderr to NAME's log), appends its wall
# time and CPU time (user+sys, children included) in ms to NAME.wall/.cpu.
# Returns CMD's status.
timed() {
  local name=$1 status
  shift
  local TIMEFORMAT='%3R %3U %3S'
  { time "$@" >"$work/$name.out" 2>"$work/$name.err"; } 2>"$work/$name.time"
  status=$?
  # `time` keeps its line last even when CMD writes to the same stream.
  read -r real user sys < <(tail -n 1 "$work/$name.time")
  awk -v r="$real" 'BEGIN { printf "%.1f\n", r * 1000 }' >>"$work/$name.wall"
  awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.1f\n", (u + s) * 1000 }' >>"$work/$name.cpu"
  return $status
}

median() {  # median FILE: the median of the numbers in FILE, one a line
  sort -g "$1" | awk '{ v[NR] = $1 } END { if (NR == 0) exit 1; if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

fmt_ms() {  # 1234.5 -> "1.23 s", 45.2 -> "45 ms", 4.21 -> "4.2 ms"
  awk -v v="$1" 'BEGIN { if (v >= 1000) printf "%.2f s", v / 1000; else if (v >= 10) printf "%.0f ms", v; else printf "%.1f ms", v }'
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "inf" }'; }

first_error() {  # first non-empty line of a file, tabs flattened
  grep -m 1 -v '^[[:space:]]*$' "$1" 2>/dev/null | tr '\t' ' ' | cut -c 1-200
}

# --- one spec -----------------------------------------------------------------

# bench_spec LABEL DESCRIPTION FILES...: times the spec and prints its rows.
bench_spec() {
  local label=$1 desc=$2
  shift 2
  local files=("$@")
  local ours_out="$work/out-$label-ours" grpc_out="$work/out-$label-grpc" req="$work/$label.request"
  mkdir -p "$ours_out" "$grpc_out" "$work/dump-out"

  # Without schema locks: every file with a database gets its 0001_init.
  local ours_cmd=("$protoc" "${includes[@]}" "--plugin=protoc-gen-cpp-svc=$plugin" "--cpp-svc_out=$ours_out"
                  "--cpp-svc_opt=schema_lock=update" "${files[@]}")
  local grpc_cmd=("$protoc" "${includes[@]}" "--plugin=protoc-gen-grpc=$grpc_plugin" "--grpc_out=$grpc_out" "${files[@]}")

  # Untimed checks: both generate cleanly; our plugin warns about nothing.
  echo "plugin_bench: $label: checking and saving the CodeGeneratorRequest" >&2
  if ! "${ours_cmd[@]}" >/dev/null 2>"$work/check-ours.err"; then
    printf 'ROW\tplugin: %s (%s)\t—\t—\t—\t—\tERROR\n' "$label" "$desc"
    printf 'NOTE\tplugin: %s: protoc-gen-cpp-svc failed: %s\n' "$label" "$(first_error "$work/check-ours.err")"
    return
  fi
  if [[ -s $work/check-ours.err ]]; then
    printf 'NOTE\tplugin: %s: protoc-gen-cpp-svc printed warnings: %s\n' "$label" "$(first_error "$work/check-ours.err")"
  fi
  if ! "${grpc_cmd[@]}" >/dev/null 2>"$work/check-grpc.err"; then
    printf 'ROW\tplugin: %s (%s)\t—\t—\t—\t—\tERROR\n' "$label" "$desc"
    printf 'NOTE\tplugin: %s: grpc_cpp_plugin failed: %s\n' "$label" "$(first_error "$work/check-grpc.err")"
    return
  fi
  # The same request twice: with our plugin's parameter, and without (gRPC's
  # plugin refuses parameters it does not know).
  if ! CPPSVC_BENCH_REQUEST=$req "$protoc" "${includes[@]}" "--plugin=protoc-gen-dump=$work/dump-plugin.sh" \
      "--dump_out=$work/dump-out" "${files[@]}" >/dev/null 2>"$work/dump.err" || [[ ! -s $req ]] ||
     ! CPPSVC_BENCH_REQUEST=$req.ours "$protoc" "${includes[@]}" "--plugin=protoc-gen-dump=$work/dump-plugin.sh" \
      "--dump_out=$work/dump-out" "--dump_opt=schema_lock=update" "${files[@]}" >/dev/null 2>>"$work/dump.err"; then
    printf 'NOTE\tplugin: %s: could not save the CodeGeneratorRequest (%s); plugin-alone rows skipped\n' \
      "$label" "$(first_error "$work/dump.err")"
    req=""
  fi

  local names=(e2e-ours e2e-grpc)
  [[ -n $req ]] && names+=(alone-ours alone-grpc)
  local n
  for n in "${names[@]}"; do rm -f "$work/$label-$n".{wall,cpu}; done

  # Each protoc run writes into an empty directory, as a clean build does:
  # rewriting existing files makes ext4 flush them on close (auto_da_alloc),
  # which would time the disk rather than the plugin.
  fresh() { rm -rf "$1" && mkdir -p "$1"; }
  run_one() {
    case $1 in
      e2e-ours) fresh "$ours_out" && timed "$label-$1" "${ours_cmd[@]}" ;;
      e2e-grpc) fresh "$grpc_out" && timed "$label-$1" "${grpc_cmd[@]}" ;;
      alone-ours) timed "$label-$1" "$plugin" <"$req.ours" ;;
      alone-grpc) timed "$label-$1" "$grpc_plugin" <"$req" ;;
    esac
  }

  local round i k failed=""
  for ((round = 0; round <= reps; round++)); do
    # Round 0 warms the page cache and is not counted.
    echo "plugin_bench: $label: round $round/$reps" >&2
    for ((i = 0; i < ${#names[@]}; i++)); do
      k=$(((i + round) % ${#names[@]}))
      n=${names[$k]}
      if ! run_one "$n"; then
        failed+=" $n"
        echo "plugin_bench: $label: $n failed: $(first_error "$work/$label-$n.err")" >&2
      fi
    done
    if ((round == 0)); then
      for n in "${names[@]}"; do rm -f "$work/$label-$n".{wall,cpu}; done
    fi
  done
  if [[ -n $failed ]]; then
    printf 'ROW\tplugin: %s (%s)\t—\t—\t—\t—\tERROR\n' "$label" "$desc"
    printf 'NOTE\tplugin: %s: failed during timing:%s\n' "$label" "$failed"
    return
  fi

  local e2e_ours e2e_grpc
  e2e_ours=$(median "$work/$label-e2e-ours.wall")
  e2e_grpc=$(median "$work/$label-e2e-grpc.wall")
  local r target verdict
  r=$(ratio "$e2e_ours" "$e2e_grpc")
  if [[ $label == commerce ]]; then
    # The whole commerce spec generates in under 1 s.
    target="ours < 1 s"
    verdict=$(awk -v v="$e2e_ours" 'BEGIN { print (v < 1000) ? "ok" : "MISS" }')
  else
    target="≤ 3.00x"
    verdict=$(awk -v v="$r" 'BEGIN { print (v <= 3) ? "ok" : "MISS" }')
  fi
  printf 'ROW\tplugin: %s, protoc + plugin (wall)\t%s\t%s\t%sx\t%s\t%s\n' \
    "$label" "$(fmt_ms "$e2e_ours")" "$(fmt_ms "$e2e_grpc")" "$r" "$target" "$verdict"

  if [[ -n $req ]]; then
    local a_ours a_grpc c_ours c_grpc
    a_ours=$(median "$work/$label-alone-ours.wall")
    a_grpc=$(median "$work/$label-alone-grpc.wall")
    c_ours=$(median "$work/$label-alone-ours.cpu")
    c_grpc=$(median "$work/$label-alone-grpc.cpu")
    r=$(ratio "$a_ours" "$a_grpc")
    if [[ $label == commerce ]]; then
      target="—"
      verdict=info
    else
      target="≤ 3.00x"
      verdict=$(awk -v v="$r" 'BEGIN { print (v <= 3) ? "ok" : "MISS" }')
    fi
    printf 'ROW\tplugin: %s, plugin alone (wall)\t%s\t%s\t%sx\t%s\t%s\n' \
      "$label" "$(fmt_ms "$a_ours")" "$(fmt_ms "$a_grpc")" "$r" "$target" "$verdict"
    printf 'ROW\tplugin: %s, plugin alone (CPU)\t%s\t%s\t%sx\t—\tinfo\n' \
      "$label" "$(fmt_ms "$c_ours")" "$(fmt_ms "$c_grpc")" "$(ratio "$c_ours" "$c_grpc")"
  fi
  local bytes_ours bytes_grpc
  bytes_ours=$(du -sk "$ours_out" | cut -f 1)
  bytes_grpc=$(du -sk "$grpc_out" | cut -f 1)
  printf 'NOTE\tplugin: %s = %s; output %s KiB (ours) vs %s KiB (grpc_cpp_plugin)\n' \
    "$label" "$desc" "$bytes_ours" "$bytes_grpc"
}

# --- hostile contracts ----------------------------------------------------------

# bench_hostile NAME DESCRIPTION EXPECT: protoc + plugin against protoc
# parsing alone, CPU time, on hostile/NAME/v1/NAME.proto. EXPECT is ok when
# the contract is valid, fail when the plugin must refuse it (then only its
# checks run).
bench_hostile() {
  local name=$1 desc=$2 expect=$3 label="hostile-$1"
  local proto=hostile/$name/v1/$name.proto out="$work/out-$label"
  local hi=(-I"$work/hostile-spec" -I"$root/specs")
  local ours_cmd=("$protoc" "${hi[@]}" "--plugin=protoc-gen-cpp-svc=$plugin" "--cpp-svc_out=$out" "$proto")
  local parse_cmd=("$protoc" "${hi[@]}" -o /dev/null "$proto")
  rm -f "$work/$label"-{ours,parse}.{wall,cpu}
  local round n status failed=""
  for ((round = 0; round <= reps; round++)); do
    echo "plugin_bench: $label: round $round/$reps" >&2
    for n in $( ((round % 2)) && echo "parse ours" || echo "ours parse"); do
      if [[ $n == parse ]]; then
        timed "$label-parse" "${parse_cmd[@]}" || failed+=" parse"
      else
        rm -rf "$out" && mkdir -p "$out"
        timed "$label-ours" "${ours_cmd[@]}" && status=ok || status=fail
        [[ $status == "$expect" ]] || failed+=" ours($status)"
      fi
    done
    ((round == 0)) && rm -f "$work/$label"-{ours,parse}.{wall,cpu}
  done
  if [[ -n $failed ]]; then
    printf 'ROW\tplugin: %s (%s)\t—\t—\t—\t—\tERROR\n' "$label" "$desc"
    printf 'NOTE\tplugin: %s: unexpected results:%s: %s\n' "$label" "$failed" "$(first_error "$work/$label-ours.err")"
    return
  fi
  local ours parse verdict
  ours=$(median "$work/$label-ours.cpu")
  parse=$(median "$work/$label-parse.cpu")
  # The target is on checking: a valid contract is also generated, which
  # takes time in proportion to its output (an info row).
  local target="ours ≤ parse + 1 s"
  verdict=$(awk -v o="$ours" -v p="$parse" 'BEGIN { print (o - p <= 1000) ? "ok" : "MISS" }')
  [[ $expect == ok ]] && target="—" verdict=info
  printf 'ROW\tplugin: %s, %s, protoc + plugin vs protoc parsing (CPU)\t%s\t%s\t%sx\t%s\t%s\n' \
    "$label" "$desc" "$(fmt_ms "$ours")" "$(fmt_ms "$parse")" "$(ratio "$ours" "$parse")" "$target" "$verdict"
}

hostile_sizes=(--roles 5000 --rpcs 10000 --name-length 40000)
[[ ${BENCH_SMOKE:-0} == 1 ]] && hostile_sizes=(--roles 500 --rpcs 1000 --name-length 4000)
echo "plugin_bench: writing the hostile specs (${hostile_sizes[*]})" >&2
if ! bash "$root/bench/make_hostile_spec.sh" "$work/hostile-spec" "${hostile_sizes[@]}" >"$work/hostile-maker.out" 2>&1; then
  printf 'ROW\tplugin: hostile\t—\t—\t—\t—\tERROR\n'
  printf 'NOTE\tplugin: make_hostile_spec.sh failed: %s\n' "$(first_error "$work/hostile-maker.out")"
  hostile=0
else
  hostile=1
fi

# --- the specs ------------------------------------------------------------------

echo "plugin_bench: writing the synthetic spec" >&2
if ! "$spec_maker" "$work/spec" >"$work/spec-maker.out" 2>&1; then
  printf 'ROW\tplugin: synthetic\t—\t—\t—\t—\tERROR\n'
  printf 'NOTE\tplugin: make_synthetic_spec failed: %s\n' "$(first_error "$work/spec-maker.out")"
  synthetic=()
else
  mapfile -t synthetic < <(cd "$work/spec" && find synthetic -name '*.proto' | LC_ALL=C sort)
fi

commerce=()
if [[ -d $root/specs/commerce ]]; then
  mapfile -t commerce < <(cd "$root/specs" && find commerce -name '*.proto' | LC_ALL=C sort)
fi
if ((${#commerce[@]} > 0)); then
  rpcs=$(cat "${commerce[@]/#/$root/specs/}" | grep -c '^[[:space:]]*rpc[[:space:]]')
  services=$(cat "${commerce[@]/#/$root/specs/}" | grep -c '^[[:space:]]*service[[:space:]]')
  bench_spec commerce "specs/commerce: ${#commerce[@]} files, $services services, $rpcs rpcs" "${commerce[@]}"
else
  printf 'ROW\tplugin: commerce, protoc + plugin (wall)\t—\t—\t—\tours < 1 s\tSKIP\n'
  printf 'NOTE\tplugin: specs/commerce has no .proto files yet: commerce rows skipped\n'
fi

if ((${#synthetic[@]} > 0)); then
  bench_spec synthetic "make_synthetic_spec: ${#synthetic[@]} files, 200 services, 2,000 rpcs" "${synthetic[@]}"
fi

if ((hostile)); then
  r=$(printf '%s' "${hostile_sizes[1]}" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta')
  c=$(printf '%s' "${hostile_sizes[3]}" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta')
  l=$(printf '%s' "${hostile_sizes[5]}" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta')
  bench_hostile role_chain "$r roles in one chain" ok
  bench_hostile role_errors "a $r-role cycle and a $l-character misspelt role (refused)" fail
  bench_hostile many_rpcs "$c rpcs in one service" ok
  bench_hostile many_rpcs_errors "$c rpcs in one service and one error (refused)" fail
  printf 'NOTE\tplugin: hostile rows: contracts of bench/make_hostile_spec.sh, each timed as protoc + plugin (CPU, user + sys) against protoc parsing the same file alone (protoc -o /dev/null) in the same run; a refused contract is only checked, a valid one also generated (%s KiB of output for the %s rpcs)\n' \
    "$(du -sk "$work/out-hostile-many_rpcs" 2>/dev/null | cut -f 1)" "$c"
fi

printf 'NOTE\tplugin: baseline = %s on the same files in the same run; %s repetitions interleaved, medians; "protoc + plugin" includes protoc parsing the files and writing the output into an empty directory, "plugin alone" feeds each plugin the CodeGeneratorRequest protoc sent (saved once) and discards the response\n' \
  "$(basename "$grpc_plugin")" "$reps"
exit 0
