// Receive offload for the decapsulator, as the kernel's GRO does for a NIC: consecutive inner
// TCP segments of one flow within one recvmmsg batch are merged into one super-packet and
// written to the TUN device (opened with IFF_VNET_HDR) with a virtio_net_hdr saying
// GSO_TCPV4 and gso_size = the segments' MSS, so the real server's TCP takes one packet of up
// to 64 KB instead of forty: the cost per packet (write(2), the stack's receive path) is paid
// once. Nothing waits for more packets: the batch's end writes what is pending.
//
// What merges follows tcp_gro_receive/inet_gro_receive: same addresses, ports, TOS, TTL and
// DF bit, no IP options or fragments, seq contiguous, ack number, window, data offset and
// option bytes identical, flags ACK alone (PSH ends a merge, after the segment that has it;
// SYN, FIN, RST, URG, ECE, CWR never merge), every segment but the last of gso_size bytes
// (a shorter one ends the merge), the whole within 65535 bytes.
//
// Checksums: the super-packet's TCP checksum is computed from the segments' own checksum
// fields and headers (each segment's payload sum is -(pseudo-header + header + checksum),
// RFC 1071's algebra; a payload at an odd offset contributes its sum byte-swapped), so no
// payload byte is summed here, and the vnet header does NOT set NEEDS_CSUM: the kernel
// verifies the super-packet's checksum as it verified each segment (CHECKSUM_NONE). A
// corrupted segment makes the whole super-packet fail that check and be dropped (TCP
// resends it): it is never laundered into a valid packet. The inner IPv4 header checksums
// were verified by decapsulate(); the super-packet's is recomputed.
import { VNET_HDR_LEN } from "../../director/packet/vnet-header.ts";
import {
  foldSum,
  internetChecksum,
  pseudoHeaderSum,
  sumBytes,
} from "../../director/packet/checksum.ts";

/** virtio_net_hdr gso_type for TCP over IPv4 (<linux/virtio_net.h>). */
export const VIRTIO_NET_HDR_GSO_TCPV4 = 1;
/** Largest IPv4 total length: the super-packet's bound, as GRO's 64 KB. */
export const MAX_MERGED_LENGTH = 65535;
/** Room the caller keeps for the merged packet and its vnet header. */
export const MERGE_AREA_SIZE = VNET_HDR_LEN + MAX_MERGED_LENGTH;

const IPPROTO_TCP = 6;
const IPV4_HEADER_LEN = 20;
const TCP_MIN_HEADER_LEN = 20;
const TCP_ACK = 0x10;
const TCP_PSH = 0x08;
/** frag_off bits other than DF: MF and the fragment offset. */
const IP_FRAGMENT_BITS = 0x3fff;

/** Writes buf[0, count) to the TUN device; returns the bytes written or -1. */
export type WriteFn = (buf: Uint8Array, count: number) => number;

function u16(b: Uint8Array, at: number): number {
  return (b[at]! << 8) | b[at + 1]!;
}

function u32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

function put16(b: Uint8Array, at: number, v: number): void {
  b[at] = (v >>> 8) & 0xff;
  b[at + 1] = v & 0xff;
}

function put16le(b: Uint8Array, at: number, v: number): void {
  b[at] = v & 0xff;
  b[at + 1] = (v >>> 8) & 0xff;
}

/**
 * The ones' complement sum of the TCP segment's payload at mem[ip] (as placed at an even
 * offset), derived from its checksum field: a valid segment sums to -0 with pseudo-header,
 * header and checksum, so the payload's sum is -(the rest) = ~fold(rest). No payload byte is
 * read.
 */
function payloadSum(mem: Uint8Array, ip: number, thl: number, tcpLen: number): number {
  const pseudo = pseudoHeaderSum(u32(mem, ip + 12), u32(mem, ip + 16), IPPROTO_TCP, tcpLen);
  return ~foldSum(sumBytes(mem, ip + IPV4_HEADER_LEN, thl, pseudo)) & 0xffff;
}

/**
 * The merge state of one channel. Packets live in one ArrayBuffer (the receiver's slots and
 * the merge area, so payloads move with copyWithin and nothing is allocated); each is given
 * by its offset in that buffer, with VNET_HDR_LEN free bytes before it for the header.
 */
export class TcpMerger {
  /** Super-packets written (two segments or more) and the segments they held. */
  superPackets = 0;
  mergedSegments = 0;
  /** write(2) calls on the TUN device, and packets lost to failed ones. */
  writes = 0;
  failedPackets = 0;

