// The data the ipvsadm formatters print: plain snapshots of the director's tables, filled
// by the control layer (the kernel's GET_SERVICES / GET_DESTS / /proc/net/ip_vs_conn in
// real ipvsadm). Addresses are unsigned 32-bit numbers, ports host-order numbers.

import type { ListedForwardMethod } from "../forwarding/method-names.ts";
import type { TunnelOptions } from "../service/tunnel-options.ts";

/** Counters, as ipvsadm --stats prints them (struct ip_vs_stats_user, 64-bit). */
export interface Stats {
  conns: number;
  inpkts: number;
  outpkts: number;
  inbytes: number;
  outbytes: number;
}

/** Rates (per second, 2 s moving average), as ipvsadm --rate prints them. */
export interface Rates {
  cps: number;
  inpps: number;
  outpps: number;
  inbps: number;
  outbps: number;
}

/** The forwarding method of a listed real server. */
export type ForwardMethodName = ListedForwardMethod;

export interface DestinationRow {
  addr: number;
  port: number;
  method: ForwardMethodName;
  /** tun_type, tun_port, tun_flags: what --tun-info and -S print for a Tunnel server. */
  tunnel: TunnelOptions;
  weight: number;
  upperThreshold: number;
  lowerThreshold: number;
  activeConns: number;
  inactiveConns: number;
  persistConns: number;
  stats: Stats;
  rates: Rates;
}

export interface ServiceRow {
  protocol: "tcp" | "udp";
  addr: number;
  port: number;
  schedulerName: string;
  /** Flag names as ipvsadm -b takes them (flag-1, sh-port, mh-fallback, ...). */
  schedulerFlags: string[];
  /** Persistence timeout in seconds; 0 = not persistent. */
  persistTimeout: number;
  /** Persistence granularity as a 32-bit mask (0xffffffff = per client address). */
  persistNetmask: number;
  /** One-packet scheduling (-o); absent = off. */
  onePacket?: boolean;
  stats: Stats;
  rates: Rates;
  destinations: DestinationRow[];
}

export interface ListSnapshot {
  /** Connection hash table size, printed as "(size=4096)". */
  connTableSize: number;
  services: ServiceRow[];
}

export interface ConnectionSnapshot {
  protocol: "tcp" | "udp";
  caddr: number;
  cport: number;
  vaddr: number;
  vport: number;
  daddr: number;
  dport: number;
  /** State name as IPVS spells it (ESTABLISHED, SYN_RECV, UDP, NONE for templates, ...). */
  state: string;
  expiresInMs: number;
  /** A persistence template (client port 0); printed like any other entry, as IPVS does. */
  template: boolean;
}

export interface TimeoutsSnapshot {
  tcp: number;
  tcpfin: number;
  udp: number;
}
