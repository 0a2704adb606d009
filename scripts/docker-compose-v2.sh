#!/usr/bin/env bash
# Installs Docker Compose v2 (the `docker compose` CLI plugin) where only v1 is packaged:
# Debian bookworm ships docker-compose 1.29, trixie ships 2.x. Takes trixie's package from the
# machine's own Debian mirror, checks its SHA256 against the signed-over package index, and
# unpacks only the plugin into /usr/local/lib/docker/cli-plugins. Idempotent: nothing happens
# when `docker compose version` already works. Lets the lab be tested with both CLIs.
#
#   sudo scripts/docker-compose-v2.sh
set -euo pipefail

say() { echo "docker-compose-v2: $*" >&2; }
PLUGIN_DIR=/usr/local/lib/docker/cli-plugins
SUITE="${LVSLAB_COMPOSE_V2_SUITE:-trixie}"

if docker compose version >/dev/null 2>&1; then
  say "$(docker compose version) is already there"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  say "this needs root (it writes $PLUGIN_DIR); run it with sudo"
  exit 1
fi
mirror=""
if [ -f /etc/apt/sources.list.d/debian.sources ]; then
  mirror="$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources)"
fi
mirror="${LVSLAB_DEBIAN_MIRROR:-${mirror:-http://deb.debian.org/debian}}"
arch="$(dpkg --print-architecture)"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
say "reading $SUITE's package index from $mirror"
curl -fsS --max-time 120 -o "$work/Packages.xz" \
  "$mirror/dists/$SUITE/main/binary-$arch/Packages.xz"
# awk reads to the end (an early exit would break the pipe under pipefail).
entry="$(xz -dc "$work/Packages.xz" | awk '/^Package: /{p = ($2 == "docker-compose")} p')"
file="$(awk '/^Filename:/{print $2}' <<<"$entry")"
sum="$(awk '/^SHA256:/{print $2}' <<<"$entry")"
version="$(awk '/^Version:/{print $2}' <<<"$entry")"
case "$version" in
2.*) ;;
*)
  say "$SUITE's docker-compose is '${version:-missing}', not 2.x; nothing installed"
  exit 1
  ;;
esac
say "downloading docker-compose $version"
curl -fsS --max-time 300 -o "$work/compose.deb" "$mirror/$file"
echo "$sum  $work/compose.deb" | sha256sum -c --quiet -
dpkg-deb -x "$work/compose.deb" "$work/root"
install -D -m 0755 "$work/root/usr/libexec/docker/cli-plugins/docker-compose" \
  "$PLUGIN_DIR/docker-compose"
say "installed $(docker compose version)"
