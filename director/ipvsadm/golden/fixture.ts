// Writes the canned kernel state that stub-libipvs.c serves to ipvsadm 1.31, from the same
// fixture the golden tests format (test-fixtures.ts), so both sides describe one table:
//   table.txt       labSnapshot(), timeouts 900 120 300   (LVSLAB_STUB_TABLE)
//   ip_vs_conn      labConnections() as the kernel's /proc/net/ip_vs_conn (LVSLAB_STUB_CONN)
//   tunnels.txt     tunnelSnapshot(): servers of every tunnel type and checksum option
//   big-empty.txt   no services, connection table size 1 << 20
//   long-name.txt   the "cuts names at 33 and 28" test's service, with long-services
//                   (LVSLAB_STUB_SERVICES) naming port 8080/tcp as that test does
// Usage: node --import tsx director/ipvsadm/golden/fixture.ts OUTDIR
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type {
  ConnectionSnapshot,
  DestinationRow,
  ListSnapshot,
  Rates,
  ServiceRow,
  Stats,
} from "../snapshot-types.ts";
import { ip, labConnections, labSnapshot, tunnelSnapshot } from "../test-fixtures.ts";
import { TUNNEL_CHECKSUMS, TUNNEL_TYPES } from "../../service/tunnel-options.ts";

// include/uapi/linux/ip_vs.h (and ipvsadm's libipvs/ip_vs.h)
const IP_VS_VERSION_CODE = 0x010201; // 1.2.1
const IP_VS_SVC_F_PERSISTENT = 0x1;
const IP_VS_SVC_F_HASHED = 0x2; // every service the kernel lists is hashed
const IP_VS_SVC_F_ONEPACKET = 0x4;
const SCHED_FLAG_BITS: Record<string, Record<string, number>> = {
  sh: { "sh-fallback": 0x8, "sh-port": 0x10 },
  mh: { "mh-fallback": 0x8, "mh-port": 0x10 },
  "": { "flag-1": 0x8, "flag-2": 0x10, "flag-3": 0x20 },
};
const CONN_FLAGS = { masq: 0, local: 1, tunnel: 2, route: 3 } as const;
const PROTO = { tcp: 6, udp: 17 } as const;

const dotted = (addr: number) =>
  [addr >>> 24, (addr >>> 16) & 255, (addr >>> 8) & 255, addr & 255].join(".");
const hex = (n: number, width: number) => n.toString(16).toUpperCase().padStart(width, "0");
const counters = (s: Stats, r: Rates) =>
  [s.conns, s.inpkts, s.outpkts, s.inbytes, s.outbytes, r.cps, r.inpps, r.outpps, r.inbps, r.outbps]
    .map((n) => BigInt(n).toString()).join(" ");

function serviceFlags(s: ServiceRow): number {
  const bits = SCHED_FLAG_BITS[s.schedulerName] ?? SCHED_FLAG_BITS[""];
  let flags = IP_VS_SVC_F_HASHED;
  if (s.persistTimeout > 0) flags |= IP_VS_SVC_F_PERSISTENT;
  if (s.onePacket) flags |= IP_VS_SVC_F_ONEPACKET;
  for (const name of s.schedulerFlags) {
    const bit = bits[name];
    if (bit === undefined) throw new Error(`no bit for ${s.schedulerName} flag ${name}`);
    flags |= bit;
  }
  return flags;
}

function destLine(d: DestinationRow): string {
  // tun_type IP_VS_CONN_F_TUNNEL_TYPE_* (0 ipip, 1 gue, 2 gre), tun_port (host order here;
  // the stub htons it), tun_flags IP_VS_TUNNEL_ENCAP_FLAG_* (0 nocsum, 1 csum, 2 remcsum)
  return [
    "dest",
    dotted(d.addr),
    d.port,
    CONN_FLAGS[d.method],
    d.weight,
    d.upperThreshold,
    d.lowerThreshold,
    d.activeConns,
    d.inactiveConns,
    d.persistConns,
    TUNNEL_TYPES.indexOf(d.tunnel.type),
    d.tunnel.port,
    TUNNEL_CHECKSUMS.indexOf(d.tunnel.checksum),
    counters(d.stats, d.rates),
  ].join(" ");
}

export function tableText(snap: ListSnapshot, timeouts = { tcp: 900, tcpfin: 120, udp: 300 }) {
  const out = [
    `info ${IP_VS_VERSION_CODE} ${snap.connTableSize}`,
    `timeout ${timeouts.tcp} ${timeouts.tcpfin} ${timeouts.udp}`,
  ];
  for (const s of snap.services) {
    out.push(
      [
        "service",
        PROTO[s.protocol],
        dotted(s.addr),
        s.port,
        0, // fwmark
        s.schedulerName,
        "0x" + serviceFlags(s).toString(16),
        s.persistTimeout,
        dotted(s.persistNetmask),
        counters(s.stats, s.rates),
      ].join(" "),
    );
    for (const d of s.destinations) out.push(destLine(d));
  }
  return out.join("\n") + "\n";
}

// net/netfilter/ipvs/ip_vs_conn.c, ip_vs_conn_seq_show (IPv4, no persistence engine data):
// "%-3s %08X %04X %08X %04X %08X %04X %-11s %7u\n", expiry in whole seconds, never negative.
export function connText(conns: ConnectionSnapshot[]): string {
  const head = "Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData\n";
  return head + conns.map((c) =>
    [
      c.protocol.toUpperCase().padEnd(3),
      hex(c.caddr, 8),
      hex(c.cport, 4),
      hex(c.vaddr, 8),
      hex(c.vport, 4),
      hex(c.daddr, 8),
      hex(c.dport, 4),
      c.state.padEnd(11),
      String(Math.max(0, Math.floor(c.expiresInMs / 1000))).padStart(7),
    ].join(" ") + "\n"
  ).join("");
}

// The snapshot the "cuts names at 33 (service) and 28 (server) characters" test builds.
function longNameSnapshot(): ListSnapshot {
  const snap = labSnapshot();
  const row = snap.services[1];
  row.addr = ip("198.51.100.200");
  row.port = 8080;
  row.destinations = [{ ...row.destinations[0], addr: ip("198.51.100.200"), port: 8080 }];
  return { connTableSize: snap.connTableSize, services: [row] };
}

function main() {
  const dir = process.argv[2];
  if (!dir) throw new Error("usage: fixture.ts OUTDIR");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "table.txt"), tableText(labSnapshot()));
  writeFileSync(join(dir, "ip_vs_conn"), connText(labConnections()));
  writeFileSync(join(dir, "tunnels.txt"), tableText(tunnelSnapshot()));
  writeFileSync(join(dir, "big-empty.txt"), tableText({ connTableSize: 1 << 20, services: [] }));
  writeFileSync(join(dir, "long-name.txt"), tableText(longNameSnapshot()));
  writeFileSync(join(dir, "long-services"), "an-unusually-long-service-name 8080/tcp\n");
}

main();
