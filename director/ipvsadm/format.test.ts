// Golden output of ipvsadm 1.31. The expected text was produced by ipvsadm 1.31's own
// print_title / print_service_entry / print_largenum / print_conn (ipvsadm.c, compiled
// against a stub libipvs that serves test-fixtures.ts and, like lvslab, resolves no host
// names), then pasted here. The printf formats each golden exercises are noted above it.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  formatConnections,
  formatLargeNumber,
  formatList,
  formatSave,
  formatService,
  formatTimeouts,
  type ListOptions,
} from "./format.ts";
import { BUILTIN_SERVICES as services, parseServicesText } from "./service-names.ts";
import { ip, labConnections, labSnapshot, tunnelSnapshot } from "./test-fixtures.ts";

const lines = (...l: string[]) => l.map((x) => x + "\n").join("");

// -L (no -n): print_title plain; service "%-4s %s" cut at 33 + " %s" scheduler, " (%s)" flags,
// " persistent %u", " mask %s", " ops"; servers "  -> %-28s %-7s %-6d %-10u %-10u\n".
// Ports by service name, addresses numeric (lvslab does no reverse DNS).
const plain = lines(
  "IP Virtual Server version 1.2.1 (size=4096)",
  "Prot LocalAddress:Port Scheduler Flags",
  "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn",
  "TCP  198.51.100.200:http-alt wrr persistent 300",
  "TCP  203.0.113.5:ftp rr persistent 360 mask 255.255.255.0",
  "  -> 172.16.0.3:ftp               Route   1      2          0         ",
  "TCP  203.0.113.5:http wlc",
  "  -> 172.16.0.2:http              Masq    1      1          22        ",
  "  -> 172.16.0.3:8000              Masq    2      12         3         ",
  "UDP  192.0.2.9:5000 rr (flag-1,flag-3) ops",
  "  -> 172.16.0.6:5000              Masq    65535  0          0         ",
  "UDP  203.0.113.5:domain sh (sh-fallback,sh-port)",
  "  -> 172.16.0.4:domain            Tunnel  3      0          7         ",
  "  -> 172.16.0.5:domain            Local   0      0          0         ",
);

// -L -n: the same with numeric ports; services and servers sorted (ipvs_cmp_services/dests).
const plainN = lines(
  "IP Virtual Server version 1.2.1 (size=4096)",
  "Prot LocalAddress:Port Scheduler Flags",
  "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn",
  "TCP  198.51.100.200:8080 wrr persistent 300",
  "TCP  203.0.113.5:21 rr persistent 360 mask 255.255.255.0",
  "  -> 172.16.0.3:21                Route   1      2          0         ",
  "TCP  203.0.113.5:80 wlc",
  "  -> 172.16.0.2:80                Masq    1      1          22        ",
  "  -> 172.16.0.3:8000              Masq    2      12         3         ",
  "UDP  192.0.2.9:5000 rr (flag-1,flag-3) ops",
  "  -> 172.16.0.6:5000              Masq    65535  0          0         ",
  "UDP  203.0.113.5:53 sh (sh-fallback,sh-port)",
  "  -> 172.16.0.4:53                Tunnel  3      0          7         ",
  "  -> 172.16.0.5:53                Local   0      0          0         ",
);

// -L -n --nosort: the snapshot's own order.
const nosortN = lines(
  "IP Virtual Server version 1.2.1 (size=4096)",
  "Prot LocalAddress:Port Scheduler Flags",
  "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn",
  "UDP  203.0.113.5:53 sh (sh-fallback,sh-port)",
  "  -> 172.16.0.5:53                Local   0      0          0         ",
  "  -> 172.16.0.4:53                Tunnel  3      0          7         ",
  "TCP  203.0.113.5:80 wlc",
  "  -> 172.16.0.3:8000              Masq    2      12         3         ",
  "  -> 172.16.0.2:80                Masq    1      1          22        ",
  "TCP  203.0.113.5:21 rr persistent 360 mask 255.255.255.0",
  "  -> 172.16.0.3:21                Route   1      2          0         ",
  "UDP  192.0.2.9:5000 rr (flag-1,flag-3) ops",
  "  -> 172.16.0.6:5000              Masq    65535  0          0         ",
  "TCP  198.51.100.200:8080 wrr persistent 300",
);

