#!/usr/bin/env bash
# Runs protoc with protoc-gen-cpp-svc over one diagnostics case and compares
# what it reports with the case's expected_errors.txt, line for line.
#   run_case.sh <protoc> <plugin> <specs_dir> <case_dir>
# A case is a folder of .proto files (all given to protoc at once, sorted),
# an expected_errors.txt, optionally options.txt (the --cpp-svc_opt value)
# and optionally lock/ (schema locks, read with schema_lock_dir=<case>/lock).
# Cases run with schema_lock=update, so a case with a database needs no lock
# (0001_init); options.txt can ask for schema_lock=check.
# The plugin reads the sources from the case (proto_path=<case>).
# Set CPPSVC_UPDATE=1 to rewrite expected_errors.txt from the current output.
set -euo pipefail
protoc=$1 plugin=$2 specs=$3 case_dir=$4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

mapfile -t protos < <(cd "$case_dir" && find . -name '*.proto' -not -path './lock/*' | sed 's|^\./||' | LC_ALL=C sort)
opts="schema_lock=update"
[ -f "$case_dir/options.txt" ] && opts="$opts,$(tr -d '\n' < "$case_dir/options.txt")"
[ -d "$case_dir/lock" ] && opts="${opts:+$opts,}schema_lock_dir=$case_dir/lock"
# The sources, so errors inside multi-line options point at their key.
opts="${opts:+$opts,}proto_path=$case_dir"
opt=()
[ -n "$opts" ] && opt=("--cpp-svc_opt=$opts")

set +e
"$protoc" -I "$case_dir" -I "$specs" --plugin=protoc-gen-cpp-svc="$plugin" \
  --cpp-svc_out="$tmp" "${opt[@]}" "${protos[@]}" 2> "$tmp/stderr"
rc=$?
set -e
# protoc prefixes the plugin's error text with the output flag; paths into
# the case (its lock/ directory) are written relative to it.
sed -e 's/^--cpp-svc_out: //' -e "s|$case_dir/||g" "$tmp/stderr" > "$tmp/actual"

if [ "${CPPSVC_UPDATE:-0}" = 1 ]; then
  cp "$tmp/actual" "$case_dir/expected_errors.txt"
  echo "updated $case_dir/expected_errors.txt"
  exit 0
fi
# An error line is "<file>:<line>:<col>: error: ..." or, for plugin options,
# "error: ...".
error_re='(^|: )error: '
if grep -Eq "$error_re" "$case_dir/expected_errors.txt" && [ "$rc" -eq 0 ]; then
  echo "FAIL: protoc exited 0 although errors are expected"; exit 1
fi
if ! grep -Eq "$error_re" "$case_dir/expected_errors.txt" && [ "$rc" -ne 0 ]; then
  echo "FAIL: protoc exited $rc although no error is expected"; cat "$tmp/actual"; exit 1
fi
if ! diff -u "$case_dir/expected_errors.txt" "$tmp/actual"; then
  echo "FAIL: diagnostics differ from $case_dir/expected_errors.txt (left: expected, right: actual)"
  echo "If the new text is right: CPPSVC_UPDATE=1 $0 $*"
  exit 1
fi
echo "ok: $(basename "$case_dir") ($(wc -l < "$case_dir/expected_errors.txt") lines)"
