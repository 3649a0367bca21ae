#!/usr/bin/env bash
# Checking stays fast on hostile contracts: the plugin's CPU time on each
# contract of bench/make_hostile_spec.sh (a 2,000-role chain, a 2,000-role
# cycle with a 40,000-character misspelt role, 3,000 rpcs with one error)
# must stay within 3 x protoc's own parse time of the same file + 1 s,
# measured in the same run. Before the checks were linear, the chain alone
# took 14 s and the misspelling 10 s.
#   hostile_speed.sh <protoc> <plugin> <specs_dir> <make_hostile_spec.sh>
set -euo pipefail
protoc=$1 plugin=$2 specs=$3 maker=$4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

bash "$maker" "$tmp" --roles 2000 --rpcs 3000 --name-length 40000 >/dev/null

cpu_ms() {  # cpu_ms CMD...: user + sys time of CMD and its children, in ms
  local TIMEFORMAT='%3U %3S' t
  t=$({ time "$@" >/dev/null 2>>"$tmp/stderr"; } 2>&1) || true
  awk -v u="${t% *}" -v s="${t#* }" 'BEGIN { printf "%d\n", (u + s) * 1000 }'
}

failed=0
for name in role_chain role_errors many_rpcs_errors; do
  proto=hostile/$name/v1/$name.proto
  mkdir -p "$tmp/out-$name"
  : >"$tmp/stderr"
  parse=$(cpu_ms "$protoc" -I "$tmp" -I "$specs" -o /dev/null "$proto")
  : >"$tmp/stderr"
  ours=$(cpu_ms "$protoc" -I "$tmp" -I "$specs" --plugin=protoc-gen-cpp-svc="$plugin" \
    --cpp-svc_out="$tmp/out-$name" "$proto")
  bound=$((3 * parse + 1000))
  verdict=ok
  ((ours <= bound)) || { verdict=FAIL; failed=1; }
  echo "$verdict: $name: protoc + plugin ${ours} ms CPU, protoc parsing alone ${parse} ms (bound ${bound} ms)"
  errors=$(grep -c 'error: ' "$tmp/stderr" || true)
  case $name in
    role_chain) expected=0 ;;
    role_errors) expected=2 ;;  # the cycle once, and the unknown role without a suggestion
    many_rpcs_errors) expected=1 ;;
  esac
  if ((errors != expected)); then
    echo "FAIL: $name: expected $expected errors, got $errors:"
    head -n 5 "$tmp/stderr" | cut -c 1-300
    failed=1
  fi
done
exit $failed
