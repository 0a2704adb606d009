#!/bin/sh
# Starts the lvslab director in its container. The interface facing the real servers is the
# one holding LVSLAB_PRIVATE_ADDR (none: no such interface): Docker names interfaces in its own order, so look it up.
set -eu

addr="${LVSLAB_PRIVATE_ADDR:-172.16.0.254}"
config="${LVSLAB_CONFIG:-/lvslab/lab/default-services.yaml}"
# none: the real servers are not on a network of the director's (VS/TUN), no replies return.
if [ "$addr" = none ]; then
  exec node --import tsx director/main.ts --config "$config" "$@"
fi
dev="$(ip -o -4 addr show | awk -v a="$addr" 'index($4, a "/") == 1 { print $2; exit }')"
if [ -z "$dev" ]; then
  echo "lvslab-director: no interface holds $addr; is the director on the private network?" >&2
  ip -o -4 addr show >&2
  exit 1
fi
# /proc/sys is read-only here: compose.yaml sets the sysctls, and the director writes only
# those that differ (director/host/host-setup.ts).
exec node --import tsx director/main.ts --config "$config" --private-dev "$dev" "$@"
