// Every header field of a captured packet, in the order a student reads them (Ethernet, IP,
// TCP/UDP/ICMP, the payload's first line), and which of them differ between the packet before
// the director and after it: what the page highlights.
import type { Packet } from "../lab/analysis/packet.ts";
import { IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP } from "../director/packet/ipv4.ts";

export interface Field {
  /** The outer layers are a VS/TUN tunnel packet's (tunnel-fields.ts). */
  layer:
    | "Ethernet"
    | "Outer IP"
    | "Outer UDP"
    | "GUE"
    | "GRE"
    | "IP"
    | "TCP"
    | "UDP"
    | "ICMP"
    | "Payload";
  name: string;
  value: string;
}

/** The field's key in a diff: "IP source". */
export function fieldKey(f: Field): string {
  return `${f.layer} ${f.name}`;
}

function u16(b: Uint8Array, at: number): number {
  return (b[at] << 8) | b[at + 1];
}

export function hex16(n: number): string {
  return `0x${n.toString(16).padStart(4, "0")}`;
}

/** Bytes of the payload a teacher can read: its first line, printable characters only. */
function firstLine(payload: Uint8Array): string {
  const text = Buffer.from(payload.subarray(0, 120)).toString("latin1");
  return text.split(/\r?\n/)[0].replace(/[^\x20-\x7e]/g, ".");
}

/** The checksum field of the packet's L4 header, or null when not captured. */
export function l4Checksum(p: Packet): number | null {
  const b = p.ipBytes;
  const l4 = p.headerLength;
  if (p.fragmentOffset > 0) return null;
  const at = p.protocolNumber === IPPROTO_TCP
    ? l4 + 16
    : p.protocolNumber === IPPROTO_UDP
    ? l4 + 6
    : p.protocolNumber === IPPROTO_ICMP
    ? l4 + 2
    : -1;
  return at >= 0 && b.length >= at + 2 ? u16(b, at) : null;
}

/** The IP header checksum field. */
export function ipChecksum(p: Packet): number {
  return u16(p.ipBytes, 10);
}

function ok(good: boolean | null): string {
  return good === null ? "" : good ? " ✓" : " ✗ wrong";
}

/** Every field of the packet, as the page lists them. */
export function packetFields(p: Packet): Field[] {
  const f: Field[] = [];
  if (p.srcMac !== null && p.dstMac !== null) {
    f.push({ layer: "Ethernet", name: "source MAC", value: p.srcMac });
    f.push({ layer: "Ethernet", name: "destination MAC", value: p.dstMac });
  }
  const b = p.ipBytes;
  f.push(
    { layer: "IP", name: "header length", value: `${p.headerLength} bytes` },
    { layer: "IP", name: "TOS", value: hex16(b[1]).replace("0x00", "0x") },
    { layer: "IP", name: "total length", value: String(p.totalLength) },
    { layer: "IP", name: "id", value: String(p.ipId) },
    {
      layer: "IP",
      name: "flags/fragment",
      value: `${p.dontFragment ? "DF" : ""}${
        p.moreFragments ? " MF" : ""
      } offset ${p.fragmentOffset}`
        .trim(),
    },
    { layer: "IP", name: "TTL", value: String(p.ttl) },
    { layer: "IP", name: "protocol", value: `${p.protocolNumber} (${p.protocol})` },
    { layer: "IP", name: "header checksum", value: hex16(ipChecksum(p)) + ok(p.ipChecksumOk) },
    { layer: "IP", name: "source", value: p.src },
    { layer: "IP", name: "destination", value: p.dst },
  );
  const sum = l4Checksum(p);
  const sumText = sum === null ? "not captured" : hex16(sum) + ok(p.l4ChecksumOk);
  if (p.tcp) {
    f.push(
      { layer: "TCP", name: "source port", value: String(p.srcPort) },
      { layer: "TCP", name: "destination port", value: String(p.dstPort) },
      { layer: "TCP", name: "sequence", value: String(p.tcp.seq) },
      { layer: "TCP", name: "acknowledgment", value: String(p.tcp.ack) },
      { layer: "TCP", name: "flags", value: p.tcp.flagText },
      { layer: "TCP", name: "window", value: String(p.tcp.window) },
      { layer: "TCP", name: "checksum", value: sumText },
    );
  } else if (p.protocol === "udp" && p.srcPort !== null) {
    f.push(
      { layer: "UDP", name: "source port", value: String(p.srcPort) },
      { layer: "UDP", name: "destination port", value: String(p.dstPort) },
      { layer: "UDP", name: "checksum", value: sumText },
    );
  } else if (p.icmp) {
    f.push(
      { layer: "ICMP", name: "type/code", value: `${p.icmp.type}/${p.icmp.code}` },
      { layer: "ICMP", name: "checksum", value: sumText },
    );
    if (p.icmp.id !== null) f.push({ layer: "ICMP", name: "id", value: String(p.icmp.id) });
    const q = p.icmp.quoted;
    if (q) {
      const port = (n: number | null) => (n === null ? "" : `:${n}`);
      f.push({
        layer: "ICMP",
        name: "quoted packet",
        value: `${q.src}${port(q.srcPort)} > ${q.dst}${port(q.dstPort)}`,
      });
    }
  }
  if (p.payloadLength > 0) {
    f.push({ layer: "Payload", name: "length", value: `${p.payloadLength} bytes` });
    const line = firstLine(p.payload);
    // FTP's PORT/227 lines and HTTP's request line are what the helpers rewrite or route on.
    if (line) f.push({ layer: "Payload", name: "first line", value: line });
  }
  return f;
}

/** Keys of the fields whose values differ between the two packets (both have them). */
export function changedFields(before: readonly Field[], after: readonly Field[]): string[] {
  const old = new Map(before.map((f) => [fieldKey(f), f.value]));
  return after.filter((f) => old.has(fieldKey(f)) && old.get(fieldKey(f)) !== f.value)
    .map(fieldKey);
}
