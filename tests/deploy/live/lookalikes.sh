#!/bin/bash
# Test-only: builds local look-alikes of the third-party base images the Dockerfiles and
# docker-compose.yml name, for a host that cannot pull them (tests/deploy/live/README.md).
# The Dockerfiles keep the official images; these only stand in for them on this host:
#   python:3.11.14-slim-bookworm  Debian bookworm's Python 3.11
#   node:20.19.5-bookworm-slim    this host's Node 20 and npm
#   postgres:16.10-bookworm       Debian bookworm's PostgreSQL 15, with a look-alike entrypoint
#   redis:7.4.5-bookworm          Debian bookworm's Redis 7.0
#   prom/prometheus:v3.5.0        Debian bookworm's Prometheus 2.42 (`--profile metrics`)
# Needs root (debootstrap), Docker, and Debian's mirror. One build at a time: the host is shared.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="${OASIS_LOOKALIKE_ROOT:-/var/tmp/oasis-lookalike/rootfs}"
mirror="${OASIS_LOOKALIKE_MIRROR:-http://deb.debian.org/debian}"
docker="${DOCKER:-docker}"

if ! "$docker" image inspect oasis-lookalike/bookworm:base >/dev/null 2>&1; then
  if [ ! -x "$root/usr/bin/apt-get" ]; then
    debootstrap --variant=minbase bookworm "$root" "$mirror"
  fi
  cat > "$root/etc/apt/sources.list" <<SOURCES
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
SOURCES
  tar -C "$root" -c . | "$docker" import --change 'CMD ["bash"]' --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' - oasis-lookalike/bookworm:base
fi

build() {  # tag, Dockerfile, context
  if "$docker" image inspect "$1" >/dev/null 2>&1 && [ -z "${OASIS_LOOKALIKE_REBUILD:-}" ]; then
    echo "$1: already here"
    return
  fi
  "$docker" build --network host -t "$1" -f "$2" "$3"
}

ca_context="$(mktemp -d)"
node_context="$(mktemp -d)"
trap 'rm -rf "$ca_context" "$node_context"' EXIT
cp /usr/local/share/ca-certificates/*.crt "$ca_context/" 2>/dev/null || touch "$ca_context/none.crt"
build oasis-lookalike/bookworm:ca "$here/ca.Dockerfile" "$ca_context"
build python:3.11.14-slim-bookworm "$here/python.Dockerfile" "$here"
build postgres:16.10-bookworm "$here/postgres.Dockerfile" "$here"
build redis:7.4.5-bookworm "$here/redis.Dockerfile" "$here"
build prom/prometheus:v3.5.0 "$here/prometheus.Dockerfile" "$here"

cp "$(command -v node)" "$node_context/node"
cp -r "$(dirname "$(readlink -f "$(command -v npm)")")/.." "$node_context/npm"
build node:20.19.5-bookworm-slim "$here/node.Dockerfile" "$node_context"
"$docker" image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep -E '^(python|node|postgres|redis|prom/prometheus|oasis-lookalike)'