// --stats: title "%-33s %8s %8s %8s %8s %8s\n  -> RemoteAddress:Port\n"; rows "%-33s" or "  -> %-28s"
// then print_largenum x5: "%9llu" < 1e8, "%8lluK" < 1e9, "%8lluM" < 1e11, "%8lluG" < 1e14, else "%8lluT".
const statsN = lines(
  "IP Virtual Server version 1.2.1 (size=4096)",
  "Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes",
  "  -> RemoteAddress:Port",
  "TCP  198.51.100.200:8080                 0        0        0        0        0",
  "TCP  203.0.113.5:21                      0        0        0        0        0",
  "  -> 172.16.0.3:21                       0        0        0        0        0",
  "TCP  203.0.113.5:80                123456K 99999999    1234G   98765M     123T",
  "  -> 172.16.0.2:80                     750    15000    12500  1000000 75000000",
  "  -> 172.16.0.3:8000                  1500    30000    25000  2000000  150000K",
  "UDP  192.0.2.9:5000                      0        0        0        0        0",
  "  -> 172.16.0.6:5000                     0        0        0        0        0",
  "UDP  203.0.113.5:53                      0        0        0        0        0",
  "  -> 172.16.0.4:53                       0        0        0        0        0",
  "  -> 172.16.0.5:53                       0        0        0        0        0",
);

// --stats --exact: print_largenum "%*llu" with width 9, or digits + 1 when longer than 8.
const statsExactN = lines(
  "IP Virtual Server version 1.2.1 (size=4096)",
  "Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes",
  "  -> RemoteAddress:Port",
  "TCP  198.51.100.200:8080                 0        0        0        0        0",
  "TCP  203.0.113.5:21                      0        0        0        0        0",
  "  -> 172.16.0.3:21                       0        0        0        0        0",
  "TCP  203.0.113.5:80               123456789 99999999 1234567890123 98765432101 123456789012345",
  "  -> 172.16.0.2:80                     750    15000    12500  1000000 75000000",
  "  -> 172.16.0.3:8000                  1500    30000    25000  2000000 150000000",
  "UDP  192.0.2.9:5000                      0        0        0        0        0",
  "  -> 172.16.0.6:5000                     0        0        0        0        0",
  "UDP  203.0.113.5:53                      0        0        0        0        0",
  "  -> 172.16.0.4:53                       0        0        0        0        0",
  "  -> 172.16.0.5:53                       0        0        0        0        0",
);

// --rate: service like --stats; servers "  -> %-28s %8llu %8llu %8llu" (cps, pps: no K/M)
// then print_largenum for InBPS and OutBPS.
const rateN = lines(
  "IP Virtual Server version 1.2.1 (size=4096)",
  "Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS",
  "  -> RemoteAddress:Port",
  "TCP  198.51.100.200:8080                 0        0        0        0        0",
  "TCP  203.0.113.5:21                      0        0        0        0        0",
  "  -> 172.16.0.3:21                       0        0        0        0        0",
  "TCP  203.0.113.5:80                      5     1234  100000K  150000K       42",
  "  -> 172.16.0.2:80                       1       20       15     1600   120000",
  "  -> 172.16.0.3:8000                     2       40 987654321     3200    1000M",
  "UDP  192.0.2.9:5000                      0        0        0        0        0",
  "  -> 172.16.0.6:5000                     0        0        0        0        0",
  "UDP  203.0.113.5:53                      0        0        0        0        0",
  "  -> 172.16.0.4:53                       0        0        0        0        0",
  "  -> 172.16.0.5:53                       0        0        0        0        0",
);

// --rate --exact.
const rateExactN = lines(
  "IP Virtual Server version 1.2.1 (size=4096)",
  "Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS",
  "  -> RemoteAddress:Port",
  "TCP  198.51.100.200:8080                 0        0        0        0        0",
  "TCP  203.0.113.5:21                      0        0        0        0        0",
  "  -> 172.16.0.3:21                       0        0        0        0        0",
  "TCP  203.0.113.5:80                      5     1234 100000000 150000000       42",
  "  -> 172.16.0.2:80                       1       20       15     1600   120000",
  "  -> 172.16.0.3:8000                     2       40 987654321     3200 1000000000",
  "UDP  192.0.2.9:5000                      0        0        0        0        0",
  "  -> 172.16.0.6:5000                     0        0        0        0        0",
  "UDP  203.0.113.5:53                      0        0        0        0        0",
  "  -> 172.16.0.4:53                       0        0        0        0        0",
  "  -> 172.16.0.5:53                       0        0        0        0        0",
);

