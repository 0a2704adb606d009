// A virtual service as the assertions see it: what clients call and where it may go.
import { parseCidr } from "../topology.ts";
import { parseIPv4, prefixMask } from "../../director/net/ipv4-address.ts";

export interface ServiceSpec {
  protocol: "tcp" | "udp";
  /** Virtual address, e.g. "203.0.113.5". */
  vip: string;
  port: number;
  /** Real servers as "addr:port", e.g. ["172.16.0.2:80", "172.16.0.3:8000"]. */
  servers: string[];
}

/** "203.0.113.5:80". */
export function serviceName(s: ServiceSpec): string {
  return `${s.vip}:${s.port}`;
}

/** A predicate "is this address inside one of these prefixes". */
export function inPrefixes(cidrs: readonly string[]): (addr: string) => boolean {
  const prefixes = cidrs.map((c) => {
    const p = parseCidr(c);
    if (!p) throw new Error(`'${c}' is not a prefix like 172.16.0.0/24`);
    return { net: (p.addr & prefixMask(p.bits)) >>> 0, mask: prefixMask(p.bits) };
  });
  return (addr: string) => {
    const a = parseIPv4(addr);
    return a !== null && prefixes.some((p) => ((a & p.mask) >>> 0) === p.net);
  };
}
