// TCP sequence correction for connections whose payload a helper resized (IPVS's ip_vs_seq,
// vs_fix_seq, vs_fix_ack_seq, vs_seq_update; SACK blocks as netfilter's seqadj does).
//
// Each direction of a connection keeps (init, delta, previousDelta): `init` is the original
// sequence number of the last segment whose length changed, `delta` the total change of all
// rewrites up to and including it, `previousDelta` the total before it. Bytes after `init`
// are shifted by delta, bytes at or before it (retransmissions of earlier segments, and the
// resized segment itself, whose start did not move) by previousDelta. The peer's ACKs and
// SACK edges point into the shifted space and are shifted back. Only the last two deltas
// are kept, as in IPVS: a retransmission older than the last-but-one rewrite is wrong.
//
// State lives in typed arrays indexed by connection slot: nothing is allocated per packet.
import { checksumReplace16, checksumReplace32 } from "../packet/checksum.ts";
import type { PacketView } from "../packet/packet.ts";
import { readU16, readU32, writeU32 } from "../packet/net-view.ts";
import {
  TCP_ACK,
  TCP_ACK_NUMBER_OFFSET,
  TCP_SACK_EDGE_LEN,
  TCP_SEQ_OFFSET,
  TCPOPT_EOL,
  TCPOPT_HEADER_LEN,
  TCPOPT_NOP,
  TCPOPT_SACK,
} from "../packet/tcp.ts";

/** Direction flags in SeqAdjust.flags: a rewrite happened client → server / server → client. */
export const SEQ_IN = 1;
export const SEQ_OUT = 2;

/** Serial-number order (RFC 1982 style, like the kernel's after()): a comes after b. */
export function seqAfter(a: number, b: number): boolean {
  return ((a - b) | 0) > 0;
}

export class SeqAdjust {
  readonly flags: Uint8Array;
  /** Client → server stream (rewrites of client payload). */
  readonly inInit: Uint32Array;
  readonly inDelta: Int32Array;
  readonly inPrevious: Int32Array;
  /** Server → client stream (rewrites of server payload, e.g. FTP's 227 reply). */
  readonly outInit: Uint32Array;
  readonly outDelta: Int32Array;
  readonly outPrevious: Int32Array;

  constructor(capacity: number) {
    this.flags = new Uint8Array(capacity);
    this.inInit = new Uint32Array(capacity);
    this.inDelta = new Int32Array(capacity);
    this.inPrevious = new Int32Array(capacity);
    this.outInit = new Uint32Array(capacity);
    this.outDelta = new Int32Array(capacity);
    this.outPrevious = new Int32Array(capacity);
  }

  /** Forgets the slot's corrections (a new connection in the slot). */
  reset(slot: number): void {
    this.flags[slot] = 0;
    this.inDelta[slot] = 0;
    this.inPrevious[slot] = 0;
    this.outDelta[slot] = 0;
    this.outPrevious[slot] = 0;
  }

  /**
   * Client → server packet: its seq moves by the client stream's corrections, its ACK and
   * SACK edges (which count server bytes as the client saw them) back by the server
   * stream's. Call before the helper looks at the payload.
   */
  fixInbound(slot: number, view: PacketView): void {
    const flags = this.flags[slot];
    if (flags === 0) return;
    if ((flags & SEQ_IN) !== 0) {
      fixSeq(view, this.inInit[slot], this.inDelta[slot], this.inPrevious[slot]);
    }
    if ((flags & SEQ_OUT) !== 0) {
      fixAckAndSack(view, this.outInit[slot], this.outDelta[slot], this.outPrevious[slot]);
    }
  }

  /** Server → client packet: the mirror image of fixInbound. */
  fixOutbound(slot: number, view: PacketView): void {
    const flags = this.flags[slot];
    if (flags === 0) return;
    if ((flags & SEQ_OUT) !== 0) {
      fixSeq(view, this.outInit[slot], this.outDelta[slot], this.outPrevious[slot]);
    }
    if ((flags & SEQ_IN) !== 0) {
      fixAckAndSack(view, this.inInit[slot], this.inDelta[slot], this.inPrevious[slot]);
    }
  }

  /**
   * Records that a client → server segment with original sequence number `seq` changed
   * length by `diff`. A retransmission (not after the last resized segment) records nothing:
   * its change was counted the first time.
   */
  recordInbound(slot: number, seq: number, diff: number): void {
    if (diff === 0) return;
    const flags = this.flags[slot];
    if ((flags & SEQ_IN) === 0 || seqAfter(seq, this.inInit[slot])) {
      this.inPrevious[slot] = this.inDelta[slot];
      this.inDelta[slot] = (this.inDelta[slot] + diff) | 0;
      this.inInit[slot] = seq >>> 0;
      this.flags[slot] = flags | SEQ_IN;
    }
  }

