// Test helpers (not used by the lab itself): one TCP connection through a VS/TUN lab as its
// captures would hold it, with the TUN lab's address plan (client 198.51.100.2, director
// 172.16.1.2, rs1 172.16.2.2, rs2 172.16.3.2, VIP 203.0.113.5), the tunnel packets built
// here with the reference checksum (sharing no code with the director or the analysis), and
// hooks to inject the faults a TUN check must catch.
import { refFold, words } from "../../director/packet/test-support.ts";
import { parseIPv4 } from "../../director/net/ipv4-address.ts";
import type { HostLink } from "../capture/host-links.ts";
import {
  buildIpv4,
  emitExchange,
  ethernetFrame,
  mergeServerRecords,
  type PacketSpec,
  type PcapRecord,
} from "./test-support.ts";

export const TUN_CLIENT = "198.51.100.2";
export const TUN_VIP = "203.0.113.5";
export const TUN_DIRECTOR = "172.16.1.2";
export const TUN_SERVERS = { rs1: "172.16.2.2", rs2: "172.16.3.2" } as const;

function link(host: string, role: HostLink["role"], network: string, address: string): HostLink {
  return { host, role, device: "eth0", network, address, mac: "02:00:00:00:00:01" };
}

/** The TUN lab's interfaces (MACs do not matter to the TUN checks). */
export const TUN_LINKS: HostLink[] = [
  link("client", "client", "public", TUN_CLIENT),
  link("router", "router", "public", "198.51.100.254"),
  link("router", "router", "dirnet", "172.16.1.254"),
  link("director", "director", "dirnet", TUN_DIRECTOR),
  link("rs1", "realserver", "lan2", TUN_SERVERS.rs1),
  link("rs2", "realserver", "lan3", TUN_SERVERS.rs2),
];

export interface TunnelSpec {
  type: "ipip" | "gue" | "gre";
  /** GUE's UDP port (default 6080). */
  port?: number;
  /** GRE checksum, or GUE's UDP checksum (default: none / zero). */
  checksum?: boolean;
  src?: string;
  dst: string;
  ttl: number;
  tos?: number;
  df?: boolean;
  /** Changes the built tunnel packet (a broken GRE checksum, ...). */
  mangle?: (outer: Uint8Array) => void;
}

function put16(b: Uint8Array, at: number, v: number): void {
  b[at] = (v >> 8) & 0xff;
  b[at + 1] = v & 0xff;
}

/** The tunnel packet around `inner`, checksums computed by the reference sum. */
export function buildTunnel(inner: Uint8Array, t: TunnelSpec): Uint8Array {
  const guePort = t.port ?? 6080;
  const head = t.type === "ipip" ? 0 : t.type === "gue" ? 12 : t.checksum ? 8 : 4;
  const b = new Uint8Array(20 + head + inner.length);
  b[0] = 0x45;
  b[1] = t.tos ?? 0;
  put16(b, 2, b.length);
  put16(b, 6, (t.df ?? true) ? 0x4000 : 0);
  b[8] = t.ttl;
  b[9] = t.type === "ipip" ? 4 : t.type === "gue" ? 17 : 47;
  const src = parseIPv4(t.src ?? TUN_DIRECTOR)!;
  const dst = parseIPv4(t.dst)!;
  for (let i = 0; i < 4; i++) {
    b[12 + i] = (src >>> (24 - 8 * i)) & 0xff;
    b[16 + i] = (dst >>> (24 - 8 * i)) & 0xff;
  }
  b.set(inner, 20 + head);
  if (t.type === "gue") {
    put16(b, 20, 40000);
    put16(b, 22, guePort);
    put16(b, 24, 8 + 4 + inner.length);
    b[29] = 4; // GUE: version 0, hlen 0, protocol 4, flags 0
    if (t.checksum) {
      const len = 8 + 4 + inner.length;
      let sum = ~refFold([...words(b, 12, 8), 17, len, ...words(b, 20, len)]) & 0xffff;
      if (sum === 0) sum = 0xffff;
      put16(b, 26, sum);
    }
  } else if (t.type === "gre") {
    b[20] = t.checksum ? 0x80 : 0;
    put16(b, 22, 0x0800);
    if (t.checksum) put16(b, 24, ~refFold(words(b, 20, b.length - 20)) & 0xffff);
  }
  put16(b, 10, ~refFold(words(b, 0, 20)) & 0xffff);
  t.mangle?.(b);
  return b;
}

