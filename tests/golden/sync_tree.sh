#!/usr/bin/env bash
# Replaces the *.cppsvc.* and *.openapi.json files and migrations/*.sql of
# <dest> by those of <src> (update targets).
#   sync_tree.sh <src-dir> <dest-dir>
set -euo pipefail
src=$1 dest=$2
mkdir -p "$dest"
find "$dest" -type f \( -name '*.cppsvc*' -o -path '*.cppsvc.deploy/*' -o -name compose.yaml -o -name '*.openapi.json' -o -path '*/migrations/*.sql' \) -delete
(cd "$src" && find . -type f \( -name '*.cppsvc*' -o -path '*.cppsvc.deploy/*' -o -name compose.yaml -o -name '*.openapi.json' -o -path '*/migrations/*.sql' \)) | while read -r f; do
  mkdir -p "$dest/$(dirname "$f")"
  cp "$src/$f" "$dest/$f"
done
find "$dest" -type d -empty -delete
echo "updated $dest"
