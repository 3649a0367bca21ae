#!/usr/bin/env bash
# Every OpenAPI document the plugin generates passes a standard validator,
# @apidevtools/swagger-parser (tools/validate-openapi, installed with its
# lock file by scripts/install-deps.sh), and the validator refuses a broken
# one, so a validator that accepts anything fails the test.
#   validate.sh <repo> <directory or file>...
set -euo pipefail
repo=$1
shift
tool="$repo/tools/validate-openapi"
if ! command -v node >/dev/null 2>&1 || [ ! -d "$tool/node_modules/@apidevtools/swagger-parser" ]; then
  why="the OpenAPI validator is not installed: run scripts/install-deps.sh (npm ci in tools/validate-openapi)"
  # CI must run it: a missing validator there is a failure, not a skip.
  if [ "${CI:-}" = "true" ]; then
    echo "FAIL: $why"
    exit 1
  fi
  echo "SKIP: $why"
  exit 77
fi
here=$(dirname "$0")
for broken in "$here"/invalid/*.openapi.json; do
  if node "$tool/validate.js" "$broken" >/dev/null 2>&1; then
    echo "FAIL: the validator accepts $broken"
    exit 1
  fi
done
node "$tool/validate.js" "$@"
