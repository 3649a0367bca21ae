#!/usr/bin/env bash
# Runs a libFuzzer target for a bounded time, starting from the seed corpus
# kept in the repo (copied, so the run never writes into the source tree).
#   run_fuzz.sh <fuzz binary> <seed corpus dir> <seconds> [<max input bytes>]
# A crash, a timeout of one input (10 s), too much memory or a sanitizer
# report fails with the reproducer's path and the report.
set -euo pipefail
binary=$1 seeds=$2 seconds=$3 max_len=${4:-65536}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus" "$work/artifacts"
cp "$seeds"/* "$work/corpus/" 2>/dev/null || true
cd "$work"
set +e
"$binary" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len="$max_len" \
  -print_final_stats=1 -artifact_prefix="$work/artifacts/" corpus > fuzz.log 2>&1
rc=$?
set -e
tail -n 15 fuzz.log
if [ "$rc" -ne 0 ]; then
  echo "run_fuzz: $(basename "$binary") failed (exit $rc); reproducer(s):"
  for f in artifacts/*; do [ -e "$f" ] && { echo "--- $f"; od -A d -t x1 "$f" | head -n 20; }; done
  exit 1
fi
echo "run_fuzz: $(basename "$binary") ran ${seconds}s without a finding"
