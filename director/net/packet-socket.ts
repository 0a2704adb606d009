// director/net/: the director's link-layer and address helpers: IPv4 address text, this packet
// socket, the neighbour (ARP) cache.
//
// An AF_PACKET SOCK_RAW socket bound to one interface, for sending whole Ethernet frames
// (VS/DR: the client's packet in a frame to the real server's MAC), like the send half of
// the kernel's net/packet/af_packet.c seen from userspace. PACKET_VNET_HDR is on: every
// frame starts with a virtio_net_hdr, so a TSO super-packet (GSO_TCPV4, NEEDS_CSUM) crosses
// as one frame and the kernel (or the device) segments it. Frames go out in batches with
// sendmmsg(2) over a preallocated mmsghdr/iovec array and reusable slot buffers in native
// memory: nothing is allocated per frame. Errors are errno numbers, counted, never thrown
// per frame. The socket has protocol 0, so the kernel hands it no received packets.
import fs from "node:fs";
import koffi from "koffi";
import { VNET_HDR_LEN } from "../packet/vnet-header.ts";
import { SendBatch, type SendStats, socketCalls } from "./send-batch.ts";

// From <linux/socket.h>, <linux/if_packet.h>, <linux/if_ether.h>.
const AF_PACKET = 17;
const SOCK_RAW = 3;
const SOCK_CLOEXEC = 0o2000000;
const SOL_PACKET = 263;
const PACKET_VNET_HDR = 15;
const PACKET_QDISC_BYPASS = 20;
const ETH_P_IP = 0x0800;

export const ETH_HLEN = 14;
export const ETH_ALEN = 6;
/** Where the IP packet starts in a slot: after the vnet header and the Ethernet header. */
export const FRAME_IP_OFFSET = VNET_HDR_LEN + ETH_HLEN;
/** A slot holds the largest super-packet with both headers in front. */
export const DEFAULT_SLOT_SIZE = 65535 + FRAME_IP_OFFSET;
export const DEFAULT_BATCH = 32;

// struct sockaddr_ll { u16 family; be16 protocol; int ifindex; u16 hatype; u8 pkttype;
// u8 halen; u8 addr[8]; } = 20 bytes.
const SOCKADDR_LL_SIZE = 20;

export interface PacketSocketOptions {
  /** Slots per batch (frames one flush() sends at most); default 32. */
  batch?: number;
  /** Bytes per slot; default room for a 64 KB super-packet and both headers. */
  slotSize?: number;
  /**
   * PACKET_QDISC_BYPASS: straight to the driver. Off by default: on the bypass path a GSO
   * frame to a device without TSO is dropped instead of segmented (research note §4.1).
   */
  qdiscBypass?: boolean;
}

/** Counters of one socket (plain numbers; read them from the thread that sends). */
export type PacketSocketStats = SendStats;

/** The interface's index and MAC address, from sysfs. */
export function interfaceInfo(ifname: string): { ifindex: number; mac: Uint8Array } {
  const dir = `/sys/class/net/${ifname}`;
  let ifindex: number;
  let macText: string;
  try {
    ifindex = Number(fs.readFileSync(`${dir}/ifindex`, "utf8").trim());
    macText = fs.readFileSync(`${dir}/address`, "utf8").trim();
  } catch {
    throw new Error(
      `interface '${ifname}' does not exist in this network namespace; name the interface facing the real servers`,
    );
  }
  return { ifindex, mac: parseMac(macText) };
}

/** "aa:bb:cc:dd:ee:ff" → 6 bytes; throws on anything else. */
export function parseMac(text: string): Uint8Array {
  const parts = text.split(":");
  if (parts.length !== ETH_ALEN || parts.some((p) => !/^[0-9a-fA-F]{2}$/.test(p))) {
    throw new Error(`'${text}' is not a MAC address (six hexadecimal pairs separated by ':')`);
  }
  return Uint8Array.from(parts.map((p) => parseInt(p, 16)));
}

/** 6 bytes at buf[off] → "aa:bb:cc:dd:ee:ff" (edges only: it builds a string). */
export function formatMac(buf: Uint8Array, off = 0): string {
  return Array.from(buf.subarray(off, off + ETH_ALEN), (b) => b.toString(16).padStart(2, "0"))
    .join(":");
}

/**
 * Writes the Ethernet header of an IPv4 frame at buf[off]: destination, source, type.
 * The MACs are read from typed arrays (a neighbour table, the interface's own).
 */
export function writeEthernetHeader(
  buf: Uint8Array,
  off: number,
  dst: Uint8Array,
  dstOff: number,
  src: Uint8Array,
  srcOff: number,
): void {
  for (let i = 0; i < ETH_ALEN; i++) {
    buf[off + i] = dst[dstOff + i]!;
    buf[off + ETH_ALEN + i] = src[srcOff + i]!;
  }
  buf[off + 12] = ETH_P_IP >>> 8;
  buf[off + 13] = ETH_P_IP & 0xff;
}

