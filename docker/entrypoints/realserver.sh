#!/bin/bash
# A real server of the Compose lab: the lab's HTTP server, plus its FTP server (vsftpd, see
# realservers/ftp-server.ts) when LVSLAB_FTP_LISTEN is set.
#   LVSLAB_SERVER_NAME   name the pages and ready lines show (rs1, rs2)
#   LVSLAB_HTTP_LISTEN   address:port of the HTTP server (several: separated by spaces)
#   LVSLAB_FTP_LISTEN    address:port of the FTP server (optional)
#   LVSLAB_FTP_PASV_ADDRESS  the address its 227 replies name (optional; a DR server's VIP)
#   LVSLAB_DECAP_TYPE    a VS/TUN server's tunnel types, "ipip,gre" (optional;
#     lab/decapsulation.ts): with LVSLAB_DECAP_MODULES all in /sys/module the kernel recipe
#     runs (realservers/kernel-tunnel.sh LVSLAB_DECAP_KERNEL_ARGS), else lvslab-decap
#     LVSLAB_DECAP_ARGS; either way one "decapsulation: ..." line says which (lvslab status),
#     LVSLAB_DECAP_KERNEL_SUMMARY or LVSLAB_DECAP_USERSPACE_SUMMARY and the missing modules
# Stays the programs' parent: SIGTERM reaches both, and either ending ends the host.
set -euo pipefail

name="${LVSLAB_SERVER_NAME:?set LVSLAB_SERVER_NAME}"
pids=()
listen=()
for l in ${LVSLAB_HTTP_LISTEN:?set LVSLAB_HTTP_LISTEN}; do listen+=(--listen "$l"); done
node --import tsx realservers/http-server.ts --name "$name" "${listen[@]}" &
pids+=($!)
if [ -n "${LVSLAB_FTP_LISTEN:-}" ]; then
  pasv=()
  if [ -n "${LVSLAB_FTP_PASV_ADDRESS:-}" ]; then pasv=(--pasv-address "$LVSLAB_FTP_PASV_ADDRESS"); fi
  node --import tsx realservers/ftp-server.ts --name "$name" --listen "$LVSLAB_FTP_LISTEN" \
    --root "/srv/lvslab/$name-ftp" "${pasv[@]}" &
  pids+=($!)
fi

if [ -n "${LVSLAB_DECAP_TYPE:-}" ]; then
  missing=""
  for m in ${LVSLAB_DECAP_MODULES:-}; do [ -d "/sys/module/$m" ] || missing="$missing${missing:+, }$m"; done
  if [ -z "$missing" ]; then
    echo "lvslab-realserver: decapsulation: $LVSLAB_DECAP_KERNEL_SUMMARY"
    # shellcheck disable=SC2086 # the arguments are words
    sh realservers/kernel-tunnel.sh $LVSLAB_DECAP_KERNEL_ARGS &
  else
    echo "lvslab-realserver: decapsulation: $LVSLAB_DECAP_USERSPACE_SUMMARY, kernel has no $missing"
    # shellcheck disable=SC2086
    node --import tsx realservers/tunnel-decap.ts $LVSLAB_DECAP_ARGS &
  fi
  pids+=($!)
fi

stop() {
  kill -TERM "${pids[@]}" 2>/dev/null || true
  wait || true
  exit 0
}
trap stop TERM INT

status=0
wait -n || status=$?
echo "lvslab-realserver: a program of $name ended (status $status); stopping the others" >&2
kill -TERM "${pids[@]}" 2>/dev/null || true
wait || true
exit "$status"
