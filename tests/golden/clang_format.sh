#!/usr/bin/env bash
# Every generated C++ file must be clean under the repo's .clang-format.
#   clang_format.sh <repo-root> <dir>...
set -euo pipefail
root=$1; shift
mapfile -t files < <(find "$@" -type f \( -name '*.cppsvc.h' -o -name '*.cppsvc.*.h' -o -name '*.cppsvc.*.cc' -o -name '*.cppsvc_test.cc' \) | LC_ALL=C sort)
[ "${#files[@]}" -gt 0 ] || { echo "FAIL: no generated C++ files found"; exit 1; }
clang-format --style="file:$root/.clang-format" --dry-run --Werror "${files[@]}"
echo "ok: ${#files[@]} files clean under clang-format $(clang-format --version | grep -o '[0-9][0-9.]*' | head -1)"
