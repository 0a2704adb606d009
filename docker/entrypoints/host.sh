#!/bin/sh
# Entry point of every Compose lab host. Docker gives each container a default route via the
# bridge's .1 (the host's side); the lab's hosts route through the director instead:
#   LVSLAB_GATEWAY=<addr>   replace the default route with one via <addr>
#   LVSLAB_GATEWAY=none     remove the default route (the director: nothing leaves the lab)
#   LVSLAB_ROUTES="172.16.1.0/24=203.0.113.254 ..."   more routes, destination=next hop
#     or destination=dev:<device> for an on-link route (a DR router's route to the VIP)
#   LVSLAB_LO_ADDRESSES="203.0.113.5/32 ..."          addresses on lo (a DR real server's VIP)
# then runs the service's command. lab/compose/generate.ts writes these from the topology.
set -eu

say() { echo "lvslab-host: $*" >&2; }

# The interface holding IPv4 address $1, if any.
dev_of() {
  ip -o -4 addr show | awk -v a="$1" 'index($4, a "/") == 1 { print $2; exit }'
}

# LVSLAB_INTERFACES="eth0=198.51.100.254 eth1=172.16.0.254": Docker names a container's
# interfaces in an order of its own; rename them as lab/topology.ts does, so captures and
# tools find the public and private sides under the same names on both backends. Through
# temporary names, so that swapping eth0 and eth1 works.
if [ -n "${LVSLAB_INTERFACES:-}" ]; then
  for pair in $LVSLAB_INTERFACES; do
    want="${pair%%=*}"
    dev="$(dev_of "${pair#*=}")"
    if [ -z "$dev" ]; then
      say "no interface holds ${pair#*=} (for $want)"
      exit 1
    fi
    if [ "$dev" != "$want" ]; then
      ip link set dev "$dev" down
      ip link set dev "$dev" name "lvt-$want"
    fi
  done
  for pair in $LVSLAB_INTERFACES; do
    want="${pair%%=*}"
    if ip link show dev "lvt-$want" >/dev/null 2>&1; then
      ip link set dev "lvt-$want" name "$want"
      ip link set dev "$want" up
    fi
  done
fi

case "${LVSLAB_GATEWAY:-}" in
"") ;;
none) ip route del default 2>/dev/null || true ;;
*)
  if ! ip route replace default via "$LVSLAB_GATEWAY"; then
    say "cannot set the default route via $LVSLAB_GATEWAY (does the container have NET_ADMIN?)"
    exit 1
  fi
  ;;
esac

for pair in ${LVSLAB_ROUTES:-}; do
  # Not `set --`: "$@" is the service's command, run at the end.
  to="${pair#*=}"
  case "$to" in
  dev:*) kind=dev to="${to#dev:}" ;;
  *) kind=via ;;
  esac
  if ! ip route replace "${pair%%=*}" "$kind" "$to"; then
    say "cannot add the route to ${pair%%=*} $kind $to"
    exit 1
  fi
done
for addr in ${LVSLAB_LO_ADDRESSES:-}; do
  if ! ip addr replace "$addr" dev lo; then
    say "cannot add $addr to lo"
    exit 1
  fi
done

# The repository is bind-mounted at /lvslab; its programs need its npm packages.
if [ ! -d /lvslab/node_modules/tsx ]; then
  say "/lvslab/node_modules/tsx is missing: run 'npm ci' in the repository (./lvslab does it) and start the lab again"
  exit 1
fi

exec "$@"
