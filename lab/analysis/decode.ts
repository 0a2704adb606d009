// Decodes one captured frame into a Packet: link layer (Ethernet, raw IP, Linux cooked) →
// IPv4 → TCP/UDP/ICMP, verifying the IP and L4 checksums by full recomputation.
import { icmpChecksumOk, ipHeaderChecksumOk, l4ChecksumOk } from "./checksum.ts";
import {
  type IcmpInfo,
  type Packet,
  type Protocol,
  type QuotedHeader,
  tcpFlagText,
} from "./packet.ts";
import { IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP } from "../../director/packet/ipv4.ts";

export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_RAW = 101;
export const LINKTYPE_LINUX_SLL = 113;
export const LINKTYPE_IPV4 = 228;
export const LINKTYPE_LINUX_SLL2 = 276;

export const SUPPORTED_LINK_TYPES = [
  LINKTYPE_ETHERNET,
  LINKTYPE_RAW,
  LINKTYPE_LINUX_SLL,
  LINKTYPE_IPV4,
  LINKTYPE_LINUX_SLL2,
];

export interface FrameMeta {
  index: number;
  time: number;
  originalLength: number;
}

/** A decoded IPv4 packet, or the reason the frame is not one. */
export type DecodeResult = { packet: Packet } | { skipped: string };

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_VLAN = [0x8100, 0x88a8];
/** ICMP types whose body quotes the offending packet's header. */
const ICMP_ERROR_TYPES = new Set([3, 4, 5, 11, 12]);

function u16(b: Uint8Array, at: number): number {
  return (b[at] << 8) | b[at + 1];
}

function u32(b: Uint8Array, at: number): number {
  return ((b[at] << 24) >>> 0) + ((b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]);
}

