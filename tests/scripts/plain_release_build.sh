#!/usr/bin/env bash
# What a packager or a downstream superbuild does: a plain Release configure
# without the repo's presets, building only what is installed. Checks that
# no -Werror is on (a compiler's new warning must not break such a build),
# that the commerce services, tests and benchmarks are left out, and that
# the files where GCC 12 at -O3 reports -Wrestrict false positives compile.
#   plain_release_build.sh <repo-root> <scratch-dir>
set -euo pipefail
root=$1
dir=$2
rm -rf "$dir"
cmake -S "$root" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCPPSVC_BUILD_TESTS=OFF -DCPPSVC_BUILD_BENCH=OFF -DCPPSVC_BUILD_SERVICES=OFF > "$dir.log" 2>&1 ||
  { cat "$dir.log"; echo "FAIL: configure"; exit 1; }
if grep -q -e '-Werror' "$dir/compile_commands.json"; then
  echo "FAIL: -Werror is on in a build without CPPSVC_WARNINGS_AS_ERRORS"
  exit 1
fi
targets=$(cmake --build "$dir" --target help)
for wanted in protoc-gen-cpp-svc cppsvc_runtime cppsvc_testing install; do
  grep -q "^$wanted:" <<<"$targets" || { echo "FAIL: target $wanted is missing"; exit 1; }
done
for unwanted in commerce_contracts orders_service cppsvc_runtime_tests; do
  if grep -q "^$unwanted:" <<<"$targets"; then
    echo "FAIL: $unwanted is built although only installed targets were asked for"
    exit 1
  fi
done
objects=$(ninja -C "$dir" -t targets all | grep -o -e '^[^:]*emit/cpp_layout\.cc\.o' -e '^[^:]*emit/contract_test\.cc\.o')
[ -n "$objects" ] || { echo "FAIL: no object targets for emit/cpp_layout.cc and emit/contract_test.cc"; exit 1; }
# shellcheck disable=SC2086
cmake --build "$dir" --target $objects
echo "ok: plain Release configure without -Werror; only installed targets; -O3 compiles"
