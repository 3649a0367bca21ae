#!/usr/bin/env bash
# Checks a shop whose services and gateway run in containers of their
# generated images (scripts/shop.sh with SHOP_IMAGES=1), then runs programs
# against it (the shop's story over gRPC, every gateway route over HTTP):
# every image is in a running container, as the images' non-root user, and
# Docker's own HEALTHCHECK (from the Dockerfile) reports it healthy.
#
#   in_containers.sh --env <shop.env> <program>...   (each run with --env <shop.env>)
set -euo pipefail
[ "$1" = --env ] && [ "$#" -ge 3 ] || { echo "usage: $0 --env <shop.env> <program>..." >&2; exit 2; }
env_file=$2
shift 2
docker=${SHOP_DOCKER:-/usr/bin/docker}
shop_dir=$(sed -n 's/^SHOP_DIR=//p' "$env_file")
tag=$(printf '%s' "$shop_dir" | md5sum | cut -c1-8)

mapfile -t containers < <("$docker" ps --format '{{.Names}}' | grep "^shop-$tag-" | sort)
expected=$(cd "$(dirname "$0")/../.." && grep -rlE '^ARG SERVICE_BINARY=' generated --include=Dockerfile | wc -l)
if [ "${#containers[@]}" -ne "$expected" ]; then
  echo "in_containers: ${#containers[@]} containers run (${containers[*]}), expected one per Dockerfile ($expected)" >&2
  exit 1
fi

deadline=$((SECONDS + 90))
for c in "${containers[@]}"; do
  user=$("$docker" inspect -f '{{.Config.User}}' "$c")
  [ "$user" = 10001 ] || { echo "in_containers: $c runs as '$user', not 10001" >&2; exit 1; }
  while :; do
    health=$("$docker" inspect -f '{{.State.Health.Status}}' "$c")
    [ "$health" = healthy ] && break
    if [ "$health" = unhealthy ] || [ "$SECONDS" -ge "$deadline" ]; then
      echo "in_containers: $c is $health; its last health checks:" >&2
      "$docker" inspect -f '{{range .State.Health.Log}}{{.ExitCode}} {{.Output}}{{end}}' "$c" >&2
      exit 1
    fi
    sleep 1
  done
  echo "in_containers: $c runs as $user and is healthy"
done
for program in "$@"; do
  echo "in_containers: $(basename "$program")"
  "$program" --env "$env_file"
done