// --thresholds: title "%-33s %-10s %-10s %-10s %-10s\n"; service line as plain;
// servers "  -> %-28s %-10u %-10u %-10u %-10u\n".
const thresholdsN = lines(
  "IP Virtual Server version 1.2.1 (size=4096)",
  "Prot LocalAddress:Port            Uthreshold Lthreshold ActiveConn InActConn ",
  "  -> RemoteAddress:Port",
  "TCP  198.51.100.200:8080 wrr persistent 300",
  "TCP  203.0.113.5:21 rr persistent 360 mask 255.255.255.0",
  "  -> 172.16.0.3:21                0          0          2          0         ",
  "TCP  203.0.113.5:80 wlc",
  "  -> 172.16.0.2:80                0          0          1          22        ",
  "  -> 172.16.0.3:8000              100        50         12         3         ",
  "UDP  192.0.2.9:5000 rr (flag-1,flag-3) ops",
  "  -> 172.16.0.6:5000              0          0          0          0         ",
  "UDP  203.0.113.5:53 sh (sh-fallback,sh-port)",
  "  -> 172.16.0.4:53                0          0          0          7         ",
  "  -> 172.16.0.5:53                0          0          0          0         ",
);

// --persistent-conn: title "%-33s %-9s %-11s %-10s %-10s\n"; servers "  -> %-28s %-9u %-11u %-10u %-10u\n".
const pconnN = lines(
  "IP Virtual Server version 1.2.1 (size=4096)",
  "Prot LocalAddress:Port            Weight    PersistConn ActiveConn InActConn ",
  "  -> RemoteAddress:Port",
  "TCP  198.51.100.200:8080 wrr persistent 300",
  "TCP  203.0.113.5:21 rr persistent 360 mask 255.255.255.0",
  "  -> 172.16.0.3:21                1         4           2          0         ",
  "TCP  203.0.113.5:80 wlc",
  "  -> 172.16.0.2:80                1         0           1          22        ",
  "  -> 172.16.0.3:8000              2         0           12         3         ",
  "UDP  192.0.2.9:5000 rr (flag-1,flag-3) ops",
  "  -> 172.16.0.6:5000              65535     0           0          0         ",
  "UDP  203.0.113.5:53 sh (sh-fallback,sh-port)",
  "  -> 172.16.0.4:53                3         0           0          7         ",
  "  -> 172.16.0.5:53                0         0           0          0         ",
);

// --tun-info: servers "  -> %-28s %-7s %-13s %-6d %-10u %-10u\n", tunnel info "ipip" or "n/a".
const tuninfoN = lines(
  "IP Virtual Server version 1.2.1 (size=4096)",
  "Prot LocalAddress:Port Scheduler Flags",
  "  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn",
  "TCP  198.51.100.200:8080 wrr persistent 300",
  "TCP  203.0.113.5:21 rr persistent 360 mask 255.255.255.0",
  "  -> 172.16.0.3:21                Route   n/a           1      2          0         ",
  "TCP  203.0.113.5:80 wlc",
  "  -> 172.16.0.2:80                Masq    n/a           1      1          22        ",
  "  -> 172.16.0.3:8000              Masq    n/a           2      12         3         ",
  "UDP  192.0.2.9:5000 rr (flag-1,flag-3) ops",
  "  -> 172.16.0.6:5000              Masq    n/a           65535  0          0         ",
  "UDP  203.0.113.5:53 sh (sh-fallback,sh-port)",
  "  -> 172.16.0.4:53                Tunnel  ipip          3      0          7         ",
  "  -> 172.16.0.5:53                Local   n/a           0      0          0         ",
);

// -S -n: "-A %s -s %s" + " -p %u" + " -M %s" + " -o" + " -b %s"; "-a %s -r %s %s -w %d" (+ " --tun-type ipip").
const saveN = lines(
  "-A -t 198.51.100.200:8080 -s wrr -p 300",
  "-A -t 203.0.113.5:21 -s rr -p 360 -M 255.255.255.0",
  "-a -t 203.0.113.5:21 -r 172.16.0.3:21 -g -w 1",
  "-A -t 203.0.113.5:80 -s wlc",
  "-a -t 203.0.113.5:80 -r 172.16.0.2:80 -m -w 1",
  "-a -t 203.0.113.5:80 -r 172.16.0.3:8000 -m -w 2",
  "-A -u 192.0.2.9:5000 -s rr -o -b flag-1,flag-3",
  "-a -u 192.0.2.9:5000 -r 172.16.0.6:5000 -m -w 65535",
  "-A -u 203.0.113.5:53 -s sh -b sh-fallback,sh-port",
  "-a -u 203.0.113.5:53 -r 172.16.0.4:53 -i -w 3 --tun-type ipip",
  "-a -u 203.0.113.5:53 -r 172.16.0.5:53 -g -w 0",
);

