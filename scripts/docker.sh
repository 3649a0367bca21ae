#!/usr/bin/env bash
# Runs a private Docker engine (Debian's docker.io) for the image tests and
# scripts/images.sh, and makes the `debian:bookworm-slim` base image offline
# when the engine lacks it: no container registry is needed.
#
#   scripts/docker.sh start <dir>   starts dockerd with its data in <dir>/data
#                                   and its socket at <dir>/docker.sock (unless
#                                   one already answers there); prints
#                                   DOCKER_HOST=unix://<dir>/docker.sock
#   scripts/docker.sh base <dir>    makes debian:bookworm-slim in that engine
#                                   if it has none: debootstrap --variant=minbase
#                                   from the Debian mirror apt uses, with the
#                                   apt sources of Debian's own image
#                                   (bookworm, -updates, -security)
#   scripts/docker.sh stop <dir>    stops the engine of <dir>
#
# Needs root (dockerd, debootstrap). Exit status 3: docker.io or debootstrap
# is not installed (scripts/install-deps.sh installs both). The client used
# is Debian's /usr/bin/docker, which matches the engine and builds with
# BuildKit (DOCKER_BUILDKIT=1) without a plugin.
set -euo pipefail

usage() {
  echo "usage: $0 start|base|stop <dir>" >&2
  exit 2
}
[ "$#" -eq 2 ] || usage
cmd=$1
mkdir -p "$2"
dir=$(cd "$2" && pwd)
docker=/usr/bin/docker
export DOCKER_HOST=unix://$dir/docker.sock

log() { echo "docker.sh: $*" >&2; }

need() {
  local tool
  for tool in "$@"; do
    if ! command -v "$tool" > /dev/null; then
      log "$tool is missing: bash scripts/install-deps.sh (Debian's docker.io and debootstrap)"
      exit 3
    fi
  done
  [ -x "$docker" ] || { log "$docker is missing: apt-get install docker.io"; exit 3; }
  [ "$(id -u)" -eq 0 ] || { log "dockerd and debootstrap need root"; exit 3; }
}

answers() { "$docker" version > /dev/null 2>&1; }

start() {
  need dockerd
  if ! answers; then
    mkdir -p "$dir/data"
    # No default bridge: builds and `docker run` use the host's network
    # (--network host); compose's own networks get the engine's rules.
    setsid dockerd --data-root "$dir/data" --host "$DOCKER_HOST" \
      --pidfile "$dir/dockerd.pid" --exec-root "$dir/exec" --bridge none \
      < /dev/null >> "$dir/dockerd.log" 2>&1 &
    local waited=0
    until answers; do
      if [ "$waited" -ge 300 ]; then
        log "dockerd did not answer within 30 s; last lines of $dir/dockerd.log:"
        tail -n 20 "$dir/dockerd.log" >&2
        exit 1
      fi
      sleep 0.1
      waited=$((waited + 1))
    done
  fi
  echo "DOCKER_HOST=$DOCKER_HOST"
}

# The mirror apt uses here (the first deb.debian.org-style URI of the main
# archive), so debootstrap needs nothing apt does not.
mirror() {
  local uri
  uri=$(grep -hsE '^(URIs:|deb )' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2> /dev/null |
    grep -v security | sed -E 's/^URIs: *//; s/^deb (\[[^]]*\] )?//; s/ .*//' | head -n 1)
  printf '%s' "${uri:-http://deb.debian.org/debian}"
}

base() {
  need debootstrap
  answers || { log "no engine answers at $DOCKER_HOST: $0 start $dir"; exit 1; }
  if "$docker" image inspect debian:bookworm-slim > /dev/null 2>&1; then
    echo "docker.sh: debian:bookworm-slim is present"
    return
  fi
  local root=$dir/rootfs mirror_uri
  mirror_uri=$(mirror)
  rm -rf "$root"
  debootstrap --variant=minbase bookworm "$root" "$mirror_uri" > "$dir/debootstrap.log" 2>&1 || {
    log "debootstrap from $mirror_uri failed; last lines of $dir/debootstrap.log:"
    tail -n 20 "$dir/debootstrap.log" >&2
    exit 1
  }
  rm -f "$root/etc/apt/sources.list"
  cat > "$root/etc/apt/sources.list.d/debian.sources" << EOF
Types: deb
URIs: $mirror_uri
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${mirror_uri%/debian}/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  tar -C "$root" -c . | "$docker" import - debian:bookworm-slim > /dev/null
  rm -rf "$root"
  echo "docker.sh: made debian:bookworm-slim with debootstrap from $mirror_uri"
}

stop() {
  local pid waited=0
  if [ -s "$dir/dockerd.pid" ]; then
    pid=$(cat "$dir/dockerd.pid")
    kill -TERM "$pid" 2> /dev/null || true
    while kill -0 "$pid" 2> /dev/null && [ "$waited" -lt 300 ]; do
      sleep 0.1
      waited=$((waited + 1))
    done
    kill -KILL "$pid" 2> /dev/null || true
  fi
  # What the engine leaves mounted (its default network namespace), so that
  # <dir> can be removed.
  awk -v d="$dir/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r | xargs -r umount 2> /dev/null || true
}

case "$cmd" in
  start) start ;;
  base) base ;;
  stop) stop ;;
  *) usage ;;
esac
