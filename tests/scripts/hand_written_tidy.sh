#!/usr/bin/env bash
# The hand-written sources of runtime/ and generator/ (and the headers of
# both they include) are clean under the checks of the repo's .clang-tidy,
# whose warnings are all errors. Uses the build's compile_commands.json, so
# it runs after the build; two files at a time.
#   hand_written_tidy.sh <repo-root> <build-dir> [clang-tidy]
# Run one file by hand: clang-tidy-14 -p build <file>
set -euo pipefail
root=$(cd "$1" && pwd)
build=$(cd "$2" && pwd)
tidy=${3:-clang-tidy-14}
cd "$root"
command -v "$tidy" >/dev/null || { echo "FAIL: $tidy not found: bash scripts/install-deps.sh"; exit 1; }
db="$build/compile_commands.json"
[ -f "$db" ] || { echo "FAIL: no $db (configure with CMAKE_EXPORT_COMPILE_COMMANDS)"; exit 1; }

mapfile -t files < <(git ls-files 'runtime/*.cc' 'generator/*.cc' | LC_ALL=C sort)
[ "${#files[@]}" -gt 0 ] || { echo "FAIL: no hand-written sources found"; exit 1; }
# A source the build does not compile has no flags to check it with.
checked=()
for f in "${files[@]}"; do
  if grep -qF "\"file\": \"$root/$f\"" "$db"; then checked+=("$f"); else echo "skipped (not built): $f"; fi
done

# One clang-tidy per file; a file's report is printed whole, only when it fails.
status=0
printf '%s\0' "${checked[@]}" | xargs -0 -P2 -n1 bash -c '
  out=$("$0" -p "$1" --quiet "$2" 2>&1) && exit 0
  printf "%s\n" "$out" | grep -v " warnings\? generated\.$"
  exit 1' "$tidy" "$build" || status=1
[ "$status" -eq 0 ] || { echo "FAIL: clang-tidy reported errors (checks: .clang-tidy)"; exit 1; }
echo "ok: ${#checked[@]} hand-written sources clean under clang-tidy $("$tidy" --version | grep -o '[0-9][0-9.]*' | head -1)"
