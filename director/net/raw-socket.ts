// An AF_INET raw socket for sending whole IPv4 packets the director builds itself (VS/TUN: the
// client's packet inside an IPIP, GUE or GRE packet to the real server). IPPROTO_RAW implies
// IP_HDRINCL: the kernel takes our header, fills in the total length and the checksum (and the
// id when we leave it 0), and routes the packet by its destination, so no MAC is needed.
// Batched with sendmmsg over ./send-batch.ts: each slot names its destination.
import koffi from "koffi";
import { SendBatch, type SendStats, socketCalls } from "./send-batch.ts";

// From <linux/socket.h>, <linux/in.h>.
const AF_INET = 2;
const SOCK_RAW = 3;
const SOCK_CLOEXEC = 0o2000000;
const IPPROTO_RAW = 255;
/** struct sockaddr_in { u16 family; be16 port; be32 addr; u8 zero[8]; } */
const SOCKADDR_IN_SIZE = 16;

/** The largest IPv4 packet, the size of a slot. */
export const RAW_SLOT_SIZE = 65535;
export const RAW_DEFAULT_BATCH = 64;
/** Room for one TUN read (a 64 KB super-packet and its vnet header). */
const SCRATCH_SIZE = 65535 + 16;

export class RawIpSocket {
  private closed = false;

  private constructor(readonly fd: number, private readonly messages: SendBatch) {}

  get batch(): number {
    return this.messages.batch;
  }
  /** The native block holding the slots (slot i at i * RAW_SLOT_SIZE) and the scratch area. */
  get block(): Uint8Array {
    return this.messages.block;
  }
  get scratchOffset(): number {
    return this.messages.scratchOffset;
  }

  /**
   * Copies src[0, length) into the scratch area with libc's memcpy (the packet ring's
   * SharedArrayBuffer is slow to read from JavaScript); returns the scratch's offset in block.
   */
  loadScratch(src: Uint8Array, length: number): number {
    socketCalls().memcpy(this.messages.scratch, src, length);
    return this.messages.scratchOffset;
  }
  get stats(): SendStats {
    return this.messages.stats;
  }

  /** Opens the socket (needs CAP_NET_RAW); throws a sentence when it cannot. */
  static open(batch = RAW_DEFAULT_BATCH): RawIpSocket {
    const c = socketCalls();
    const fd = c.socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
    if (fd < 0) {
      throw new Error(
        `cannot open a raw IP socket (errno ${koffi.errno()}); the director needs root (CAP_NET_RAW)`,
      );
    }
    const messages = new SendBatch(batch, RAW_SLOT_SIZE, SOCKADDR_IN_SIZE, SCRATCH_SIZE);
    for (const address of messages.addresses) address[0] = AF_INET; // little-endian u16
    return new RawIpSocket(fd, messages);
  }

  /** Slot i: write an IPv4 packet from its first byte, then send(i, length, destination). */
  slot(i: number): Uint8Array {
    return this.messages.slots[i]!;
  }

  /** Sets slot i's length and destination (an IPv4 address as a number). */
  address(i: number, length: number, destination: number): void {
    this.messages.setLength(i, length);
    const a = this.messages.addresses[i]!;
    a[4] = destination >>> 24;
    a[5] = (destination >>> 16) & 0xff;
    a[6] = (destination >>> 8) & 0xff;
    a[7] = destination & 0xff;
  }

  /** Sends slots [0, count) in one sendmmsg (refused ones counted); returns how many left. */
  flush(count: number): number {
    return this.messages.flush(this.fd, count);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    socketCalls().close(this.fd);
    this.messages.free();
  }
}
