// What the analysis knows about one captured IPv4 packet, decoded from a pcap frame.

export type Protocol = "tcp" | "udp" | "icmp" | "other";

export { TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, TCP_URG } from "../../director/packet/tcp.ts";
import { TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, TCP_URG } from "../../director/packet/tcp.ts";

export interface TcpInfo {
  /** Flag bits (TCP_SYN, TCP_ACK, ...). */
  flags: number;
  /** Flags as tcpdump prints them: "S", "S.", "P.", "F.", "R", "R.". */
  flagText: string;
  seq: number;
  ack: number;
  window: number;
  headerLength: number;
}

/** The IP header and first L4 bytes an ICMP error quotes (the packet it complains about). */
export interface QuotedHeader {
  src: string;
  dst: string;
  protocol: Protocol;
  protocolNumber: number;
  srcPort: number | null;
  dstPort: number | null;
  ipId: number;
}

export interface IcmpInfo {
  type: number;
  code: number;
  /** Echo request/reply identifier and sequence; null for other types. */
  id: number | null;
  sequence: number | null;
  /** For errors (unreachable, time exceeded, ...): the quoted header, when captured. */
  quoted: QuotedHeader | null;
}

export interface Packet {
  /** Frame number in the file, from 1 (as Wireshark numbers them). */
  index: number;
  /** Capture time, seconds since the epoch (microsecond resolution). */
  time: number;
  capturedLength: number;
  originalLength: number;
  /** Ethernet source and destination MAC ("02:00:00:00:00:01"); null without an L2 header (TUN). */
  srcMac: string | null;
  dstMac: string | null;
  /** The IPv4 packet as captured, header first (what a DR check compares byte for byte). */
  ipBytes: Uint8Array;
  src: string;
  dst: string;
  protocol: Protocol;
  protocolNumber: number;
  /** Null for ICMP, other protocols and non-first fragments. */
  srcPort: number | null;
  dstPort: number | null;
  ipId: number;
  ttl: number;
  headerLength: number;
  totalLength: number;
  dontFragment: boolean;
  moreFragments: boolean;
  /** Fragment offset in bytes. */
  fragmentOffset: number;
  tcp: TcpInfo | null;
  icmp: IcmpInfo | null;
  /** Bytes after the L4 header (after the IP header for non-first fragments and "other"). */
  payloadLength: number;
  /** The captured part of the payload (shorter than payloadLength when truncated). */
  payload: Uint8Array;
  ipChecksumOk: boolean;
  /** Full recomputation over pseudo-header + segment; null when it could not be checked. */
  l4ChecksumOk: boolean | null;
  /** Why the L4 checksum was not checked (fragment, truncated capture, ...), else null. */
  l4ChecksumNote: string | null;
}

/** "addr:port", or just the address when the packet has no port. */
export function endpoint(addr: string, port: number | null): string {
  return port === null ? addr : `${addr}:${port}`;
}

/** Source "addr:port" of a packet. */
export function source(p: Packet): string {
  return endpoint(p.src, p.srcPort);
}

/** Destination "addr:port" of a packet. */
export function destination(p: Packet): string {
  return endpoint(p.dst, p.dstPort);
}

/** tcpdump's flag notation: S, F, R, P, U, then "." for ACK. */
export function tcpFlagText(flags: number): string {
  let text = "";
  if (flags & TCP_SYN) text += "S";
  if (flags & TCP_FIN) text += "F";
  if (flags & TCP_RST) text += "R";
  if (flags & TCP_PSH) text += "P";
  if (flags & TCP_URG) text += "U";
  if (flags & TCP_ACK) text += ".";
  return text || "none";
}
