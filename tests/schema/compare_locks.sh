#!/usr/bin/env bash
# The schema locks checked in next to the protos must be the ones the last
# generation wrote: a stale lock means a contract change whose migration was
# not committed.
#   compare_locks.sh <proto-root> <out-dir> <command that updates them>
set -euo pipefail
root=$1 out=$2 regen=$3
list() { (cd "$1" && find . -type f -name '*.schema.lock.json' | LC_ALL=C sort); }
[ -d "$out" ] || { echo "FAIL: $out does not exist (build first)"; exit 1; }
status=0
if ! diff <(list "$root") <(list "$out"); then
  echo "FAIL: lock lists differ (< checked in, > generated now)"; status=1
fi
while read -r f; do
  [ -f "$root/$f" ] || continue
  if ! diff -u "$root/$f" "$out/$f"; then status=1; fi
done < <(list "$out")
if [ $status -ne 0 ]; then
  echo "FAIL: schema locks under $root are stale. Update them with: $regen"
  exit 1
fi
echo "ok: $(list "$out" | wc -l) schema locks up to date in $root"
