// Test helpers (not used by the lab itself): one TCP connection through a VS/DR lab as its
// captures would hold it, with the DR lab's addresses (lab/topologies/dr.ts) and made-up
// MACs, and hooks to inject the faults a DR check must catch.
import type { HostLink } from "../capture/host-links.ts";
import {
  buildIpv4,
  emitExchange,
  ethernetFrame,
  mergeServerRecords,
  type PacketSpec,
  type PcapRecord,
} from "./test-support.ts";

/** The DR lab's interfaces, with made-up MACs. */
export const DR_LINKS: HostLink[] = [
  link("client", "client", "public", "198.51.100.2", "02:00:00:00:01:02"),
  link("router", "router", "public", "198.51.100.254", "02:00:00:00:01:fe", "eth0"),
  link("router", "router", "lan", "172.16.0.254", "02:00:00:00:02:fe", "eth1"),
  link("director", "director", "lan", "172.16.0.253", "02:00:00:00:02:fd"),
  link("rs1", "realserver", "lan", "172.16.0.2", "02:00:00:00:02:02"),
  link("rs2", "realserver", "lan", "172.16.0.3", "02:00:00:00:02:03"),
];

function link(
  host: string,
  role: HostLink["role"],
  network: string,
  address: string,
  mac: string,
  device = "eth0",
): HostLink {
  return { host, role, device, network, address, mac };
}

function macOf(host: string, network: string): string {
  return DR_LINKS.find((l) => l.host === host && l.network === network)!.mac;
}

export const DR_MAC = {
  client: macOf("client", "public"),
  routerPublic: macOf("router", "public"),
  routerLan: macOf("router", "lan"),
  director: macOf("director", "lan"),
  rs1: macOf("rs1", "lan"),
  rs2: macOf("rs2", "lan"),
};

/** Where a frame was captured: its place on the path. */
export type DrPlace =
  | "public" // client → VIP on the router's public interface
  | "arrived" // router → director on the director's port
  | "left" // director → real server on the director's port
  | "server" // director → real server on the server's port
  | "reply-server" // server → router on the server's port
  | "reply-public"; // router → client on the router's public interface

export interface DrFrame {
  srcMac: string;
  dstMac: string;
  ip: PacketSpec;
  /** Changes bytes of the built IP packet (a director that alters what it must not). */
  mangle?: (ip: Uint8Array) => void;
}

export interface DrConnectionSpec {
  clientPort: number;
  vport?: number;
  server: "rs1" | "rs2";
  t0: number;
  clientIsn?: number;
  ipId?: number;
  /** Changes a frame before it is built; `index` counts the connection's packets from 0. */
  tamper?: (frame: DrFrame, place: DrPlace, index: number) => DrFrame;
  /** Sends the server's replies through the director (a NAT-style route: a fault in DR). */
  replyViaDirector?: boolean;
}

export interface DrCaptures {
  public: PcapRecord[];
  lan: PcapRecord[];
  /** Per real server host, its own interface's capture. */
  servers: Record<string, PcapRecord[]>;
}

export const DR_CLIENT = "198.51.100.2";
export const DR_VIP = "203.0.113.5";
const CLIENT_TTL = 64;
const STEP_S = 0.0001;

/** The handshake, a request, a response and the close of one connection, captured. */
export function drConnection(c: DrConnectionSpec): DrCaptures {
  const out: DrCaptures = { public: [], lan: [], servers: { rs1: [], rs2: [] } };
  const vport = c.vport ?? 80;
  const cIsn = c.clientIsn ?? 1000;
  const sIsn = 5000;
  const req = "GET / HTTP/1.1\r\n\r\n";
  const resp = "HTTP/1.1 200 OK\r\n\r\nhello";
  let cId = c.ipId ?? 100;
  let sId = cId + 1000;
  let t = c.t0;
  let n = 0;
  const rsMac = DR_MAC[c.server];
  const tamper = c.tamper ?? ((f: DrFrame) => f);
  const put = (list: PcapRecord[], f: DrFrame, place: DrPlace, i: number, at: number) => {
    const g = tamper(f, place, i);
    const ip = buildIpv4(g.ip);
    g.mangle?.(ip);
    list.push({ time: at, data: ethernetFrame(ip, { src: g.srcMac, dst: g.dstMac }) });
  };
  const emit = (fromClient: boolean, flags: string, seq: number, ack: number, payload = "") => {
    const i = n++;
    const base = { protocol: "tcp" as const, flags, seq, ack, payload };
    if (fromClient) {
      const ip = (ttl: number): PacketSpec => ({
        ...base,
        src: DR_CLIENT,
        srcPort: c.clientPort,
        dst: DR_VIP,
        dstPort: vport,
        ipId: cId,
        ttl,
      });
      put(
        out.public,
        { srcMac: DR_MAC.client, dstMac: DR_MAC.routerPublic, ip: ip(64) },
        "public",
        i,
        t,
      );
      put(
        out.lan,
        { srcMac: DR_MAC.routerLan, dstMac: DR_MAC.director, ip: ip(63) },
        "arrived",
        i,
        t + STEP_S,
      );
      put(
        out.lan,
        { srcMac: DR_MAC.director, dstMac: rsMac, ip: ip(62) },
        "left",
        i,
        t + 2 * STEP_S,
      );
      put(
        out.servers[c.server],
        { srcMac: DR_MAC.director, dstMac: rsMac, ip: ip(62) },
        "server",
        i,
        t + 3 * STEP_S,
      );
      cId++;
    } else {
      const ip = (ttl: number): PacketSpec => ({
        ...base,
        src: DR_VIP,
        srcPort: vport,
        dst: DR_CLIENT,
        dstPort: c.clientPort,
        ipId: sId,
        ttl,
      });
      const next = c.replyViaDirector ? DR_MAC.director : DR_MAC.routerLan;
      put(
        out.servers[c.server],
        { srcMac: rsMac, dstMac: next, ip: ip(CLIENT_TTL) },
        "reply-server",
        i,
        t,
      );
      if (c.replyViaDirector) {
        out.lan.push({
          time: t + STEP_S,
          data: ethernetFrame(buildIpv4(ip(CLIENT_TTL)), { src: rsMac, dst: DR_MAC.director }),
        });
        out.lan.push({
          time: t + 2 * STEP_S,
          data: ethernetFrame(buildIpv4(ip(CLIENT_TTL - 1)), {
            src: DR_MAC.director,
            dst: DR_MAC.routerLan,
          }),
        });
      }
      put(
        out.public,
        { srcMac: DR_MAC.routerPublic, dstMac: DR_MAC.client, ip: ip(CLIENT_TTL - 1) },
        "reply-public",
        i,
        t + 3 * STEP_S,
      );
      sId++;
    }
    t += 0.001;
  };
  emitExchange(emit, cIsn, sIsn, req, resp);
  return out;
}

/** Concatenates captures of several connections, each file in time order. */
export function mergeDrCaptures(list: readonly DrCaptures[]): DrCaptures {
  const byTime = (a: PcapRecord, b: PcapRecord) => a.time - b.time;
  const servers = mergeServerRecords(list);
  return {
    public: list.flatMap((c) => c.public).sort(byTime),
    lan: list.flatMap((c) => c.lan).sort(byTime),
    servers,
  };
}