// -L -n --tun-info of every tunnel type: fwd_tun_info() "%s" (ipip), "%s:%d:%s" (gue: port,
// tunflags[] "-c" | "+c" | "r+c"), "%s:%s" (gre), NA ("n/a") for the other methods.
const tunnelsTuninfoN = lines(
  "IP Virtual Server version 1.2.1 (size=4096)",
  "Prot LocalAddress:Port Scheduler Flags",
  "  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn",
  "TCP  203.0.113.7:80 wlc",
  "  -> 172.16.0.2:8080              Masq    n/a           1      9          0         ",
  "  -> 172.16.0.3:80                Route   n/a           1      2          1         ",
  "  -> 192.0.2.11:80                Tunnel  ipip          5      0          0         ",
  "  -> 192.0.2.12:80                Tunnel  gue:6080:-c   1      0          0         ",
  "  -> 192.0.2.13:80                Tunnel  gue:6081:+c   2      0          0         ",
  "  -> 192.0.2.14:80                Tunnel  gue:6082:r+c  3      0          0         ",
  "  -> 192.0.2.15:80                Tunnel  gre:-c        4      0          0         ",
  "  -> 192.0.2.16:80                Tunnel  gre:+c        1      0          0         ",
  "UDP  203.0.113.7:4789 rr",
  "  -> 192.0.2.20:4789              Tunnel  gue:65535:r+c 2      0          0         ",
  "  -> 192.0.2.21:4789              Tunnel  ipip          1      0          0         ",
);

// -S -n of the same: print_tunnel_rule() "-a %s -r %s %s -w %d --tun-type %s" + for gue
// " --tun-port %d %s", for gre " %s" (tun_flags_opts[]: --tun-nocsum|--tun-csum|--tun-remcsum).
const tunnelsSaveN = lines(
  "-A -t 203.0.113.7:80 -s wlc",
  "-a -t 203.0.113.7:80 -r 172.16.0.2:8080 -m -w 1",
  "-a -t 203.0.113.7:80 -r 172.16.0.3:80 -g -w 1",
  "-a -t 203.0.113.7:80 -r 192.0.2.11:80 -i -w 5 --tun-type ipip",
  "-a -t 203.0.113.7:80 -r 192.0.2.12:80 -i -w 1 --tun-type gue --tun-port 6080 --tun-nocsum",
  "-a -t 203.0.113.7:80 -r 192.0.2.13:80 -i -w 2 --tun-type gue --tun-port 6081 --tun-csum",
  "-a -t 203.0.113.7:80 -r 192.0.2.14:80 -i -w 3 --tun-type gue --tun-port 6082 --tun-remcsum",
  "-a -t 203.0.113.7:80 -r 192.0.2.15:80 -i -w 4 --tun-type gre --tun-nocsum",
  "-a -t 203.0.113.7:80 -r 192.0.2.16:80 -i -w 1 --tun-type gre --tun-csum",
  "-A -u 203.0.113.7:4789 -s rr",
  "-a -u 203.0.113.7:4789 -r 192.0.2.20:4789 -i -w 2 --tun-type gue --tun-port 65535 --tun-remcsum",
  "-a -u 203.0.113.7:4789 -r 192.0.2.21:4789 -i -w 1 --tun-type ipip",
);

// -S: service names for ports, as ipvsadm -S without -n.
const save = lines(
  "-A -t 198.51.100.200:http-alt -s wrr -p 300",
  "-A -t 203.0.113.5:ftp -s rr -p 360 -M 255.255.255.0",
  "-a -t 203.0.113.5:ftp -r 172.16.0.3:ftp -g -w 1",
  "-A -t 203.0.113.5:http -s wlc",
  "-a -t 203.0.113.5:http -r 172.16.0.2:http -m -w 1",
  "-a -t 203.0.113.5:http -r 172.16.0.3:8000 -m -w 2",
  "-A -u 192.0.2.9:5000 -s rr -o -b flag-1,flag-3",
  "-a -u 192.0.2.9:5000 -r 172.16.0.6:5000 -m -w 65535",
  "-A -u 203.0.113.5:domain -s sh -b sh-fallback,sh-port",
  "-a -u 203.0.113.5:domain -r 172.16.0.4:domain -i -w 3 --tun-type ipip",
  "-a -u 203.0.113.5:domain -r 172.16.0.5:domain -g -w 0",
);

