#!/usr/bin/env bash
# The generated deployment files pass standard validators (installed by
# scripts/install-validators.sh): every Dockerfile dockerfilelint without an
# issue, every compose.yaml the compose specification's JSON schema, every
# Kustomize base `kubectl kustomize` and its objects the Kubernetes schemas
# of the pinned kubernetes-models.
#   validate.sh <repo-root> <dir>...
set -euo pipefail
root=$1; shift
tools=$root/tools/validate-deploy
[ -x "$tools/node_modules/.bin/dockerfilelint" ] || {
  echo "FAIL: validators not installed (bash scripts/install-validators.sh)"; exit 1; }
command -v kubectl > /dev/null || { echo "FAIL: kubectl not found (scripts/install-deps.sh)"; exit 1; }
status=0 dockerfiles=0 bases=0
mapfile -t composes < <(find "$@" -name compose.yaml | LC_ALL=C sort)
while read -r f; do
  grep -q '^FROM ' "$f" || continue  # a file without a service
  dockerfiles=$((dockerfiles + 1))
  out=$("$tools/node_modules/.bin/dockerfilelint" "$f") || { echo "$out"; status=1; }
done < <(find "$@" -path '*.cppsvc.deploy/Dockerfile' | LC_ALL=C sort)
while read -r k; do
  grep -q '^kind: Kustomization' "$k/kustomization.yaml" || continue
  bases=$((bases + 1))
  if ! kubectl kustomize "$k" > /tmp/validate-deploy.$$; then echo "FAIL: kustomize $k"; status=1; continue; fi
  node "$tools/validate.mjs" kubernetes /tmp/validate-deploy.$$ > /dev/null || { echo "FAIL: $k"; status=1; }
done < <(find "$@" -path '*.cppsvc.deploy/k8s' -type d | LC_ALL=C sort)
rm -f /tmp/validate-deploy.$$
[ "${#composes[@]}" -eq 0 ] || node "$tools/validate.mjs" compose "${composes[@]}" || status=1
if [ "$dockerfiles" -eq 0 ] || [ "$bases" -eq 0 ] || [ "${#composes[@]}" -eq 0 ]; then
  echo "FAIL: nothing to validate under $*"; exit 1
fi
[ $status -eq 0 ] || exit 1
echo "ok: $dockerfiles Dockerfiles, $bases Kustomize bases, ${#composes[@]} compose files valid"