function addr(b: Uint8Array, at: number): string {
  return `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
}

/** "02:00:00:00:00:01": six bytes from `at`, as ip link prints them. */
export function macText(b: Uint8Array, at: number): string {
  const parts: string[] = [];
  for (let i = 0; i < 6; i++) parts.push(b[at + i].toString(16).padStart(2, "0"));
  return parts.join(":");
}

function protocolName(n: number): Protocol {
  return n === IPPROTO_TCP
    ? "tcp"
    : n === IPPROTO_UDP
    ? "udp"
    : n === IPPROTO_ICMP
    ? "icmp"
    : "other";
}

/** Offset of the IPv4 header in the frame, or a reason why there is none. */
function ipv4Offset(linkType: number, frame: Uint8Array): number | string {
  switch (linkType) {
    case LINKTYPE_ETHERNET: {
      if (frame.length < 14) return "Ethernet frame shorter than its header";
      let off = 12;
      let type = u16(frame, off);
      while (ETHERTYPE_VLAN.includes(type) && frame.length >= off + 6) {
        off += 4;
        type = u16(frame, off);
      }
      if (type !== ETHERTYPE_IPV4) return `not IPv4 (ethertype 0x${type.toString(16)})`;
      return off + 2;
    }
    case LINKTYPE_RAW:
      if (frame.length < 1) return "empty frame";
      return frame[0] >> 4 === 4 ? 0 : `not IPv4 (IP version ${frame[0] >> 4})`;
    case LINKTYPE_IPV4:
      return 0;
    case LINKTYPE_LINUX_SLL: {
      if (frame.length < 16) return "cooked frame shorter than its header";
      const type = u16(frame, 14);
      return type === ETHERTYPE_IPV4 ? 16 : `not IPv4 (protocol 0x${type.toString(16)})`;
    }
    case LINKTYPE_LINUX_SLL2: {
      if (frame.length < 20) return "cooked frame shorter than its header";
      const type = u16(frame, 0);
      return type === ETHERTYPE_IPV4 ? 20 : `not IPv4 (protocol 0x${type.toString(16)})`;
    }
    default:
      return `link type ${linkType} is not supported`;
  }
}

function decodeQuoted(b: Uint8Array, off: number, end: number): QuotedHeader | null {
  if (end - off < 20 || b[off] >> 4 !== 4) return null;
  const hl = (b[off] & 15) * 4;
  if (hl < 20 || off + hl > end) return null;
  const protocolNumber = b[off + 9];
  const protocol = protocolName(protocolNumber);
  const fragOffset = u16(b, off + 6) & 0x1fff;
  const hasPorts = (protocol === "tcp" || protocol === "udp") && fragOffset === 0 &&
    off + hl + 4 <= end;
  return {
    src: addr(b, off + 12),
    dst: addr(b, off + 16),
    protocol,
    protocolNumber,
    srcPort: hasPorts ? u16(b, off + hl) : null,
    dstPort: hasPorts ? u16(b, off + hl + 2) : null,
    ipId: u16(b, off + 4),
  };
}

/** Decodes the frame; `frame` holds the captured bytes only. */
export function decodeFrame(linkType: number, frame: Uint8Array, meta: FrameMeta): DecodeResult {
  const ip = ipv4Offset(linkType, frame);
  if (typeof ip === "string") return { skipped: ip };
  if (frame.length < ip + 20) return { skipped: "IPv4 header not captured whole" };
  if (frame[ip] >> 4 !== 4) return { skipped: `not IPv4 (IP version ${frame[ip] >> 4})` };
  const headerLength = (frame[ip] & 15) * 4;
  const totalLength = u16(frame, ip + 2);
  if (headerLength < 20) return { skipped: `malformed IPv4 header (length ${headerLength})` };
  if (frame.length < ip + headerLength) return { skipped: "IPv4 header not captured whole" };
  if (totalLength < headerLength) {
    return { skipped: `malformed IPv4 packet (total length ${totalLength})` };
  }
  // The IP total length, not the frame, says where the packet ends (Ethernet pads to 60).
  const end = Math.min(frame.length, ip + totalLength);
  const truncated = frame.length < ip + totalLength;
  const fragWord = u16(frame, ip + 6);
  const moreFragments = (fragWord & 0x2000) !== 0;
  const fragmentOffset = (fragWord & 0x1fff) * 8;
  const protocolNumber = frame[ip + 9];
  const protocol = protocolName(protocolNumber);
  const packet: Packet = {
    index: meta.index,
    time: meta.time,
    capturedLength: frame.length,
    originalLength: meta.originalLength,
    // Only Ethernet frames carry both MACs (cooked captures keep the sender's alone).
    srcMac: linkType === LINKTYPE_ETHERNET ? macText(frame, 6) : null,
    dstMac: linkType === LINKTYPE_ETHERNET ? macText(frame, 0) : null,
    ipBytes: frame.subarray(ip, end),
    src: addr(frame, ip + 12),
    dst: addr(frame, ip + 16),
    protocol,
    protocolNumber,
    srcPort: null,
    dstPort: null,
    ipId: u16(frame, ip + 4),
    ttl: frame[ip + 8],
    headerLength,
    totalLength,
    dontFragment: (fragWord & 0x4000) !== 0,
    moreFragments,
    fragmentOffset,
    tcp: null,
    icmp: null,
    payloadLength: totalLength - headerLength,
    payload: frame.subarray(ip + headerLength, end),
    ipChecksumOk: ipHeaderChecksumOk(frame, ip, headerLength),
    l4ChecksumOk: null,
    l4ChecksumNote: null,
  };
  const l4 = ip + headerLength;
  const l4Length = totalLength - headerLength;
  if (fragmentOffset > 0) {
    packet.l4ChecksumNote = "a non-first fragment (the checksum covers the whole datagram)";
    return { packet };
  }
  if (protocol === "tcp") {
    if (end - l4 < 20) {
      packet.l4ChecksumNote = "TCP header not captured whole";
      return { packet };
    }
    const tcpHeaderLength = (frame[l4 + 12] >> 4) * 4;
    const flags = frame[l4 + 13];
    packet.srcPort = u16(frame, l4);
    packet.dstPort = u16(frame, l4 + 2);
    packet.tcp = {
      flags,
      flagText: tcpFlagText(flags),
      seq: u32(frame, l4 + 4),
      ack: u32(frame, l4 + 8),
      window: u16(frame, l4 + 14),
      headerLength: tcpHeaderLength,
    };
    packet.payloadLength = Math.max(0, l4Length - tcpHeaderLength);
    packet.payload = frame.subarray(Math.min(end, l4 + tcpHeaderLength), end);
  } else if (protocol === "udp") {
    if (end - l4 < 8) {
      packet.l4ChecksumNote = "UDP header not captured whole";
      return { packet };
    }
    packet.srcPort = u16(frame, l4);
    packet.dstPort = u16(frame, l4 + 2);
    packet.payloadLength = Math.max(0, l4Length - 8);
    packet.payload = frame.subarray(l4 + 8, end);
  } else if (protocol === "icmp") {
    if (end - l4 < 8) {
      packet.l4ChecksumNote = "ICMP header not captured whole";
      return { packet };
    }
    const type = frame[l4];
    const echo = type === 0 || type === 8;
    const icmp: IcmpInfo = {
      type,
      code: frame[l4 + 1],
      id: echo ? u16(frame, l4 + 4) : null,
      sequence: echo ? u16(frame, l4 + 6) : null,
      quoted: ICMP_ERROR_TYPES.has(type) ? decodeQuoted(frame, l4 + 8, end) : null,
    };
    packet.icmp = icmp;
    packet.payloadLength = l4Length - 8;
    packet.payload = frame.subarray(l4 + 8, end);
  } else {
    packet.l4ChecksumNote = `protocol ${protocolNumber} is not checked`;
    return { packet };
  }
  if (moreFragments) {
    packet.l4ChecksumNote = "a first fragment (the checksum covers the whole datagram)";
  } else if (truncated) {
    packet.l4ChecksumNote = "the capture holds only part of the packet";
  } else if (protocol === "icmp") {
    packet.l4ChecksumOk = icmpChecksumOk(frame, l4, l4Length);
  } else if (protocol === "udp" && u16(frame, l4 + 6) === 0) {
    packet.l4ChecksumOk = true; // UDP: 0 means the sender sent no checksum
    packet.l4ChecksumNote = "UDP without checksum (0)";
  } else {
    packet.l4ChecksumOk = l4ChecksumOk(frame, ip, l4, l4Length, protocolNumber);
  }
  return { packet };
}
