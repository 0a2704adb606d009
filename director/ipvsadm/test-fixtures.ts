// Shared data for the ipvsadm tests: the article's table plus services that exercise
// persistence, scheduler flags, one-packet scheduling, every forwarding method, unsorted
// input and numbers in each print_largenum range. Only documentation/private addresses.
import { parseIPv4 } from "../net/ipv4-address.ts";
import type {
  ConnectionSnapshot,
  DestinationRow,
  ListSnapshot,
  Rates,
  ServiceRow,
  Stats,
} from "./snapshot-types.ts";
import { DEFAULT_TUNNEL, type TunnelOptions } from "../service/tunnel-options.ts";

export function ip(text: string): number {
  const addr = parseIPv4(text);
  if (addr === null) throw new Error(`bad test address ${text}`);
  return addr;
}

const zeroStats = (): Stats => ({ conns: 0, inpkts: 0, outpkts: 0, inbytes: 0, outbytes: 0 });
const zeroRates = (): Rates => ({ cps: 0, inpps: 0, outpps: 0, inbps: 0, outbps: 0 });

function dest(addr: string, port: number, init: Partial<DestinationRow>): DestinationRow {
  return {
    addr: ip(addr),
    port,
    method: "masq",
    tunnel: { ...DEFAULT_TUNNEL },
    weight: 1,
    upperThreshold: 0,
    lowerThreshold: 0,
    activeConns: 0,
    inactiveConns: 0,
    persistConns: 0,
    stats: zeroStats(),
    rates: zeroRates(),
    ...init,
  };
}

function service(
  protocol: "tcp" | "udp",
  addr: string,
  port: number,
  init: Partial<ServiceRow>,
): ServiceRow {
  return {
    protocol,
    addr: ip(addr),
    port,
    schedulerName: "wlc",
    schedulerFlags: [],
    persistTimeout: 0,
    persistNetmask: 0xffffffff,
    stats: zeroStats(),
    rates: zeroRates(),
    destinations: [],
    ...init,
  };
}

/** Services and servers deliberately out of order, so sorting shows. */
export function labSnapshot(): ListSnapshot {
  return {
    connTableSize: 4096,
    services: [
      service("udp", "203.0.113.5", 53, {
        schedulerName: "sh",
        schedulerFlags: ["sh-fallback", "sh-port"],
        destinations: [
          dest("172.16.0.5", 53, { method: "local", weight: 0 }),
          dest("172.16.0.4", 53, { method: "tunnel", weight: 3, activeConns: 0, inactiveConns: 7 }),
        ],
      }),
      service("tcp", "203.0.113.5", 80, {
        stats: {
          conns: 123456789,
          inpkts: 99999999,
          outpkts: 1234567890123,
          inbytes: 98765432101,
          outbytes: 123456789012345,
        },
        rates: { cps: 5, inpps: 1234, outpps: 100000000, inbps: 150000000, outbps: 42 },
        destinations: [
          dest("172.16.0.3", 8000, {
            weight: 2,
            upperThreshold: 100,
            lowerThreshold: 50,
            activeConns: 12,
            inactiveConns: 3,
            stats: {
              conns: 1500,
              inpkts: 30000,
              outpkts: 25000,
              inbytes: 2000000,
              outbytes: 150000000,
            },
            rates: { cps: 2, inpps: 40, outpps: 987654321, inbps: 3200, outbps: 1000000000 },
          }),
          dest("172.16.0.2", 80, {
            activeConns: 1,
            inactiveConns: 22,
            stats: {
              conns: 750,
              inpkts: 15000,
              outpkts: 12500,
              inbytes: 1000000,
              outbytes: 75000000,
            },
            rates: { cps: 1, inpps: 20, outpps: 15, inbps: 1600, outbps: 120000 },
          }),
        ],
      }),
      service("tcp", "203.0.113.5", 21, {
        schedulerName: "rr",
        persistTimeout: 360,
        persistNetmask: ip("255.255.255.0"),
        destinations: [
          dest("172.16.0.3", 21, { method: "route", persistConns: 4, activeConns: 2 }),
        ],
      }),
      service("udp", "192.0.2.9", 5000, {
        schedulerName: "rr",
        schedulerFlags: ["flag-1", "flag-3"],
        onePacket: true,
        destinations: [dest("172.16.0.6", 5000, { weight: 65535 })],
      }),
      service("tcp", "198.51.100.200", 8080, {
        schedulerName: "wrr",
        persistTimeout: 300,
      }),
    ],
  };
}

/**
 * Every tunnel type and checksum option (--tun-type, --tun-port, --tun-*csum), next to
 * servers of the other methods, again out of order.
 */
export function tunnelSnapshot(): ListSnapshot {
  const tun = (addr: string, weight: number, tunnel: TunnelOptions) =>
    dest(addr, 80, { method: "tunnel", weight, tunnel });
  return {
    connTableSize: 4096,
    services: [
      service("udp", "203.0.113.7", 4789, {
        schedulerName: "rr",
        destinations: [
          dest("192.0.2.21", 4789, { method: "tunnel", tunnel: { ...DEFAULT_TUNNEL } }),
          dest("192.0.2.20", 4789, {
            method: "tunnel",
            weight: 2,
            tunnel: { type: "gue", port: 65535, checksum: "remcsum" },
          }),
        ],
      }),
      service("tcp", "203.0.113.7", 80, {
        destinations: [
          tun("192.0.2.16", 1, { type: "gre", port: 0, checksum: "csum" }),
          tun("192.0.2.15", 4, { type: "gre", port: 0, checksum: "nocsum" }),
          tun("192.0.2.14", 3, { type: "gue", port: 6082, checksum: "remcsum" }),
          tun("192.0.2.13", 2, { type: "gue", port: 6081, checksum: "csum" }),
          tun("192.0.2.12", 1, { type: "gue", port: 6080, checksum: "nocsum" }),
          tun("192.0.2.11", 5, { ...DEFAULT_TUNNEL }),
          dest("172.16.0.3", 80, { method: "route", activeConns: 2, inactiveConns: 1 }),
          dest("172.16.0.2", 8080, { activeConns: 9 }),
        ],
      }),
    ],
  };
}

export function labConnections(): ConnectionSnapshot[] {
  const c = (
    protocol: "tcp" | "udp",
    client: [string, number],
    virt: [string, number],
    real: [string, number],
    state: string,
    expiresInMs: number,
    template = false,
  ): ConnectionSnapshot => ({
    protocol,
    caddr: ip(client[0]),
    cport: client[1],
    vaddr: ip(virt[0]),
    vport: virt[1],
    daddr: ip(real[0]),
    dport: real[1],
    state,
    expiresInMs,
    template,
  });
  return [
    c(
      "tcp",
      ["198.51.100.2", 40001],
      ["203.0.113.5", 80],
      ["172.16.0.2", 80],
      "ESTABLISHED",
      899_999,
    ),
    c(
      "tcp",
      ["198.51.100.2", 40002],
      ["203.0.113.5", 80],
      ["172.16.0.3", 8000],
      "FIN_WAIT",
      61_500,
    ),
    c("udp", ["198.51.100.3", 5353], ["203.0.113.5", 53], ["172.16.0.4", 53], "UDP", 300_000),
    c("tcp", ["198.51.100.0", 0], ["203.0.113.5", 21], ["172.16.0.3", 21], "NONE", 359_000, true),
    c(
      "tcp",
      ["198.51.100.2", 40003],
      ["203.0.113.5", 21],
      ["172.16.0.3", 21],
      "SYN_RECV",
      6_000_999,
    ),
  ];
}
