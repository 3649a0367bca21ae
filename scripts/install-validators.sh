#!/usr/bin/env bash
# Installs the validators of the generated deployment files
# (tools/validate-deploy: dockerfilelint, the compose specification's JSON
# schema with Ajv, the Kubernetes models' schemas) at the versions
# package-lock.json pins, with `npm ci`. Idempotent: skipped while the
# installed tree matches the lock file. Called by install-deps.sh.
set -euo pipefail
dir="$(cd "$(dirname "$0")/.." && pwd)/tools/validate-deploy"
stamp="$dir/node_modules/.installed-lock"
if [ -f "$stamp" ] && cmp -s "$stamp" "$dir/package-lock.json"; then
  echo "install-validators: up to date"
  exit 0
fi
(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
cp "$dir/package-lock.json" "$stamp"
echo "install-validators: installed $(cd "$dir" && npm ls --depth=0 --parseable | wc -l) packages"
