#!/usr/bin/env bash
# Every hand-written C++ file in the repo is clean under the repo's
# .clang-format (generated/ and the golden and diagnostics inputs are
# checked, or exempt, elsewhere).
#   hand_written_format.sh <repo-root>
# Fix with: clang-format -i <file>
set -euo pipefail
root=$1
cd "$root"
mapfile -t files < <(git ls-files '*.cc' '*.h' |
  grep -v -e '^generated/' -e '^tests/golden/' -e '^tests/diagnostics/' | LC_ALL=C sort)
[ "${#files[@]}" -gt 0 ] || { echo "FAIL: no hand-written C++ files found"; exit 1; }
clang-format --style="file:$root/.clang-format" --dry-run --Werror "${files[@]}"
echo "ok: ${#files[@]} hand-written files clean under clang-format $(clang-format --version | grep -o '[0-9][0-9.]*' | head -1)"