  private readonly mem: Uint8Array;
  /** Offset of the merged packet (its vnet header sits just before). */
  private readonly mergeAt: number;
  private readonly mergeView: Uint8Array;
  /** Write views by start offset, made on first use. */
  private readonly views = new Map<number, Uint8Array>();

  // The pending packet: its offset and length (pendingAt < 0: none), and, once merging,
  // in the merge area.
  private pendingAt = -1;
  private pendingLen = 0;
  private segments = 0;
  private thl = 0;
  private gsoSize = 0;
  private nextSeq = 0;
  /** The pending one cannot take more (PSH, a short segment). */
  private closed = false;
  /** Sum of the merged payloads' sums (unfolded), each at its offset's parity. */
  private dataSum = 0;

  constructor(area: Uint8Array, private readonly write: WriteFn) {
    if (area.length < MERGE_AREA_SIZE) throw new Error("the merge area is too small");
    this.mem = new Uint8Array(area.buffer);
    this.mergeAt = area.byteOffset + VNET_HDR_LEN;
    this.mergeView = this.mem.subarray(area.byteOffset);
  }

  /** The buffer whose offsets add() takes. */
  get buffer(): ArrayBufferLike {
    return this.mem.buffer;
  }

  /**
   * Takes the inner packet at mem[at, at + len) (a checked IPv4 packet, VNET_HDR_LEN bytes
   * free before it). Returns the number of packets whose write failed meanwhile (0 mostly).
   */
  add(at: number, len: number): number {
    const mem = this.mem;
    const thl = this.mergeableTcp(at, len);
    if (thl === 0) {
      const failed = this.flush();
      return failed + this.writeOne(at, len);
    }
    const payload = len - IPV4_HEADER_LEN - thl;
    const flags = mem[at + IPV4_HEADER_LEN + 13]!;
    let failed = 0;
    if (this.pendingAt >= 0) {
      if (this.canAppend(at, thl, payload)) {
        this.append(at, len, thl, payload, flags);
        return 0;
      }
      failed = this.flush();
    }
    this.pendingAt = at;
    this.pendingLen = len;
    this.segments = 1;
    this.thl = thl;
    this.gsoSize = payload;
    this.nextSeq = (u32(mem, at + IPV4_HEADER_LEN + 4) + payload) >>> 0;
    this.closed = (flags & TCP_PSH) !== 0;
    return failed;
  }

  /** Writes what is pending (the batch's end). Returns the packets whose write failed. */
  flush(): number {
    if (this.pendingAt < 0) return 0;
    const at = this.pendingAt;
    this.pendingAt = -1;
    if (this.segments === 1) return this.writeOne(at, this.pendingLen);
    this.finishMerged();
    this.superPackets++;
    this.mergedSegments += this.segments;
    return this.writeOut(this.mergeAt, this.pendingLen, this.segments);
  }

  /** Its TCP header length when the packet may take part in a merge, else 0. */
  private mergeableTcp(at: number, len: number): number {
    const mem = this.mem;
    if (mem[at] !== 0x45 || mem[at + 9] !== IPPROTO_TCP) return 0;
    if ((u16(mem, at + 6) & IP_FRAGMENT_BITS) !== 0) return 0;
    if (u16(mem, at + 2) !== len) return 0;
    const tcp = at + IPV4_HEADER_LEN;
    const thl = (mem[tcp + 12]! >>> 4) * 4;
    if (thl < TCP_MIN_HEADER_LEN || IPV4_HEADER_LEN + thl >= len) return 0; // no payload
    // ACK alone or ACK+PSH; the reserved bits too must be clear.
    if ((mem[tcp + 12]! & 0x0f) !== 0 || (mem[tcp + 13]! & ~TCP_PSH) !== TCP_ACK) return 0;
    return thl;
  }

