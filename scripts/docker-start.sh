#!/usr/bin/env bash
# Makes a Docker engine fit for the Compose lab available: installs docker.io and
# docker-compose (Debian's packages) when missing, and starts dockerd in a network namespace
# of its own when no engine answers. Idempotent: with the engine up it only checks.
#
#   sudo scripts/docker-start.sh          # then scripts/docker-base-image.sh
#   sudo scripts/docker-start.sh --stop   # stop the dockerd this script started
#
# Why a namespace of its own (lvslabdocker): Docker's bridges live in dockerd's network
# namespace, and where the kernel filters bridged packets with iptables (br_netfilter, built
# in on some kernels), Docker's rules for internal networks drop every packet whose source or
# destination lies outside the network's subnet: the client's packets to the VIP and the
# real servers' replies. In its own namespace dockerd's bridges, iptables rules and docker0
# stay out of the machine's own namespace, and bridged packets are not filtered there
# (net.bridge.bridge-nf-call-iptables=0 in that namespace only; --ip-forward=false so that
# dockerd does not turn it back on and nothing is routed there).
#
# The PID goes to /run/lvslab-dockerd.pid, the log to /var/log/lvslab-dockerd.log. Waits at
# most LVSLAB_DOCKERD_WAIT seconds (default 60) for the engine to answer.
set -euo pipefail

NETNS=lvslabdocker
WAIT="${LVSLAB_DOCKERD_WAIT:-60}"
PIDFILE=/run/lvslab-dockerd.pid
LOG=/var/log/lvslab-dockerd.log

say() { echo "docker-start: $*" >&2; }

if [ "$(id -u)" -ne 0 ]; then
  say "this needs root (apt-get, dockerd); run it with sudo"
  exit 1
fi

# The PID in the file, when that process is still a dockerd: a PID reused by another program
# after a reboot or a crash is never signalled.
our_pid() {
  [ -f "$PIDFILE" ] || return 1
  local pid
  pid="$(cat "$PIDFILE")"
  [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dockerd ] && echo "$pid"
}

if [ "${1:-}" = "--stop" ]; then
  if pid="$(our_pid)"; then
    kill "$pid"
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    say "stopped dockerd (pid $pid)"
  else
    say "no dockerd started by this script is running"
  fi
  rm -f "$PIDFILE"
  # The namespace goes too: Docker's bridges and rules go with it.
  ip netns delete "$NETNS" 2>/dev/null || true
  exit 0
fi

# Each entry: command:debian-package. A docker client elsewhere (e.g. /usr/local/bin) is fine.
missing=""
for pair in dockerd:docker.io docker:docker.io docker-compose:docker-compose nsenter:util-linux \
  ip:iproute2 iptables:iptables; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || missing="$missing ${pair#*:}"
done
if [ -n "$missing" ]; then
  # shellcheck disable=SC2086
  missing="$(printf '%s\n' $missing | sort -u | tr '\n' ' ')"
  say "installing Debian packages: $missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing >&2
fi

# Reads a bridge-netfilter switch as seen from the network namespace of process $1.
bridge_filtering() {
  nsenter --net="/proc/$1/ns/net" cat /proc/sys/net/bridge/bridge-nf-call-iptables 2>/dev/null ||
    echo 0
}

if timeout 10 docker info >/dev/null 2>&1; then
  if pid="$(our_pid)"; then
    say "the Docker engine is running (dockerd pid $pid, network namespace $NETNS)"
    exit 0
  fi
  # Someone else's engine: usable when its bridges are not filtered by iptables.
  other="$(pidof dockerd 2>/dev/null | awk '{print $1}')"
  if [ -n "$other" ] && [ "$(bridge_filtering "$other")" = "1" ]; then
    say "a Docker engine runs (dockerd pid $other) but the kernel filters its bridged packets" \
      "with iptables (net.bridge.bridge-nf-call-iptables=1), so Docker's internal-network rules" \
      "would drop the lab's traffic to the VIP. Stop that engine and run this script again (it" \
      "starts dockerd in a network namespace of its own), or see docker/README.md."
    exit 1
  fi
  say "the Docker engine is running${other:+ (dockerd pid $other)}"
  exit 0
fi

if ! ip netns list | grep -qx "$NETNS\( .*\)\?"; then
  ip netns add "$NETNS"
fi
ip -n "$NETNS" link set lo up
for table in iptables ip6tables arptables; do
  f="/proc/sys/net/bridge/bridge-nf-call-$table"
  ip netns exec "$NETNS" sh -c "[ ! -e $f ] || echo 0 > $f"
done

if pid="$(our_pid)"; then
  say "dockerd (pid $pid) runs but does not answer yet"
else
  say "starting dockerd in network namespace $NETNS (log: $LOG)"
  # setsid: dockerd must outlive this script and the shell that ran it. nsenter --net changes
  # only the network namespace: dockerd keeps the machine's mounts.
  setsid nsenter --net="/run/netns/$NETNS" dockerd --ip-forward=false >>"$LOG" 2>&1 </dev/null &
  echo $! >"$PIDFILE"
fi

for _ in $(seq 1 "$WAIT"); do
  if timeout 10 docker info >/dev/null 2>&1; then
    say "the Docker engine answers (dockerd pid $(cat "$PIDFILE"), network namespace $NETNS)"
    exit 0
  fi
  sleep 1
done
say "dockerd did not answer within ${WAIT}s; see $LOG (last lines below)"
tail -n 20 "$LOG" >&2 2>/dev/null || true
exit 1
