#!/usr/bin/env bash
# Builds the image of every service from its generated Dockerfile, tagged as
# the compose file names it (`orders:latest`).
#
#   scripts/images.sh [--from-build <build-dir>] [<image>...]
#
# Without --from-build each image compiles the project in its build stage
# (shared by all Dockerfiles, so BuildKit compiles once). With it, the
# binaries of an existing build (scripts/test.sh's) are put in a small image
# that the Dockerfiles' BUILT_FROM names, and nothing is compiled: the final
# stages are the same. Images default to every Dockerfile under generated/.
# The engine is the one DOCKER_HOST names (scripts/docker.sh start prints it);
# it needs debian:bookworm-slim (scripts/docker.sh base makes it offline).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
docker=${DOCKER:-/usr/bin/docker}
export DOCKER_BUILDKIT=1

from_build=""
if [ "${1:-}" = --from-build ]; then
  [ "$#" -ge 2 ] || { echo "usage: $0 [--from-build <build-dir>] [<image>...]" >&2; exit 2; }
  from_build=$(cd "$2" && pwd)
  shift 2
fi

log() { echo "images.sh: $*" >&2; }

# A Dockerfile's image name and binary, from what the generator wrote in it.
image_of() { sed -nE 's/^#   docker build -f .* -t ([^ ]+) \.$/\1/p' "$1" | head -n 1; }
binary_of() { sed -nE 's/^ARG SERVICE_BINARY=(.+)$/\1/p' "$1" | head -n 1; }

# <out>/service and <out>/packages for <binary> of the build: the Debian
# packages holding the libraries it links, by name (the host's versions may
# be older than what the mirror serves now).
collect() {
  local binary=$1 out=$2 path
  path=$(find "$from_build" -type f -name "$binary" -perm -u+x | head -n 1)
  [ -n "$path" ] || { log "no $binary in $from_build"; exit 1; }
  mkdir -p "$out"
  cp "$path" "$out/service"
  mapfile -t libs < <(ldd "$out/service" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }' | xargs -r realpath)
  # Asked at once, as /usr/lib/... and as /lib/... (either may be dpkg's name).
  { dpkg -S "${libs[@]}" "${libs[@]#/usr}" 2> /dev/null || true; } | cut -d: -f1 | sort -u > "$out/packages"
  [ -s "$out/packages" ] || { log "found no package holding the libraries of $binary"; exit 1; }
}

build_one() {
  local dockerfile=$1 image binary args=()
  image=$(image_of "$dockerfile")
  binary=$(binary_of "$dockerfile")
  if [ -n "$from_build" ]; then
    local context
    context=$(mktemp -d)
    collect "$binary" "$context/out"
    printf 'FROM scratch\nCOPY out /out\n' > "$context/Dockerfile"
    "$docker" build -q -t "cppsvc-built/$image" "$context" > /dev/null
    rm -rf "$context"
    args=(--build-arg "BUILT_FROM=cppsvc-built/$image")
  fi
  local started=$SECONDS
  "$docker" build --network host -q "${args[@]}" -f "$dockerfile" -t "$image:latest" "$repo" > /dev/null
  echo "images.sh: $image:latest ($binary) in $((SECONDS - started)) s"
}

mapfile -t dockerfiles < <(cd "$repo" && grep -rlE '^ARG SERVICE_BINARY=' generated --include=Dockerfile | sort)
[ "${#dockerfiles[@]}" -gt 0 ] || { log "no service Dockerfile under $repo/generated"; exit 1; }
built=0
for dockerfile in "${dockerfiles[@]}"; do
  image=$(image_of "$repo/$dockerfile")
  if [ "$#" -gt 0 ] && ! printf '%s\n' "$@" | grep -qx "$image"; then continue; fi
  build_one "$repo/$dockerfile"
  built=$((built + 1))
done
[ "$built" -gt 0 ] || { log "no Dockerfile builds any of: $*"; exit 1; }