// -L -n -t 203.0.113.5:80 --stats: list_service prints no version line.
const serviceN = lines(
  "Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes",
  "  -> RemoteAddress:Port",
  "TCP  203.0.113.5:80                123456K 99999999    1234G   98765M     123T",
  "  -> 172.16.0.2:80                     750    15000    12500  1000000 75000000",
  "  -> 172.16.0.3:8000                  1500    30000    25000  2000000  150000K",
);

// -L -n -c: "pro expire %-11s %-18s %-18s %s\n" title; rows "%-3s %-6s %-11s %-18s %-18s %s\n",
// expire "%02d:%02d" from whole seconds (minutes may exceed 99).
const connN = lines(
  "IPVS connection entries",
  "pro expire state       source             virtual            destination",
  "TCP 14:59  ESTABLISHED 198.51.100.2:40001 203.0.113.5:80     172.16.0.2:80",
  "TCP 01:01  FIN_WAIT    198.51.100.2:40002 203.0.113.5:80     172.16.0.3:8000",
  "UDP 05:00  UDP         198.51.100.3:5353  203.0.113.5:53     172.16.0.4:53",
  "TCP 05:59  NONE        198.51.100.0:0     203.0.113.5:21     172.16.0.3:21",
  "TCP 100:00 SYN_RECV    198.51.100.2:40003 203.0.113.5:21     172.16.0.3:21",
);

// -L -c: port names.
const conn = lines(
  "IPVS connection entries",
  "pro expire state       source             virtual            destination",
  "TCP 14:59  ESTABLISHED 198.51.100.2:40001 203.0.113.5:http   172.16.0.2:http",
  "TCP 01:01  FIN_WAIT    198.51.100.2:40002 203.0.113.5:http   172.16.0.3:8000",
  "UDP 05:00  UDP         198.51.100.3:mdns  203.0.113.5:domain 172.16.0.4:domain",
  "TCP 05:59  NONE        198.51.100.0:0     203.0.113.5:ftp    172.16.0.3:ftp",
  "TCP 100:00 SYN_RECV    198.51.100.2:40003 203.0.113.5:ftp    172.16.0.3:ftp",
);

// -L -n -c --persistent-conn: title gains " %-18s %-16s %s" pe columns; rows without pe data stay short.
const connPcN = lines(
  "IPVS connection entries",
  "pro expire state       source             virtual            destination        pe name          pe_data",
  "TCP 14:59  ESTABLISHED 198.51.100.2:40001 203.0.113.5:80     172.16.0.2:80",
  "TCP 01:01  FIN_WAIT    198.51.100.2:40002 203.0.113.5:80     172.16.0.3:8000",
  "UDP 05:00  UDP         198.51.100.3:5353  203.0.113.5:53     172.16.0.4:53",
  "TCP 05:59  NONE        198.51.100.0:0     203.0.113.5:21     172.16.0.3:21",
  "TCP 100:00 SYN_RECV    198.51.100.2:40003 203.0.113.5:21     172.16.0.3:21",
);

const base: ListOptions = { numeric: true, exact: false, sort: true, format: "plain", services };

