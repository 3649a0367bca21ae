#!/usr/bin/env bash
# Installs every Debian 12 package cpp-svc needs to build, test, benchmark and
# run the commerce demo. Idempotent: packages already present are left alone.
# Used by the README, .ci/run and the service Dockerfiles.
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build pkg-config git clang-format clang-tidy
  # protobuf and gRPC (protoc plugin API + runtime)
  protobuf-compiler libprotobuf-dev libprotoc-dev
  protobuf-compiler-grpc libgrpc++-dev
  # generator templates and JSON
  libkainjow-mustache-dev nlohmann-json3-dev
  # runtime libraries
  libpqxx-dev libpq-dev libnats-dev libcpp-jwt-dev libssl-dev libsodium-dev
  prometheus-cpp-dev libboost-dev libboost-system-dev
  # tests and benchmarks (Node.js runs the OpenAPI validator; curl and jq the
  # gateway's end-to-end test)
  nodejs googletest libgtest-dev libgmock-dev libbenchmark-dev curl jq
  # libFuzzer targets (clang with its sanitizer and fuzzer runtimes); RE2
  clang-14 libclang-rt-14-dev libre2-dev
  # real servers for integration tests and the demo
  postgresql-15 postgresql-contrib nats-server
)

if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# npm comes with Node.js from other sources (NodeSource); Debian's npm
# package only where there is none.
if ! command -v npm >/dev/null 2>&1; then
  missing+=(npm)
fi

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
else
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The OpenAPI validator of the tests (openapi.validate), from the npm
# registry at the versions its lock file pins; kept in its own directory.
validator="$(cd "$(dirname "$0")/.." && pwd)/tools/validate-openapi"
if [ -f "$validator/package-lock.json" ]; then
  if [ "$validator/package-lock.json" -nt "$validator/node_modules/.package-lock.json" ]; then
    echo "install-deps: npm ci in tools/validate-openapi"
    (cd "$validator" && npm ci --no-audit --no-fund --loglevel=error)
  else
    echo "install-deps: tools/validate-openapi is up to date"
  fi
fi
