// Prints packets and twin pairs the way the LVS article shows VS/NAT rewriting:
//   SOURCE 202.100.1.2:3456 DEST 202.103.106.5:80  →  SOURCE 202.100.1.2:3456 DEST 172.16.0.3:8000
import { destination, type Packet, source } from "./packet.ts";
import type { TwinPair } from "./twins.ts";

/** "SOURCE a:p DEST b:q" (addresses only for packets without ports). */
export function formatSourceDest(p: Packet): string {
  return `SOURCE ${source(p)} DEST ${destination(p)}`;
}

/** Short protocol details: "TCP S", "TCP P. 73 bytes", "UDP 12 bytes", "ICMP 3/3". */
export function describePacket(p: Packet): string {
  if (p.tcp) {
    const len = p.payloadLength > 0 ? ` ${p.payloadLength} bytes` : "";
    return `TCP ${p.tcp.flagText}${len}`;
  }
  if (p.icmp) return `ICMP ${p.icmp.type}/${p.icmp.code}`;
  if (p.protocol === "udp") return `UDP ${p.payloadLength} bytes`;
  return `IP protocol ${p.protocolNumber}`;
}

/** One line per packet: "#12 198.51.100.2:3456 -> 203.0.113.5:80 TCP S". */
export function formatPacket(p: Packet): string {
  return `#${p.index} ${source(p)} -> ${destination(p)} ${describePacket(p)}`;
}

export interface PairFormatOptions {
  /** Append where each packet was seen and its flags (default true). */
  annotate?: boolean;
  /** Names of the two networks (default "client network" and "private network"). */
  publicName?: string;
  privateName?: string;
}

/**
 * Two lines, before and after the director:
 *   before: SOURCE 198.51.100.2:3456 DEST 203.0.113.5:80
 *   after:  SOURCE 198.51.100.2:3456 DEST 172.16.0.3:8000
 */
export function formatPair(pair: TwinPair, options: PairFormatOptions = {}): string {
  const annotate = options.annotate ?? true;
  const pub = options.publicName ?? "client network";
  const priv = options.privateName ?? "private network";
  const where = (p: Packet) => (p === pair.public ? pub : priv);
  const before = formatSourceDest(pair.before);
  const after = formatSourceDest(pair.after);
  if (!annotate) return `before: ${before}\nafter:  ${after}`;
  const width = Math.max(before.length, after.length);
  const note = (p: Packet) => `  (${where(p)} #${p.index}, ${describePacket(p)})`;
  return `before: ${before.padEnd(width)}${note(pair.before)}\n` +
    `after:  ${after.padEnd(width)}${note(pair.after)}`;
}
