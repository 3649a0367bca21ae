#!/usr/bin/env bash
# Downstream-package test: install cpp-svc from a build tree into a temporary
# prefix, then configure, build and test tests/downstream (a project in
# another domain) against that prefix only, offline.
#
#   bash tests/downstream/run.sh <cppsvc-build-dir>
#
# The install-relevant targets of the build dir (protoc-gen-cpp-svc,
# cppsvc_runtime, cppsvc_options, cppsvc-token) must have been built. Exits non-zero on the
# first failure; everything it made is removed on exit (set
# CPPSVC_KEEP_DOWNSTREAM=1 to keep it for inspection).
set -euo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: $0 <cppsvc-build-dir>" >&2
  exit 2
fi
if [[ ! -f "$1/CMakeCache.txt" ]]; then
  echo "error: $1 is not a configured CMake build dir (no CMakeCache.txt)" >&2
  exit 2
fi

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
build="$(cd "$1" && pwd)"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/cppsvc-downstream.XXXXXX")"
cleanup() {
  local rc=$?
  if [[ "${CPPSVC_KEEP_DOWNSTREAM:-0}" == 1 ]]; then
    echo "== kept $tmp"
  else
    rm -rf "$tmp"
  fi
  if [[ $rc -eq 0 ]]; then echo "== downstream: PASS"; else echo "== downstream: FAIL (exit $rc)" >&2; fi
}
trap cleanup EXIT

prefix="$tmp/prefix"
src="$tmp/src"
bld="$tmp/build"

step() { printf '\n== %s\n' "$*"; }
run() { printf '+ %s\n' "$*"; "$@"; }
fail() { echo "error: $*" >&2; exit 1; }
mtime() { stat -c %.9Y "$1"; }

# Offline: nothing may be downloaded. FetchContent is disconnected and any
# HTTP(S) attempt goes to a dead proxy.
export http_proxy=http://127.0.0.1:9 https_proxy=http://127.0.0.1:9
export HTTP_PROXY=$http_proxy HTTPS_PROXY=$https_proxy no_proxy='' NO_PROXY=''
offline_args=(--no-warn-unused-cli -DFETCHCONTENT_FULLY_DISCONNECTED=ON
              # Only the temporary prefix may provide CppSvc: no package
              # registries (which could point back into a build tree).
              -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF
              -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF)
# A runtime built with sanitizers (the asan preset) links only into code
# built with them: the downstream project gets the package's own flags.
sanitize="$(sed -n 's/^CPPSVC_SANITIZE_FLAGS:[A-Z]*=//p' "$build/CMakeCache.txt")"
if [[ -n "$sanitize" ]]; then
  offline_args+=("-DCMAKE_CXX_FLAGS=$sanitize" "-DCMAKE_EXE_LINKER_FLAGS=$sanitize")
fi

# ---------------------------------------------------------------------------
step "install $build into $prefix"
run cmake --install "$build" --prefix "$prefix"

libdir="$(sed -n 's/^CMAKE_INSTALL_LIBDIR:[A-Z]*=//p' "$build/CMakeCache.txt")"
libdir="${libdir:-lib}"
step "check the installed tree"
for f in bin/protoc-gen-cpp-svc \
         bin/cppsvc-token \
         include/cppsvc/v1/options.proto \
         include/cppsvc/v1/options.pb.h \
         include/cppsvc/status.h \
         include/cppsvc/context.h \
         include/cppsvc/impl/handler_base.h \
         "$libdir/cmake/CppSvc/CppSvcConfig.cmake" \
         "$libdir/cmake/CppSvc/CppSvcConfigVersion.cmake" \
         "$libdir/cmake/CppSvc/CppSvcTargets.cmake" \
         "$libdir/cmake/CppSvc/CppSvcGenerate.cmake" \
         "$libdir/cmake/CppSvc/CppSvcEmbedMigrations.cmake" \
         "$libdir/cmake/CppSvc/CppSvcSchemaLocks.cmake"; do
  [[ -f "$prefix/$f" ]] || fail "installed tree lacks $f"
  echo "ok: $f"
done
[[ -x "$prefix/bin/protoc-gen-cpp-svc" ]] || fail "bin/protoc-gen-cpp-svc is not executable"
[[ -x "$prefix/bin/cppsvc-token" ]] || fail "bin/cppsvc-token is not executable"
# The package must be relocatable: nothing may point back into the build or
# source tree the package was installed from.
source_dir="$(sed -n 's/^CMAKE_HOME_DIRECTORY:[A-Z]*=//p' "$build/CMakeCache.txt")"
source_dir="${source_dir:-$repo}"
if leaks="$(grep -rlF -e "$build" -e "$source_dir/" "$prefix/$libdir/cmake/CppSvc")"; then
  fail "installed CMake files refer to the build/source tree: $leaks"
fi
echo "ok: no references to $build or $source_dir in $libdir/cmake/CppSvc"

# A copy of the project, so the proto can be touched without changing the
# repo, and so it cannot reach into the cpp-svc source tree by relative path.
step "copy the downstream project to $src"
mkdir -p "$src"
cp -R "$here/CMakeLists.txt" "$here/proto" "$here/src" "$here/test" "$src/"

# As in a project whose contract has just been written: a proto with a
# database, but no schema lock next to it yet.
lock_rel=proto/library/loans/v1/loans.schema.lock.json
run rm "$src/$lock_rel"

