#!/usr/bin/env bash
# The configure step of the generated Dockerfiles' build stage, as it runs
# there: CMAKE_ARGS as the Dockerfile gives them, and only the packages
# `CPPSVC_DEPS=build bash scripts/install-deps.sh` installs, so no
# GoogleTest or Google Benchmark (hidden here with
# CMAKE_DISABLE_FIND_PACKAGE_*). Every service binary and the gateway must
# be among the targets.
#   image_configure.sh <repo-root> <scratch-dir> <a generated Dockerfile>
set -euo pipefail
root=$1 dir=$2 dockerfile=$3
rm -rf "$dir"
read -r -a args <<< "$(sed -nE 's/^ARG CMAKE_ARGS="(.*)"$/\1/p' "$dockerfile")"
[ "${#args[@]}" -gt 0 ] || { echo "FAIL: no ARG CMAKE_ARGS in $dockerfile"; exit 1; }
cmake -S "$root" -B "$dir" "${args[@]}" \
  -DCMAKE_DISABLE_FIND_PACKAGE_GTest=ON -DCMAKE_DISABLE_FIND_PACKAGE_benchmark=ON > "$dir.log" 2>&1 ||
  { cat "$dir.log"; echo "FAIL: the build stage's configure (${args[*]}) fails without GoogleTest"; exit 1; }
targets=$(cmake --build "$dir" --target help)
mapfile -t binaries < <(grep -rhoE '^ARG SERVICE_BINARY=.+$' "$root/generated" --include=Dockerfile | cut -d= -f2 | sort -u)
for binary in "${binaries[@]}"; do
  grep -q "^$binary:" <<< "$targets" || { echo "FAIL: the build stage has no target $binary"; exit 1; }
done
echo "ok: the build stage configures (${args[*]}) and has ${#binaries[@]} service binaries"