describe("formatList", () => {
  it("plain, names for ports", () => {
    assert.equal(formatList(labSnapshot(), { ...base, numeric: false }), plain);
  });
  it("plain -n, sorted", () => assert.equal(formatList(labSnapshot(), base), plainN));
  it("plain -n --nosort keeps the snapshot order", () => {
    assert.equal(formatList(labSnapshot(), { ...base, sort: false }), nosortN);
  });
  it("--stats with K/M/G/T", () =>
    assert.equal(formatList(labSnapshot(), { ...base, format: "stats" }), statsN));
  it("--stats --exact", () => {
    assert.equal(formatList(labSnapshot(), { ...base, format: "stats", exact: true }), statsExactN);
  });
  it("--rate", () => assert.equal(formatList(labSnapshot(), { ...base, format: "rate" }), rateN));
  it("--rate --exact", () => {
    assert.equal(formatList(labSnapshot(), { ...base, format: "rate", exact: true }), rateExactN);
  });
  it("--thresholds", () =>
    assert.equal(formatList(labSnapshot(), { ...base, format: "thresholds" }), thresholdsN));
  it("--persistent-conn", () => {
    assert.equal(formatList(labSnapshot(), { ...base, format: "persistent-conn" }), pconnN);
  });
  it("--tun-info", () =>
    assert.equal(formatList(labSnapshot(), { ...base, format: "tun-info" }), tuninfoN));
  it("--tun-info of ipip, gue and gre servers", () => {
    assert.equal(formatList(tunnelSnapshot(), { ...base, format: "tun-info" }), tunnelsTuninfoN);
  });
  it("prints the connection table size it is given", () => {
    const out = formatList({ connTableSize: 1 << 20, services: [] }, base);
    assert.equal(out.split("\n")[0], "IP Virtual Server version 1.2.1 (size=1048576)");
    assert.equal(out.split("\n").length, 4); // version, two title lines, final newline
  });
  it("one service (-L -t) has no version line", () => {
    assert.equal(formatService(labSnapshot().services[1], { ...base, format: "stats" }), serviceN);
  });
  it("cuts names at 33 (service) and 28 (server) characters, as ipvsadm does", () => {
    const long = parseServicesText("an-unusually-long-service-name 8080/tcp\n");
    const snap = labSnapshot();
    const row = snap.services[1];
    row.addr = ip("198.51.100.200");
    row.port = 8080;
    row.destinations = [{ ...row.destinations[0], addr: ip("198.51.100.200"), port: 8080 }];
    const out = formatService(row, { ...base, numeric: false, services: long });
    // svc_name[33] = '\0' and dname[28] = '\0' in print_service_entry.
    assert.equal(out.split("\n")[2], "TCP  198.51.100.200:an-unusually- wlc");
    assert.equal(
      out.split("\n")[3],
      "  -> 198.51.100.200:an-unusually- Masq    2      12         3         ",
    );
    // -S does not cut.
    assert.match(
      formatSave({ connTableSize: 0, services: [row] }, false, long),
      /:an-unusually-long-service-name -m -w 2\n$/,
    );
  });
});

describe("formatSave", () => {
  it("-S -n", () => assert.equal(formatSave(labSnapshot(), true, services), saveN));
  it("-S with service names", () => assert.equal(formatSave(labSnapshot(), false, services), save));
  it("-S -n of ipip, gue and gre servers", () => {
    assert.equal(formatSave(tunnelSnapshot(), true, services), tunnelsSaveN);
  });
});

describe("formatConnections", () => {
  it("-c -n", () =>
    assert.equal(formatConnections(labConnections(), { numeric: true, services }), connN));
  it("-c with port names", () =>
    assert.equal(formatConnections(labConnections(), { numeric: false, services }), conn));
  it("-c --persistent-conn", () => {
    assert.equal(
      formatConnections(labConnections(), { numeric: true, persistentConn: true, services }),
      connPcN,
    );
  });
  it("never prints a negative expiry", () => {
    const [c] = labConnections();
    assert.match(
      formatConnections([{ ...c, expiresInMs: -5 }], { numeric: true, services }),
      /\nTCP 00:00 {2}/,
    );
  });
});

describe("formatTimeouts", () => {
  it('"Timeout (tcp tcpfin udp): %d %d %d\\n"', () => {
    assert.equal(
      formatTimeouts({ tcp: 900, tcpfin: 120, udp: 300 }),
      "Timeout (tcp tcpfin udp): 900 120 300\n",
    );
  });
});

describe("formatLargeNumber (print_largenum)", () => {
  const cases: [number, string, string][] = [
    [0, "        0", "        0"],
    [99999999, " 99999999", " 99999999"],
    [100000000, "  100000K", " 100000000"],
    [999999999, "  999999K", " 999999999"],
    [1000000000, "    1000M", " 1000000000"],
    [99999999999, "   99999M", " 99999999999"],
    [100000000000, "     100G", " 100000000000"],
    [99999999999999, "   99999G", " 99999999999999"],
    [100000000000000, "     100T", " 100000000000000"],
  ];
  for (const [n, short, exact] of cases) {
    it(`${n}`, () => {
      assert.equal(formatLargeNumber(n, false), short);
      assert.equal(formatLargeNumber(n, true), exact);
    });
  }
});
