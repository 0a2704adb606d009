# Sourced by ./lvslab and ./run-tests: installs what lvslab needs on a fresh machine.
# npm packages from package-lock.json; Debian packages only when a command is missing.

lvslab_need_root() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "lvslab: this needs root (network namespaces, TUN devices, apt-get); run it with sudo" >&2
    exit 1
  fi
}

lvslab_ensure_npm() {
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    echo "lvslab: installing npm dependencies (npm ci)" >&2
    npm ci --no-audit --no-fund >&2
  fi
}

# Each entry: command:debian-package
# tshark: the TUN scenario's outside decoder (lab/assertions/tshark-tunnel.ts).
# What only the tests need: the browser test/classroom-browser.test.ts drives (not ./lvslab's:
# the classroom page opens in the user's own browser).
LVSLAB_TEST_TOOLS="chromium:chromium"
LVSLAB_DEBIAN_TOOLS="ip:iproute2 ping:iputils-ping sysctl:procps tcpdump:tcpdump iperf3:iperf3 hping3:hping3 ethtool:ethtool curl:curl vsftpd:vsftpd arping:iputils-arping xmllint:libxml2-utils tshark:tshark nft:nftables"

lvslab_ensure_debian() {
  local missing=""
  for pair in $LVSLAB_DEBIAN_TOOLS "$@"; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || missing="$missing ${pair#*:}"
  done
  [ -z "$missing" ] && return 0
  echo "lvslab: installing Debian packages:$missing" >&2
  export DEBIAN_FRONTEND=noninteractive
  # wireshark-common asks whether non-root users may capture: answer no beforehand, so
  # nothing waits for an answer (tshark here only reads files, as root).
  echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
  apt-get update -qq >&2
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing >&2
}
