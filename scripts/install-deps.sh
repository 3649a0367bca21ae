#!/usr/bin/env bash
# Installs every Debian 12 package cpp-svc needs to build, test, benchmark and
# run the commerce demo. Idempotent: packages already present are left alone.
# Used by the README, .ci/run and the service Dockerfiles, whose build stage
# sets CPPSVC_DEPS=build: only what building the services needs.
set -euo pipefail
cd "$(dirname "$0")/.."

build_packages=(
  # toolchain
  build-essential cmake ninja-build pkg-config git clang-format clang-tidy
  # protobuf and gRPC (protoc plugin API + runtime)
  protobuf-compiler libprotobuf-dev libprotoc-dev
  protobuf-compiler-grpc libgrpc++-dev
  # generator templates and JSON
  libkainjow-mustache-dev nlohmann-json3-dev
  # runtime libraries
  libpqxx-dev libpq-dev libnats-dev libcpp-jwt-dev libssl-dev libsodium-dev
  prometheus-cpp-dev libboost-dev libboost-system-dev libre2-dev
)
packages=(
  "${build_packages[@]}"
  # tests and benchmarks (curl and jq: the gateway's end-to-end test; wrk:
  # its benchmark)
  googletest libgtest-dev libgmock-dev libbenchmark-dev curl jq wrk
  # libFuzzer targets (clang with its sanitizer and fuzzer runtimes)
  clang-14 libclang-rt-14-dev
  # real servers for integration tests and the demo
  postgresql-15 postgresql-contrib nats-server
  # validators of the generated deployment files (tools/validate-deploy)
  kubernetes-client docker.io docker-compose debootstrap
)
if [ "${CPPSVC_DEPS:-all}" = build ]; then packages=("${build_packages[@]}"); fi
# Debian's kubernetes-client and another kubectl (e.g. a cloud SDK's) cannot
# both be installed; any kubectl with kustomize does.
if command -v kubectl > /dev/null; then
  packages=("${packages[@]/kubernetes-client/}")
fi
# Node.js and npm for the validators (deployment files, OpenAPI), unless the machine has them already.
if [ "${CPPSVC_DEPS:-all}" != build ] && ! command -v npm > /dev/null; then
  packages+=(nodejs npm)
fi

if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi

missing=()
for p in "${packages[@]}"; do
  [ -n "$p" ] || continue
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
else
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [ "${CPPSVC_DEPS:-all}" != build ]; then
  bash scripts/install-validators.sh
fi
