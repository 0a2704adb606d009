#!/bin/sh
# The tunnel half of the LVS-TUN real-server recipe, where the kernel has the modules
# (lab/decapsulation.ts decides; elsewhere the lab runs lvslab-decap instead):
#   kernel-tunnel.sh TYPE...   with TYPE ipip | gue <port> | gre, e.g. `gue 6080 gre`
# for each type brings tunl0 (gre0) up, for GUE adds `ip fou add port <port> gue`, turns
# rp_filter off on the device (the decapsulated packet's source is the client, reached through
# eth0), prints the lab's ready line and stays until SIGTERM, then removes the fou port again.
# Not run on the machine this lab was built on (no ipip, fou or ip_gre there).
set -eu
[ $# -gt 0 ] || { echo "usage: kernel-tunnel.sh ipip|gue <port>|gre ..." >&2; exit 2; }
port=""
said=""
devs=""
while [ $# -gt 0 ]; do
  type="$1"
  shift
  case "$type" in
  ipip) dev=tunl0 kind=ipip ;;
  gue)
    dev=tunl0 kind=ipip
    port="${1:?gue needs the port}"
    shift
    ;;
  gre) dev=gre0 kind=gre ;;
  *) echo "kernel-tunnel: unknown type $type (ipip, gue <port>, gre)" >&2; exit 2 ;;
  esac
  # The fallback device appears with the module; `ip link add` loads it where it is missing.
  if ! ip link show "$dev" >/dev/null 2>&1; then
    ip link add lvsprobe0 type "$kind" 2>/dev/null && ip link delete lvsprobe0
  fi
  ip link set "$dev" up
  if [ "$type" = gue ]; then ip fou add port "$port" gue; fi
  # /proc/sys is read-only in a container: write only what differs (Compose sets the rest).
  rp="/proc/sys/net/ipv4/conf/$dev/rp_filter"
  if [ "$(cat "$rp")" != 0 ]; then echo 0 >"$rp"; fi
  if [ "$type" = gue ]; then type="gue port $port"; fi
  said="$said${said:+, }$type"
  case ", $devs, " in *", $dev, "*) ;; *) devs="$devs${devs:+, }$dev" ;; esac
done
echo "lvslab-decap ready: kernel $said on $devs"
stop() {
  if [ -n "$port" ]; then ip fou del port "$port" 2>/dev/null || true; fi
  exit 0
}
trap stop TERM INT
while :; do sleep 3600 & wait $! || true; done
