#!/usr/bin/env bash
# Installs the validators the tests run on generated files, each an npm
# project under tools/ at the versions its package-lock.json pins, with
# `npm ci`:
#   tools/validate-deploy   dockerfilelint, the compose specification's JSON
#                           schema with Ajv, the Kubernetes models' schemas
#   tools/validate-openapi  @apidevtools/swagger-parser (OpenAPI 3.0)
# Idempotent: a project is skipped while its installed tree matches its lock
# file. Called by install-deps.sh.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
for name in validate-deploy validate-openapi; do
  dir="$root/tools/$name"
  stamp="$dir/node_modules/.installed-lock"
  if [ -f "$stamp" ] && cmp -s "$stamp" "$dir/package-lock.json"; then
    echo "install-validators: tools/$name is up to date"
    continue
  fi
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  cp "$dir/package-lock.json" "$stamp"
  echo "install-validators: tools/$name: $(cd "$dir" && npm ls --depth=0 --parseable | wc -l) packages"
done