/** Where a packet was captured: its place on the path. */
export type TunPlace =
  | "public" // client → VIP on the router's public interface
  | "arrived" // router → director on the director's port
  | "left" // the tunnel packet on the director's port
  | "server" // the tunnel packet on the server's port
  | "reply-server" // server → client on the server's port
  | "reply-public"; // router → client on the router's public interface

export interface TunConnectionSpec {
  clientPort: number;
  vport?: number;
  server: "rs1" | "rs2";
  t0: number;
  tunnel?: Omit<TunnelSpec, "dst" | "ttl">;
  ipId?: number;
  /** Changes the inner packet the director sends (index: the connection's packet from 0). */
  tamperInner?: (ip: PacketSpec, index: number) => PacketSpec;
  /** Changes the outer header the director writes. */
  tamperOuter?: (t: TunnelSpec, index: number) => TunnelSpec;
  /** Sends the server's replies through the director (a fault in TUN). */
  replyViaDirector?: boolean;
  /** Client payload bytes of the request (default a short GET). */
  request?: string;
}

export interface TunCaptures {
  public: PcapRecord[];
  director: PcapRecord[];
  servers: Record<string, PcapRecord[]>;
}

const STEP_S = 0.0001;

function frame(ip: Uint8Array): Uint8Array {
  return ethernetFrame(ip);
}

/** The handshake, a request, a response and the close of one connection, captured. */
export function tunConnection(c: TunConnectionSpec): TunCaptures {
  const out: TunCaptures = { public: [], director: [], servers: { rs1: [], rs2: [] } };
  const vport = c.vport ?? 80;
  const tunnel = c.tunnel ?? { type: "ipip" as const };
  const rip = TUN_SERVERS[c.server];
  const req = c.request ?? "GET / HTTP/1.1\r\n\r\n";
  const resp = "HTTP/1.1 200 OK\r\n\r\nhello";
  let cId = c.ipId ?? 100;
  let t = c.t0;
  let n = 0;
  const emit = (fromClient: boolean, flags: string, seq: number, ack: number, payload = "") => {
    const i = n++;
    const base = { protocol: "tcp" as const, flags, seq, ack, payload };
    if (fromClient) {
      const ip = (ttl: number): PacketSpec => ({
        ...base,
        src: TUN_CLIENT,
        srcPort: c.clientPort,
        dst: TUN_VIP,
        dstPort: vport,
        ipId: cId,
        ttl,
      });
      out.public.push({ time: t, data: frame(buildIpv4(ip(64))) });
      out.director.push({ time: t + STEP_S, data: frame(buildIpv4(ip(63))) });
      const innerSpec = c.tamperInner?.(ip(62), i) ?? ip(62);
      const spec = { ...tunnel, dst: rip, ttl: innerSpec.ttl ?? 62 };
      const outer = c.tamperOuter?.(spec, i) ?? spec;
      const left = buildTunnel(buildIpv4(innerSpec), outer);
      out.director.push({ time: t + 2 * STEP_S, data: frame(left) });
      const atServer = buildTunnel(buildIpv4(innerSpec), { ...outer, ttl: outer.ttl - 1 });
      out.servers[c.server].push({ time: t + 3 * STEP_S, data: frame(atServer) });
      cId++;
    } else {
      const ip = (ttl: number): PacketSpec => ({
        ...base,
        src: TUN_VIP,
        srcPort: vport,
        dst: TUN_CLIENT,
        dstPort: c.clientPort,
        ipId: cId + 1000,
        ttl,
      });
      out.servers[c.server].push({ time: t, data: frame(buildIpv4(ip(64))) });
      if (c.replyViaDirector) {
        out.director.push({ time: t + STEP_S, data: frame(buildIpv4(ip(63))) });
      }
      out.public.push({ time: t + 2 * STEP_S, data: frame(buildIpv4(ip(63))) });
    }
    t += 0.001;
  };
  const cIsn = 1000;
  const sIsn = 5000;
  emitExchange(emit, cIsn, sIsn, req, resp);
  return out;
}

/** Concatenates captures of several connections, each file in time order. */
export function mergeTunCaptures(list: readonly TunCaptures[]): TunCaptures {
  const byTime = (a: PcapRecord, b: PcapRecord) => a.time - b.time;
  const servers = mergeServerRecords(list);
  return {
    public: list.flatMap((c) => c.public).sort(byTime),
    director: list.flatMap((c) => c.director).sort(byTime),
    servers,
  };
}