  /** Server → client counterpart of recordInbound. */
  recordOutbound(slot: number, seq: number, diff: number): void {
    if (diff === 0) return;
    const flags = this.flags[slot];
    if ((flags & SEQ_OUT) === 0 || seqAfter(seq, this.outInit[slot])) {
      this.outPrevious[slot] = this.outDelta[slot];
      this.outDelta[slot] = (this.outDelta[slot] + diff) | 0;
      this.outInit[slot] = seq >>> 0;
      this.flags[slot] = flags | SEQ_OUT;
    }
  }
}

/** The corrected value of a sequence number of the rewritten stream. */
export function shiftSeq(seq: number, init: number, delta: number, previous: number): number {
  return (seq + (seqAfter(seq, init) ? delta : previous)) >>> 0;
}

/**
 * The corrected value of an ACK (or SACK edge) for the rewritten stream: it is in shifted
 * space; past the start of the last resized segment (init + previous) it loses delta,
 * otherwise previous.
 */
export function unshiftAck(ack: number, init: number, delta: number, previous: number): number {
  return (ack - (seqAfter((ack - previous) | 0, init) ? delta : previous)) >>> 0;
}

/**
 * Writes a 32-bit field of the TCP header at absolute offset `at`, keeping the checksum.
 * SACK edges may sit at an odd offset (options need no alignment): then the field straddles
 * three checksum words and each is replaced on its own.
 */
function replace32(view: PacketView, at: number, value: number): void {
  const buf = view.buf;
  const old = readU32(buf, at);
  if (old === value) return;
  // A NEEDS_CSUM field holds only the pseudo-header sum: header words are summed later.
  const partial = view.vnet.needsCsum;
  const tcp = view.tcp;
  if (partial || ((at - tcp.off) & 1) === 0) {
    writeU32(buf, at, value);
    if (!partial) tcp.checksum = checksumReplace32(tcp.checksum, old, value);
    return;
  }
  const w = at - 1;
  const old0 = readU16(buf, w);
  const old1 = readU16(buf, w + 2);
  const old2 = readU16(buf, w + 4);
  writeU32(buf, at, value);
  let check = tcp.checksum;
  check = checksumReplace16(check, old0, readU16(buf, w));
  check = checksumReplace16(check, old1, readU16(buf, w + 2));
  check = checksumReplace16(check, old2, readU16(buf, w + 4));
  tcp.checksum = check;
}

function fixSeq(view: PacketView, init: number, delta: number, previous: number): void {
  if (delta === 0 && previous === 0) return;
  const tcp = view.tcp;
  replace32(view, tcp.off + TCP_SEQ_OFFSET, shiftSeq(tcp.seq, init, delta, previous));
}

function fixAckAndSack(view: PacketView, init: number, delta: number, previous: number): void {
  if (delta === 0 && previous === 0) return;
  const tcp = view.tcp;
  // Without the ACK flag the field means nothing and is left as it is.
  if ((tcp.flags & TCP_ACK) !== 0) {
    replace32(view, tcp.off + TCP_ACK_NUMBER_OFFSET, unshiftAck(tcp.ack, init, delta, previous));
  }
  fixSackBlocks(view, init, delta, previous);
}

/** Walks the TCP options and corrects both edges of every SACK block. */
function fixSackBlocks(view: PacketView, init: number, delta: number, previous: number): void {
  const tcp = view.tcp;
  const optLen = tcp.optionsLength;
  if (optLen <= 0) return;
  const buf = view.buf;
  let i = tcp.optionsOffset;
  const end = i + optLen;
  while (i < end) {
    const kind = buf[i]!;
    if (kind === TCPOPT_EOL) return;
    if (kind === TCPOPT_NOP) {
      i++;
      continue;
    }
    if (i + 1 >= end) return;
    const len = buf[i + 1]!;
    if (len < TCPOPT_HEADER_LEN || i + len > end) return; // malformed: leave the rest alone
    // Blocks of two edges each; an option whose length is not 2 + 8n is not SACK as sent.
    if (kind === TCPOPT_SACK && (len - TCPOPT_HEADER_LEN) % (2 * TCP_SACK_EDGE_LEN) === 0) {
      for (let edge = i + TCPOPT_HEADER_LEN; edge < i + len; edge += TCP_SACK_EDGE_LEN) {
        replace32(view, edge, unshiftAck(readU32(buf, edge), init, delta, previous));
      }
    }
    i += len;
  }
}
