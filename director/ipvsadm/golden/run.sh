#!/usr/bin/env bash
# Re-checks the ipvsadm goldens in director/ipvsadm/*.test.ts against ipvsadm 1.31 itself:
# fetches ipvsadm 1.31's source from Debian (pinned by SHA-256), builds ipvsadm.c against
# stub-libipvs.c (a libipvs that serves a canned table instead of asking the kernel), writes
# that table from test-fixtures.ts, runs the command lines the tests cover and diffs what
# ipvsadm prints against the committed expectations. Exit 0: all equal; 1: a difference.
# See README.md beside this file.
#
# Usage: director/ipvsadm/golden/run.sh [WORKDIR]     (default /tmp/lvslab-ipvsadm-golden)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
work="${1:-${TMPDIR:-/tmp}/lvslab-ipvsadm-golden}"

# Debian bookworm's source package ipvsadm 1:1.31-1; its upstream tarball is ipvsadm 1.31.
SRC_PKG="ipvsadm=1:1.31-1"
ORIG="ipvsadm_1.31.orig.tar.gz"
ORIG_SHA256="7276bcf214f31051188b2e44f11029e57303f37e54126e517000c1b2123a6d4e"

need() { command -v "$1" >/dev/null || { echo "run.sh: needs $1 ($2)" >&2; exit 2; }; }
need gcc "apt-get install gcc"
need make "apt-get install make"
need apt-get "a Debian-based system"
need node "Node.js 20 or later, with the repo's npm install done"
if ! echo '#include <popt.h>' | gcc -E - >/dev/null 2>&1; then
  echo "run.sh: needs popt's header: apt-get install libpopt-dev" >&2
  exit 2
fi

mkdir -p "$work/download"
cd "$work/download"
if ! echo "$ORIG_SHA256  $ORIG" | sha256sum -c --status 2>/dev/null; then
  if ! apt-cache showsrc ipvsadm 2>/dev/null | grep -qx "Version: ${SRC_PKG#ipvsadm=}"; then
    cat >&2 <<EOF
run.sh: apt knows no source package $SRC_PKG. Add a deb-src entry for the Debian mirror
already configured, e.g. /etc/apt/sources.list.d/debian-src.sources:
  Types: deb-src
  URIs: http://deb.debian.org/debian
  Suites: bookworm
  Components: main
  Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
then run apt-get update.
EOF
    exit 2
  fi
  # Only the upstream tarball is used (not Debian's packaging or patches), so a failed
  # download of the .debian.tar.xz does not matter; the checksum below decides.
  apt-get source --download-only "$SRC_PKG" || true
  echo "$ORIG_SHA256  $ORIG" | sha256sum -c - || {
    echo "run.sh: $ORIG missing or not the pinned one" >&2
    exit 2
  }
fi

src="$work/ipvsadm-1.31"
build="$work/build"
rm -rf "$src" "$build"
mkdir -p "$build"
tar -xzf "$work/download/$ORIG" -C "$work"

# ipvsadm.c, config_stream.c and dynamic_array.c with upstream's own Makefile (its flags and
# -D definitions); HAVE_NL=0 as nothing here links libnl.
make -s -C "$src" HAVE_NL=0 ipvsadm.o config_stream.o dynamic_array.o

# The sort functions, verbatim from the real libipvs.c (-L sorts with them).
{
  echo '#include <stdlib.h>'
  echo '#include <arpa/inet.h>'
  echo '#include "libipvs.h"'
  grep -F 'typedef int (*qsort_cmp_t)' "$src/libipvs/libipvs.c"
  awk -v names="ipvs_cmp_services ipvs_sort_services ipvs_cmp_dests ipvs_sort_dests" '
    BEGIN { n = split(names, a, " "); for (i = 1; i <= n; i++) want[a[i]] = 1 }
    { line[NR] = $0 }
    END {
      for (i = 1; i <= NR; i++) {
        if (line[i] !~ /^((int|void) )?ipvs_[a-z_]+\(/) continue
        name = line[i]; sub(/^(int |void )/, "", name); sub(/\(.*/, "", name)
        if (!(name in want)) continue
        start = (line[i - 1] ~ /^(int|void)$/) ? i - 1 : i
        for (j = start; j <= NR; j++) { print line[j]; if (line[j] ~ /^}/) break }
        print ""
        found[name] = 1
      }
      for (k in want) if (!(k in found)) { print "run.sh: " k " not found" > "/dev/stderr"; exit 1 }
    }' "$src/libipvs/libipvs.c"
} >"$build/libipvs-sort.c"

CFLAGS=(-Wall -Wunused -Wstrict-prototypes -g -I"$src/libipvs")
gcc "${CFLAGS[@]}" -c -o "$build/stub-libipvs.o" "$here/stub-libipvs.c"
gcc "${CFLAGS[@]}" -c -o "$build/libipvs-sort.o" "$build/libipvs-sort.c"
gcc -o "$build/ipvsadm" "$src/ipvsadm.o" "$src/config_stream.o" "$src/dynamic_array.o" \
  "$build/stub-libipvs.o" "$build/libipvs-sort.o" \
  -Wl,--wrap=fopen,--wrap=gethostbyname,--wrap=gethostbyaddr \
  -Wl,--wrap=getservbyport,--wrap=getservbyname \
  -lpopt

cd "$repo"
node --import tsx "$here/fixture.ts" "$work/fixtures"
echo "built $build/ipvsadm: $(LVSLAB_STUB_TABLE="$work/fixtures/table.txt" "$build/ipvsadm" --version)"
node --import tsx "$here/compare.ts" "$build/ipvsadm" "$work/fixtures" "$work/out"
