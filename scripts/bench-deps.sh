#!/usr/bin/env bash
# Installs the tools `npm run bench` drives, only those missing: nftables (kernel DNAT peer),
# HAProxy (application-level peer), wrk (connection-rate load), nginx (real-server HTTP),
# iperf3 (bulk TCP and UDP), perf (the director's syscalls per packet). Their packaged
# services are never started: the bench runs its own instances inside the lab's namespaces,
# and nothing may listen in the root namespace.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
  echo "bench-deps: installing packages needs root; run it with sudo" >&2
  exit 1
fi

# Each entry: command:debian-package
tools="nft:nftables haproxy:haproxy wrk:wrk nginx:nginx-light iperf3:iperf3 perf:linux-perf"
missing=""
for pair in $tools; do
  cmd="${pair%%:*}"
  # nginx and haproxy live in /usr/sbin, which a sudo PATH may lack.
  command -v "$cmd" >/dev/null 2>&1 || [ -x "/usr/sbin/$cmd" ] || missing="$missing ${pair#*:}"
done
[ -z "$missing" ] && exit 0

echo "bench-deps: installing Debian packages:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# invoke-rc.d asks policy-rc.d whether to start a service; 101 = no. Put one in place for
# the install if the machine has none, and remove only what we put there.
policy=/usr/sbin/policy-rc.d
made_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  made_policy=1
fi
cleanup() { if [ "$made_policy" = 1 ]; then rm -f "$policy"; fi; }
trap cleanup EXIT
apt-get -o DPkg::Lock::Timeout=300 update -qq >&2
# shellcheck disable=SC2086
apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends $missing >&2