# ---------------------------------------------------------------------------
step "configure the downstream project against $prefix"
run cmake -S "$src" -B "$bld" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" "${offline_args[@]}"
found="$(sed -n 's/^CppSvc_DIR:[A-Z]*=//p' "$bld/CMakeCache.txt")"
[[ "$found" == "$prefix/$libdir/cmake/CppSvc" ]] || fail "CppSvc was found in '$found', not in $prefix"
echo "ok: CppSvc_DIR=$found"

step "build without a schema lock: an error naming the command that stores it"
store_cmd="cmake --build $bld --target library_loans_schema_locks"
expect_lock_error() {  # expect_lock_error <what> <text the error must hold>
  local log
  if log="$(cmake --build "$bld" 2>&1)"; then echo "$log"; fail "the build passed $1"; fi
  echo "$log" | grep -F 'error:' || true
  grep -qF "$2" <<<"$log" || fail "the build failed $1, but without saying: $2"
  grep -qF "store it with: $store_cmd" <<<"$log" || fail "the error $1 does not name: $store_cmd"
  echo "ok: the build fails $1, naming $store_cmd"
}
expect_lock_error "without a schema lock" \
  "library/loans/v1/loans.proto:93:3: error: file 'library/loans/v1/loans.proto' has database 'loans' but no schema lock library/loans/v1/loans.schema.lock.json in $src/proto"
run $store_cmd
cmp "$src/$lock_rel" "$here/$lock_rel" || fail "the stored lock differs from the checked-in $lock_rel"
echo "ok: the stored lock is the checked-in one"

step "build"
run cmake --build "$bld"

gen_h="$bld/generated/library/loans/v1/loans.cppsvc.h"
for f in "$gen_h" "${gen_h%.h}.md" \
         "$bld/generated/library/loans/v1/loans.pb.h" "$bld/generated/library/loans/v1/loans.grpc.pb.h"; do
  [[ -f "$f" ]] || fail "not generated: $f"
done
grep -q 'class LoansServiceBase' "$gen_h" || fail "$gen_h has no LoansServiceBase"
echo "ok: generated files present"

step "run the downstream tests"
run ctest --test-dir "$bld" --output-on-failure

# ---------------------------------------------------------------------------
step "rebuild without changes: nothing may run"
log="$(cmake --build "$bld" 2>&1)" || { echo "$log"; fail "no-op rebuild failed"; }
echo "$log"
grep -q 'no work to do' <<<"$log" || fail "a rebuild without changes did work (a declared output is never produced?)"

step "touch the proto: regenerated, but no output changed, so nothing is recompiled"
before="$(mtime "$gen_h")"
sleep 1  # so a coarse-grained filesystem clock still sees the change
run touch "$src/proto/library/loans/v1/loans.proto"
log="$(cmake --build "$bld" 2>&1)" || { echo "$log"; fail "rebuild after touching the proto failed"; }
echo "$log"
after="$(mtime "$gen_h")"
echo "loans.cppsvc.h mtime: before $before, after $after"
grep -q 'cpp-svc: generating' <<<"$log" || fail "touching the proto did not re-run the generator"
[[ "$after" == "$before" ]] || fail "loans.cppsvc.h was rewritten although its content did not change"
if grep -q 'Building CXX object' <<<"$log"; then fail "touching the proto recompiled code"; fi
echo "ok: regenerated, nothing recompiled"

step "change an rpc's comment: only what includes the changed files is recompiled"
sleep 1
run sed -i 's|^\(  rpc [A-Za-z]*(.*\)$|  // Changed.\n\1|' "$src/proto/library/loans/v1/loans.proto"
log="$(cmake --build "$bld" 2>&1)" || { echo "$log"; fail "rebuild after changing a comment failed"; }
echo "$log"
after_change="$(mtime "$gen_h")"
[[ "$after_change" != "$before" ]] || fail "loans.cppsvc.h (which carries rpc comments) was not rewritten"
if grep -q 'loans.pb.cc.o' <<<"$log"; then fail "loans.pb.cc was recompiled for a comment change"; fi
echo "ok: only changed outputs rewritten"
run ctest --test-dir "$bld" --output-on-failure

# ---------------------------------------------------------------------------
step "add a column without storing the lock: the build and the lock test fail"
sleep 1
run sed -i 's|^  int64 version = 6;$|&\n  optional string note = 7;|' "$src/proto/library/loans/v1/loans.proto"
grep -q 'optional string note = 7;' "$src/proto/library/loans/v1/loans.proto" || fail "the column was not added"
expect_lock_error "with a stale schema lock" \
  "differs from its schema lock $src/$lock_rel (it needs migration 0002_add_loans_note)"
if ctest --test-dir "$bld" -R loans_schema_lock --output-on-failure > "$tmp/lock_test.log" 2>&1; then
  cat "$tmp/lock_test.log"; fail "loans_schema_lock passed with a stale lock"
fi
grep -qF "it needs migration 0002_add_loans_note" "$tmp/lock_test.log" ||
  { cat "$tmp/lock_test.log"; fail "loans_schema_lock failed without naming the new migration"; }
echo "ok: loans_schema_lock fails with a stale lock"

step "store the lock: the new migration is generated, and everything passes again"
run $store_cmd
grep -q '"0002_add_loans_note"' "$src/$lock_rel" || fail "the stored lock lacks 0002_add_loans_note"
run cmake --build "$bld"
[[ -f "$bld/generated/library/loans/v1/migrations/0002_add_loans_note.sql" ]] || fail "no 0002_add_loans_note.sql"
run ctest --test-dir "$bld" --output-on-failure
