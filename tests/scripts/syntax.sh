#!/usr/bin/env bash
# Every shell script in the repository parses (bash -n). Scripts that no test
# runs end to end (the benchmarks, for one) would otherwise only show a
# syntax error when somebody runs them.
#
#   bash tests/scripts/syntax.sh <repo-root>
set -uo pipefail
root=${1:?usage: syntax.sh <repo-root>}
cd "$root" || exit 2
checked=0
failed=0
while IFS= read -r -d '' file; do
  checked=$((checked + 1))
  if ! bash -n "$file"; then
    echo "syntax.sh: $file does not parse" >&2
    failed=$((failed + 1))
  fi
done < <(find . -path ./build -prune -o -path './build-*' -prune -o -path ./.git -prune -o \
           \( -name '*.sh' -o -path ./.ci/run \) -type f -print0)
if ((checked < 10)); then
  echo "syntax.sh: found only $checked scripts under $root; wrong root?" >&2
  exit 1
fi
echo "syntax.sh: $checked scripts, $failed that do not parse"
((failed == 0))
