#!/usr/bin/env bash
# The generated Dockerfiles, really built and run: a private Docker engine
# (scripts/docker.sh, with a debian:bookworm-slim made by debootstrap), every
# service's image built from its Dockerfile with the binaries of this build
# (scripts/images.sh --from-build: the final stages as they are, without
# compiling again), and the shop started from those images
# (scripts/shop.sh, SHOP_IMAGES=1), checked by tests/e2e/in_containers.sh,
# which then runs the shop's story and every gateway route on it.
#
#   images.sh <repo> <build-dir> <work-dir> <shop_scenario binary>
#
# Skips (exit 77) without root or Docker's engine, except under CI=true.
set -euo pipefail
repo=$1 build=$2 work=$3 scenario=$4

engine=$build/docker
cleanup() { bash "$repo/scripts/docker.sh" stop "$engine" || true; }
set +e
started=$SECONDS
out=$(bash "$repo/scripts/docker.sh" start "$engine" 2>&1)
rc=$?
set -e
if [ "$rc" -eq 3 ] && [ "${CI:-}" != true ]; then
  echo "SKIP: $out"
  exit 77
fi
[ "$rc" -eq 0 ] || { echo "$out" >&2; exit 1; }
trap cleanup EXIT
export "${out?}"  # DOCKER_HOST=...
bash "$repo/scripts/docker.sh" base "$engine"
echo "images: engine and base image in $((SECONDS - started)) s"
started=$SECONDS
bash "$repo/scripts/images.sh" --from-build "$build"
echo "images: built in $((SECONDS - started)) s"
# gateway_routes.sh's slow client takes a second with this read timeout.
SHOP_IMAGES=1 SHOP_EXTRA_ENV=GATEWAY_READ_TIMEOUT_MS=1000 \
  bash "$repo/tests/e2e/with_shop.sh" "$repo" "$build" "$work" \
  "$repo/tests/e2e/in_containers.sh" "$scenario" "$repo/tests/e2e/gateway_routes.sh"