export class PacketSocket {
  private closed = false;

  private constructor(
    readonly fd: number,
    readonly ifname: string,
    readonly ifindex: number,
    /** The interface's own MAC (source of the frames). */
    readonly mac: Uint8Array,
    private readonly messages: SendBatch,
    /** Slot i from where a TUN buffer's vnet header is copied to (fillFromTun). */
    private readonly tunCopyAt: Uint8Array[],
  ) {}

  get batch(): number {
    return this.messages.batch;
  }
  get slotSize(): number {
    return this.messages.slotSize;
  }
  get stats(): PacketSocketStats {
    return this.messages.stats;
  }

  /** Opens the socket on `ifname` (needs CAP_NET_RAW); throws a sentence when it cannot. */
  static open(ifname: string, options: PacketSocketOptions = {}): PacketSocket {
    const batch = options.batch ?? DEFAULT_BATCH;
    const slotSize = options.slotSize ?? DEFAULT_SLOT_SIZE;
    if (!(batch >= 1 && batch <= 1024) || !(slotSize >= FRAME_IP_OFFSET + 20)) {
      throw new Error(`a packet socket needs 1-1024 slots of at least 44 bytes`);
    }
    const { ifindex, mac } = interfaceInfo(ifname);
    const c = socketCalls();
    const fd = c.socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      throw new Error(
        `cannot open a packet socket (errno ${koffi.errno()}); the director needs root (CAP_NET_RAW)`,
      );
    }
    const fail = (what: string): never => {
      const code = koffi.errno();
      c.close(fd);
      throw new Error(`${what} on the packet socket for ${ifname} failed (errno ${code})`);
    };
    const one = Int32Array.of(1);
    if (c.setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, one, 4) < 0) fail("PACKET_VNET_HDR");
    if (options.qdiscBypass && c.setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, one, 4) < 0) {
      fail("PACKET_QDISC_BYPASS");
    }
    const address = new Uint8Array(SOCKADDR_LL_SIZE);
    const adv = new DataView(address.buffer);
    adv.setUint16(0, AF_PACKET, true);
    adv.setInt32(4, ifindex, true);
    // Bound with protocol 0: nothing is received; each send names ETH_P_IP (the address).
    if (c.bind(fd, address, SOCKADDR_LL_SIZE) < 0) fail("bind");
    adv.setUint16(2, ETH_P_IP, false);
    const messages = new SendBatch(batch, slotSize, SOCKADDR_LL_SIZE);
    messages.setAddress(address);
    const tunCopyAt = messages.slots.map((slot) => slot.subarray(ETH_HLEN));
    return new PacketSocket(fd, ifname, ifindex, mac, messages, tunCopyAt);
  }

  /**
   * Slot i (0 ≤ i < batch): fill it with [vnet header][Ethernet header][IP packet]
   * (FRAME_IP_OFFSET is where the IP packet starts), then setLength(i, bytes).
   */
  slot(i: number): Uint8Array {
    return this.messages.slots[i]!;
  }

  /**
   * Fills slot i from a TUN read buffer, src[0, length) = [vnet header][IP packet]: the vnet
   * header at the front, the IP packet at FRAME_IP_OFFSET, the Ethernet header's 14 bytes
   * between them left for the caller. Copied with libc's memcpy: V8 copies out of a
   * SharedArrayBuffer (the packet ring's memory) about ten times slower, byte by byte.
   */
  fillFromTun(i: number, src: Uint8Array, length: number): void {
    socketCalls().memcpy(this.tunCopyAt[i]!, src, length);
    const slot = this.messages.slots[i]!;
    for (let b = 0; b < VNET_HDR_LEN; b++) slot[b] = slot[ETH_HLEN + b]!;
  }

  /** How many bytes of slot i make its frame (vnet header included). */
  setLength(i: number, length: number): void {
    this.messages.setLength(i, length);
  }

  /**
   * Sends slots [0, count) with sendmmsg. A frame the kernel refuses is counted (stats)
   * and skipped; the rest are still sent. Returns how many frames the kernel took.
   */
  flush(count: number): number {
    return this.messages.flush(this.fd, count);
  }

  /** Sends slot i alone with sendto(2) (setLength first); returns bytes sent or -errno. */
  sendSlot(i: number): number {
    return this.send(this.messages.slots[i]!, this.messages.lengthOf(i));
  }

  /**
   * Sends one frame with sendto(2) from any buffer holding [vnet header][frame]: the
   * single-send fallback. Returns the byte count, or -errno.
   */
  send(buf: Uint8Array, length: number): number {
    return this.messages.sendOne(this.fd, 0, buf, length);
  }

  /** Closes the socket and frees the slots: no slot() view may be used after this. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    socketCalls().close(this.fd);
    this.messages.free();
  }
}
