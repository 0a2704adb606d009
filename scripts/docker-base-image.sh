#!/usr/bin/env bash
# Builds the Compose lab's base image without any image registry: debootstrap a minimal Debian
# from the machine's own apt mirror, add the tools lab hosts need and this machine's node
# binary, and `docker import` the tree as lvslab-base:local. A second run reuses the image
# when nothing it is made of changed (package list, node version, this script).
#
#   sudo scripts/docker-base-image.sh            # build once, reuse afterwards
#   sudo scripts/docker-base-image.sh --rebuild  # build again even when cached
#   BASE_IMAGE=lvslab-base:local docker compose up -d
#
# Needs root, a running Docker engine (scripts/docker-start.sh) and Debian's apt mirror.
set -euo pipefail

IMAGE="${LVSLAB_BASE_IMAGE_TAG:-lvslab-base:local}"
# What every lab host runs: network tools, traffic tools, and vsftpd for rs2's FTP service.
# libstdc++6 is node's only library beyond libc.
PACKAGES="iproute2,iputils-ping,tcpdump,ethtool,curl,iperf3,hping3,procps,ca-certificates,vsftpd,libstdc++6"

say() { echo "docker-base-image: $*" >&2; }

rebuild=false
for arg in "$@"; do
  case "$arg" in
  --rebuild) rebuild=true ;;
  *)
    say "unknown argument '$arg'; the only option is --rebuild"
    exit 2
    ;;
  esac
done

if [ "$(id -u)" -ne 0 ]; then
  say "this needs root (debootstrap); run it with sudo"
  exit 1
fi
if ! timeout 10 docker info >/dev/null 2>&1; then
  say "no Docker engine answers; run scripts/docker-start.sh first"
  exit 1
fi

NODE="$(command -v node || true)"
if [ -z "$NODE" ]; then
  say "node is not installed here; the base image carries this machine's node (20+)"
  exit 1
fi
NODE="$(readlink -f "$NODE")"
NODE_VERSION="$("$NODE" --version)"
case "$NODE_VERSION" in
v1[0-9].* | v[0-9].*)
  say "node $NODE_VERSION is too old; the lab needs node 20 or newer"
  exit 1
  ;;
esac

# The mirror and suite this machine's apt uses (deb822 sources or the one-line format).
mirror=""
suite=""
if [ -f /etc/apt/sources.list.d/debian.sources ]; then
  mirror="$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources)"
  suite="$(awk '/^Suites:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources)"
fi
if [ -z "$mirror" ] && [ -f /etc/apt/sources.list ]; then
  read -r mirror suite < <(awk '$1=="deb" && $0 !~ /security/ {print $2, $3; exit}' /etc/apt/sources.list) || true
fi
mirror="${LVSLAB_DEBIAN_MIRROR:-${mirror:-http://deb.debian.org/debian}}"
suite="${LVSLAB_DEBIAN_SUITE:-${suite:-bookworm}}"

key="$(printf '%s\n' "$PACKAGES" "$suite" "$NODE_VERSION" "$(sha256sum "$0" | cut -c1-16)" |
  sha256sum | cut -c1-16)"
if ! $rebuild; then
  have="$(docker image inspect -f '{{ index .Config.Labels "lvslab.base-key" }}' "$IMAGE" 2>/dev/null || true)"
  if [ "$have" = "$key" ]; then
    say "$IMAGE is up to date (key $key); nothing to do (--rebuild builds it again)"
    exit 0
  fi
  [ -n "$have" ] && say "$IMAGE is stale (key $have, want $key): building it again"
fi

if ! command -v debootstrap >/dev/null 2>&1; then
  say "installing debootstrap"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >&2 ||
    { apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >&2; }
fi

root="$(mktemp -d /var/tmp/lvslab-base.XXXXXX)"
cleanup() { rm -rf --one-file-system "$root"; }
trap cleanup EXIT

start=$SECONDS
say "debootstrap $suite from $mirror into $root"
# minbase: apt, dpkg and essentials only; the lab's tools come from --include.
if ! debootstrap --variant=minbase --include="$PACKAGES" "$suite" "$root" "$mirror" \
  >"$root.log" 2>&1; then
  say "debootstrap failed; its log ends with:"
  tail -n 30 "$root.log" >&2
  rm -f "$root.log"
  exit 1
fi
rm -f "$root.log"

install -m 0755 "$NODE" "$root/usr/local/bin/node"
# Hosts resolve nothing outside the lab; keep the image small and free of host state.
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* \
  "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/locale/*
: >"$root/etc/resolv.conf"
: >"$root/etc/hostname"

say "importing the tree as $IMAGE"
tar --numeric-owner -C "$root" -c . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'CMD ["bash"]' \
  --change "LABEL lvslab.base-key=$key lvslab.node-version=$NODE_VERSION lvslab.suite=$suite" \
  - "$IMAGE" >/dev/null
say "built $IMAGE (node $NODE_VERSION, $suite) in $((SECONDS - start)) s"
