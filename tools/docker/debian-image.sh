#!/bin/bash
# Builds the Debian 12 image test/e2e/debian.test.mjs uses: a debootstrap
# minbase tree with a few packages people try first (procps, iproute2,
# python3, nginx-light, redis-server, curl, vim-tiny), imported into the
# local Docker engine as local/debian. Downloads ~100 MB from the Debian
# mirror in the host's apt sources, so it is NOT part of .ci/run: run it by
# hand (as root, after tools/docker/setup.sh docker), then
#   node test/run-all.mjs debian
#
#   tools/docker/debian-image.sh            # build the tree (if missing) and import it
#   TSV_DEBIAN_DIR=/path tools/docker/debian-image.sh
#
# Prints "ready" last on success.
set -uo pipefail
DIR=${TSV_DEBIAN_DIR:-/var/tmp/tsv-debian}
IMAGE=local/debian
PKGS=procps,iproute2,python3,python3-venv,nginx-light,redis-server,redis-tools,curl,vim-tiny,less,passwd,util-linux,login,sqlite3

fail() { echo "debian-image.sh: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || fail "must run as root"

# The mirror the host's apt already uses (deb822 or one-line sources).
mirror=$(grep -hoE 'https?://[^ ]+/debian/?' /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null | grep -v security | head -1)
mirror=${mirror:-http://deb.debian.org/debian}

if [ ! -x "$DIR/usr/bin/python3" ]; then
  if ! command -v debootstrap >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap >/dev/null || fail "apt-get install debootstrap failed"
  fi
  rm -rf "$DIR"
  debootstrap --variant=minbase --include="$PKGS" bookworm "$DIR" "$mirror" >"$DIR.log" 2>&1 ||
    fail "debootstrap failed (see $DIR.log)"
  # Services are started by hand in containers: keep postinst from trying.
  rm -f "$DIR/usr/sbin/policy-rc.d"
  chroot "$DIR" apt-get clean
fi
command -v docker >/dev/null || fail "no docker CLI (tools/docker/setup.sh docker)"
docker info >/dev/null 2>&1 || fail "dockerd is not running (tools/docker/setup.sh docker)"
tar -C "$DIR" -c . | docker import -c 'CMD ["bash"]' - "$IMAGE" >/dev/null || fail "docker import failed"
echo ready