  /** Whether the segment at `at` continues the pending one. */
  private canAppend(at: number, thl: number, payload: number): boolean {
    if (this.closed || thl !== this.thl || payload > this.gsoSize) return false;
    if (this.pendingLen + payload > MAX_MERGED_LENGTH) return false;
    const mem = this.mem;
    const head = this.segments === 1 ? this.pendingAt : this.mergeAt;
    const tcp = at + IPV4_HEADER_LEN;
    if (u32(mem, tcp + 4) !== this.nextSeq) return false;
    // IPv4: TOS (1), flags/DF (6-7), TTL (8), addresses (12-19). Lengths, ID, checksum differ.
    if (mem[at + 1] !== mem[head + 1] || mem[at + 6] !== mem[head + 6]) return false;
    if (mem[at + 8] !== mem[head + 8]) return false;
    for (let i = 12; i < 20; i++) if (mem[at + i] !== mem[head + i]) return false;
    // TCP: ports (0-3), ack (8-11), data offset (12), window (14-15), options (20-thl).
    const htcp = head + IPV4_HEADER_LEN;
    for (let i = 0; i < 4; i++) if (mem[tcp + i] !== mem[htcp + i]) return false;
    for (let i = 8; i < 13; i++) if (mem[tcp + i] !== mem[htcp + i]) return false;
    if (mem[tcp + 14] !== mem[htcp + 14] || mem[tcp + 15] !== mem[htcp + 15]) return false;
    for (let i = TCP_MIN_HEADER_LEN; i < thl; i++) if (mem[tcp + i] !== mem[htcp + i]) return false;
    return true;
  }

  private append(at: number, len: number, thl: number, payload: number, flags: number): void {
    const mem = this.mem;
    if (this.segments === 1) {
      // The head moves to the merge area; its own payload's sum starts the total.
      const head = this.pendingAt;
      mem.copyWithin(this.mergeAt, head, head + this.pendingLen);
      this.dataSum = payloadSum(mem, head, thl, this.pendingLen - IPV4_HEADER_LEN);
    }
    // The payload lands at this offset from the TCP header: an odd one swaps its bytes' roles.
    const offset = this.pendingLen - IPV4_HEADER_LEN;
    const sum = payloadSum(mem, at, thl, len - IPV4_HEADER_LEN);
    this.dataSum += (offset & 1) === 0 ? sum : ((sum << 8) | (sum >>> 8)) & 0xffff;
    const from = at + IPV4_HEADER_LEN + thl;
    mem.copyWithin(this.mergeAt + this.pendingLen, from, from + payload);
    this.pendingLen += payload;
    this.segments++;
    this.nextSeq = (this.nextSeq + payload) >>> 0;
    if ((flags & TCP_PSH) !== 0) {
      mem[this.mergeAt + IPV4_HEADER_LEN + 13] |= TCP_PSH;
      this.closed = true;
    } else if (payload < this.gsoSize) {
      this.closed = true;
    }
  }

  /** Lengths, checksums and the vnet header of the merged packet in the merge area. */
  private finishMerged(): void {
    const mem = this.mem;
    const ip = this.mergeAt;
    const len = this.pendingLen;
    put16(mem, ip + 2, len);
    put16(mem, ip + 10, 0);
    put16(mem, ip + 10, internetChecksum(mem, ip, IPV4_HEADER_LEN));
    const tcp = ip + IPV4_HEADER_LEN;
    const tcpLen = len - IPV4_HEADER_LEN;
    put16(mem, tcp + 16, 0);
    const pseudo = pseudoHeaderSum(u32(mem, ip + 12), u32(mem, ip + 16), IPPROTO_TCP, tcpLen);
    const header = sumBytes(mem, tcp, this.thl, pseudo);
    put16(mem, tcp + 16, ~foldSum(header + this.dataSum) & 0xffff);
    const v = ip - VNET_HDR_LEN;
    mem[v] = 0; // flags: no NEEDS_CSUM, the kernel verifies the checksum
    mem[v + 1] = VIRTIO_NET_HDR_GSO_TCPV4;
    put16le(mem, v + 2, IPV4_HEADER_LEN + this.thl); // hdr_len
    put16le(mem, v + 4, this.gsoSize);
    put16le(mem, v + 6, 0); // csum_start
    put16le(mem, v + 8, 0); // csum_offset
  }

  /** A packet as it is, behind a zero vnet header. */
  private writeOne(at: number, len: number): number {
    const v = at - VNET_HDR_LEN;
    this.mem.fill(0, v, at);
    return this.writeOut(at, len, 1);
  }

  private writeOut(at: number, len: number, packets: number): number {
    const start = at - VNET_HDR_LEN;
    let view: Uint8Array | undefined;
    if (start === this.mergeAt - VNET_HDR_LEN) view = this.mergeView;
    else {
      view = this.views.get(start);
      if (view === undefined) this.views.set(start, view = this.mem.subarray(start));
    }
    this.writes++;
    if (this.write(view, len + VNET_HDR_LEN) === len + VNET_HDR_LEN) return 0;
    this.failedPackets += packets;
    return packets;
  }
}
