#!/usr/bin/env bash
# Installs everything tsvisor and its tests need on a fresh Debian 12 machine
# (run as root), then builds: Debian packages, npm packages, the native addon
# and the stub (npm's install script), and the TypeScript.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  # nginx and redis come as servers the tests run themselves: their packages'
  # services must not start (a policy that refuses every service start, for this run).
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends \
    build-essential python3 make gcc g++ libc6-dev \
    busybox-static bash coreutils grep sed gawk findutils diffutils procps manpages-dev runsc \
    iproute2 util-linux bsdutils curl iptables strace \
    iperf3 socat golang-go nginx-light redis-server >/dev/null
fi
if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
npm run build
