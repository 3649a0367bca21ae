#!/usr/bin/env bash
# Compares the cpp-svc output in <actual> with the checked-in <expected> tree:
# every *.cppsvc.* and *.openapi.json file and migrations/*.sql, byte for
# byte, and no file missing on either side.
#   compare_tree.sh <expected-dir> <actual-dir> <command that regenerates>
set -euo pipefail
expected=$1 actual=$2 regen=$3
list() { (cd "$1" && find . -type f \( -name '*.cppsvc*' -o -path '*.cppsvc.deploy/*' -o -name compose.yaml -o -name '*.openapi.json' -o -path '*/migrations/*.sql' \) | LC_ALL=C sort); }
if [ ! -d "$actual" ]; then echo "FAIL: $actual does not exist (build first)"; exit 1; fi
status=0
if ! diff <(list "$expected") <(list "$actual") > /tmp/compare_tree.$$; then
  echo "FAIL: file lists differ (< checked in, > generated now):"; cat /tmp/compare_tree.$$; status=1
fi
rm -f /tmp/compare_tree.$$
while read -r f; do
  [ -f "$expected/$f" ] || continue
  if ! diff -u "$expected/$f" "$actual/$f"; then status=1; fi
done < <(list "$actual")
if [ $status -ne 0 ]; then
  echo "FAIL: $expected is stale. Regenerate with: $regen"
  exit 1
fi
echo "ok: $(list "$actual" | wc -l) files identical in $expected"
