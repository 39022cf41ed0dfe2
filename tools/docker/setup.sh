#!/bin/bash
# Brings up a local Docker engine (or a standalone containerd) with tsvisor
# registered as a runtime and the busybox test image imported, for
# test/e2e/docker.test.mjs. Idempotent; needs root. No registry is used: the
# image is built from the host's busybox (tools/docker/mkimage.mjs).
#
#   tools/docker/setup.sh docker       # dockerd (Debian docker.io), runtime "tsvisor", image local/busybox
#   tools/docker/setup.sh containerd   # a private containerd at /run/tsv-containerd/containerd.sock, image imported (namespace tsv)
#   tools/docker/setup.sh stop         # stops what this script started
#
# TSV_DOCKER_INSTALL=1 installs docker.io/containerd with apt-get when missing.
# Prints "ready" last on success; on failure the reason, and exits 1.
set -uo pipefail
REPO="$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd)"
WORK=${TSV_DOCKER_WORK:-/var/tmp/tsv-docker}
RUNTIME=${TSV_DOCKER_RUNTIME:-tsvisor}
IMAGE=local/busybox:latest
CTD_DIR=/run/tsv-containerd
mkdir -p "$WORK"

fail() { echo "setup.sh: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || fail "must run as root"

need() { # need BINARY PACKAGE
  command -v "$1" >/dev/null && return 0
  if [ "${TSV_DOCKER_INSTALL:-0}" = 1 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$2" >"$WORK/apt.log" 2>&1 || fail "apt-get install $2 failed (see $WORK/apt.log)"
  fi
  command -v "$1" >/dev/null || fail "$1 is not installed (apt-get install $2, or TSV_DOCKER_INSTALL=1)"
}

image() {
  [ -f "$WORK/img/image.tar" ] || node "$REPO/tools/docker/mkimage.mjs" "$WORK/img" "docker.io/$IMAGE" >/dev/null || fail "building the image failed"
}

wait_for() { # wait_for SECONDS CMD...
  local n=$(( $1 * 5 )); shift
  for _ in $(seq "$n"); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
  return 1
}

case "${1:-docker}" in
docker)
  need dockerd docker.io
  command -v docker >/dev/null || fail "no docker CLI"
  # Docker refuses a setting given both as a flag and in daemon.json: all in the file.
  # The default bridge (docker0) and iptables (published ports, NAT) as Docker
  # users have them, when the host's iptables has a nat table; without one,
  # no bridge and no iptables (earlier versions of this script always wrote
  # that: it is undone when iptables works). TSV_DOCKER_NET=none forces it off.
  nat=false
  if [ "${TSV_DOCKER_NET:-}" != none ] && command -v iptables >/dev/null && iptables -t nat -S >/dev/null 2>&1; then nat=true; fi
  rm -f "$WORK/daemon.json.changed"
  NAT=$nat WORK=$WORK node -e '
    const fs = require("fs"); const f = "/etc/docker/daemon.json";
    let c = {}; try { c = JSON.parse(fs.readFileSync(f, "utf8") || "{}"); } catch {}
    if (process.env.NAT === "true") {
      if (c.iptables === false) delete c.iptables;
      if (c.bridge === "none") delete c.bridge;
    } else {
      if (c.iptables === undefined) c.iptables = false;
      if (c.bridge === undefined) c.bridge = "none";
    }
    if (c["storage-driver"] === undefined) c["storage-driver"] = "vfs";
    const text = JSON.stringify(c, null, 4) + "\n";
    let old = ""; try { old = fs.readFileSync(f, "utf8"); } catch {}
    if (old !== text) { fs.mkdirSync("/etc/docker", { recursive: true }); fs.writeFileSync(f, text); fs.writeFileSync(process.env.WORK + "/daemon.json.changed", ""); }' || fail "cannot write /etc/docker/daemon.json"
  "$REPO/bin/runsc" install --runtime "$RUNTIME" ${TSV_DOCKER_RUNTIME_ARGS:+-- $TSV_DOCKER_RUNTIME_ARGS} >/dev/null || fail "runsc install failed"
  if docker info >/dev/null 2>&1 && [ -f "$WORK/daemon.json.changed" ] && [ -f "$WORK/dockerd.pid" ] && [ "$(cat "$WORK/dockerd.pid")" = "$(pidof dockerd)" ]; then
    # bridge and iptables are read at start only: restart the engine this script started.
    kill "$(cat "$WORK/dockerd.pid")"
    wait_for 30 sh -c '! pidof dockerd' || fail "dockerd did not stop"
  fi
  if docker info >/dev/null 2>&1; then
    [ -f "$WORK/daemon.json.changed" ] && echo "setup.sh: /etc/docker/daemon.json changed (bridge/iptables): restart dockerd for it to apply" >&2
    kill -HUP "$(pidof dockerd)" 2>/dev/null
  else
    setsid dockerd >"$WORK/dockerd.log" 2>&1 < /dev/null &
    echo $! > "$WORK/dockerd.pid"
    wait_for 30 docker info || fail "dockerd did not start: $(tail -5 "$WORK/dockerd.log")"
  fi
  wait_for 10 sh -c "docker info 2>/dev/null | grep -q 'Runtimes:.*$RUNTIME'" || fail "dockerd did not load runtime $RUNTIME"
  if ! docker image inspect "$IMAGE" >/dev/null 2>&1; then
    image
    docker import "$WORK/img/rootfs.tar" "$IMAGE" >/dev/null || fail "docker import failed"
  fi
  echo ready
  ;;
containerd)
  need containerd containerd
  need containerd-shim-runc-v2 containerd
  image
  export CONTAINERD_ADDRESS=$CTD_DIR/containerd.sock CONTAINERD_NAMESPACE=tsv
  if ! ctr version >/dev/null 2>&1; then
    mkdir -p "$CTD_DIR"
    cat > "$WORK/containerd.toml" <<TOML
version = 2
root = "$WORK/containerd-root"
state = "$CTD_DIR"
[grpc]
  address = "$CTD_DIR/containerd.sock"
[plugins."io.containerd.grpc.v1.cri"]
  disable = true
TOML
    setsid containerd --config "$WORK/containerd.toml" >"$WORK/containerd.log" 2>&1 < /dev/null &
    echo $! > "$WORK/containerd.pid"
    wait_for 30 ctr version || fail "containerd did not start: $(tail -5 "$WORK/containerd.log")"
  fi
  ctr images ls -q | grep -qx "docker.io/$IMAGE" || ctr images import "$WORK/img/image.tar" >/dev/null || fail "ctr images import failed"
  echo ready
  ;;
stop)
  for p in dockerd containerd; do
    [ -f "$WORK/$p.pid" ] && kill "$(cat "$WORK/$p.pid")" 2>/dev/null && rm -f "$WORK/$p.pid"
  done
  echo stopped
  ;;
*) fail "usage: setup.sh docker|containerd|stop" ;;
esac
