// The packet worker's link-layer senders, for VS/DR: one packet socket per interface that
// faces DR real servers, and one next hop per real-server address (which interface, which
// entry of that interface's neighbour table). The control thread decides both
// (director/net/route-next-hops.ts: the kernel's route to each server, its neighbour
// cache) and sends them here as descriptions; MACs, neighbour states and the MTU stay in
// shared memory that the control thread keeps current, so the packet path only reads.
//
// Frames are queued into the socket's slots and go out with one sendmmsg per burst: the
// packet worker flushes when the TUN queue runs empty, when a socket's slots are full and
// every BATCH packets, so a lone packet waits no longer than the next look at the queue.
// Under backlog the packet worker hands its frames to the transmit worker instead
// (handOff): queue() then only notes the next hop of the packet in the ring slot, and the
// transmit worker's own table (the same descriptions, so the same next-hop numbers, and
// packet sockets of its own on the same interfaces) copies and sends it.
import { FRAME_IP_OFFSET, PacketSocket, writeEthernetHeader } from "./packet-socket.ts";
import { NeighbourStatus } from "./neighbour.ts";
import { VIRTIO_NET_HDR_F_NEEDS_CSUM, VNET_HDR_LEN } from "../packet/vnet-header.ts";
import { DropReason } from "../engine/drop-counters.ts";
import { NO_NEXT_HOP } from "../service/types.ts";

/** How the control thread describes an interface facing DR real servers. */
export interface LinkDescription {
  /** Index in the table (stable for the director's life). */
  index: number;
  ifname: string;
  /** The neighbour cache's shared MAC table and status words (director/net/neighbour.ts). */
  macs: SharedArrayBuffer;
  status: SharedArrayBuffer;
  /** Int32Array[1]: the interface's MTU, kept current by the control thread. */
  mtu: SharedArrayBuffer;
}

/** Where frames to one real-server address go, or why none can. */
export interface NextHopDescription {
  addr: number;
  /** The link's index, or NOT_ON_LINK (no directly attached network reaches the server). */
  link: number;
  /** Entry of the link's neighbour table holding the server's MAC. */
  neighbour: number;
}

/** NextHopDescription.link for a server that no attached network reaches. */
export const NOT_ON_LINK = -1;

const MAX_NEXT_HOPS = 4096;
/** The vnet header's csum_start and hdr_len, little-endian u16 (virtio_net_hdr). */
const VNET_HDR_LEN_OFFSET = 2;
const VNET_CSUM_START_OFFSET = 6;
const ETH_HLEN = FRAME_IP_OFFSET - VNET_HDR_LEN;

/** What the table needs of a packet socket (tests give it a fake one). */
export type FrameSender = Pick<
  PacketSocket,
  "batch" | "mac" | "slot" | "fillFromTun" | "setLength" | "flush" | "stats" | "close"
>;

interface Link {
  socket: FrameSender;
  macs: Uint8Array;
  status: Int32Array;
  mtu: Int32Array;
  /** Frames waiting in the socket's slots. */
  queued: number;
}

export class LinkTable {
  private readonly links: (Link | null)[] = [];
  /** Next hop i: its link index (or NOT_ON_LINK) and neighbour entry. */
  private readonly hopLink = new Int32Array(MAX_NEXT_HOPS).fill(NOT_ON_LINK);
  private readonly hopNeighbour = new Int32Array(MAX_NEXT_HOPS);
  /** Address (signed) → next hop. */
  private readonly hopByAddr = new Map<number, number>();
  /** Indices of links with frames queued, so a flush touches only those. */
  private readonly dirty: number[] = [];
  /**
   * While set, a frame of this buffer (the packet worker's ring slot) is not queued: its next
   * hop and length are left in handedHop and handedLength for the transmit worker.
   */
  handOff: Uint8Array | null = null;
  handedHop = NO_NEXT_HOP;
  handedLength = 0;

  constructor(
    private readonly openSocket: (ifname: string) => FrameSender = (ifname) =>
      PacketSocket.open(ifname),
  ) {}

  /** Applies the control thread's view (control path): opens new links, places servers. */
  configure(links: readonly LinkDescription[], hops: readonly NextHopDescription[]): void {
    for (const d of links) {
      if (this.links[d.index]) continue;
      while (this.links.length <= d.index) this.links.push(null);
      this.links[d.index] = {
        socket: this.openSocket(d.ifname),
        macs: new Uint8Array(d.macs),
        status: new Int32Array(d.status),
        mtu: new Int32Array(d.mtu),
        queued: 0,
      };
    }
    for (const h of hops) {
      let hop = this.hopByAddr.get(h.addr | 0);
      if (hop === undefined) {
        hop = this.hopByAddr.size;
        if (hop >= MAX_NEXT_HOPS) throw new Error(`more than ${MAX_NEXT_HOPS} next hops`);
        this.hopByAddr.set(h.addr | 0, hop);
      }
      this.hopNeighbour[hop] = h.neighbour;
      this.hopLink[hop] = h.link;
    }
  }

  /**
   * The next hop of an address (a DR real server, a NAT next hop), or NO_NEXT_HOP. Keyed by
   * the signed form: a small integer, so the lookup allocates nothing.
   */
  nextHopOf(addr: number): number {
    return this.hopByAddr.get(addr | 0) ?? NO_NEXT_HOP;
  }

  /** The link index of a next hop (or NOT_ON_LINK). */
  linkOf(hop: number): number {
    return this.hopLink[hop]!;
  }

  /**
   * 0 when frames can go to next hop `hop` now, else the drop reason: the server is not on a
   * directly attached network, or its MAC is still being resolved, or resolution failed.
   */
  unusable(hop: number): number {
    const index = this.hopLink[hop]!;
    if (index === NOT_ON_LINK) return DropReason.NEIGHBOUR_NOT_ON_LINK;
    const link = this.links[index];
    if (!link) return DropReason.NEIGHBOUR_PENDING;
    const status = Atomics.load(link.status, this.hopNeighbour[hop]!);
    if (status === NeighbourStatus.RESOLVED) return 0;
    if (status === NeighbourStatus.FAILED) return DropReason.NEIGHBOUR_FAILED;
    if (status === NeighbourStatus.NOT_ON_LINK) return DropReason.NEIGHBOUR_NOT_ON_LINK;
    return DropReason.NEIGHBOUR_PENDING;
  }

  /** The MTU of the next hop's interface (call after unusable() said 0). */
  mtuOf(hop: number): number {
    return this.links[this.hopLink[hop]!]!.mtu[0]!;
  }

  /**
   * Queues buf[0, length) ([vnet header][IP packet], as read from the TUN device) as a frame
   * to the next hop's MAC (call after unusable() said 0). The vnet header's offsets, counted
   * from the IP header on a TUN device, are moved past the Ethernet header.
   */
  queue(hop: number, buf: Uint8Array, length: number): void {
    if (buf === this.handOff) {
      this.handedHop = hop;
      this.handedLength = length;
      return;
    }
    const index = this.hopLink[hop]!;
    const link = this.links[index]!;
    const socket = link.socket;
    if (link.queued === socket.batch) this.flushLink(link);
    if (link.queued === 0) this.dirty.push(index);
    const i = link.queued++;
    socket.fillFromTun(i, buf, length);
    const frame = socket.slot(i);
    if ((frame[0]! & VIRTIO_NET_HDR_F_NEEDS_CSUM) !== 0) addU16(frame, VNET_CSUM_START_OFFSET);
    if (frame[VNET_HDR_LEN_OFFSET] !== 0 || frame[VNET_HDR_LEN_OFFSET + 1] !== 0) {
      addU16(frame, VNET_HDR_LEN_OFFSET);
    }
    const neighbour = this.hopNeighbour[hop]! * 6;
    writeEthernetHeader(frame, VNET_HDR_LEN, link.macs, neighbour, socket.mac, 0);
    socket.setLength(i, length + ETH_HLEN);
  }

  /** Sends every queued frame (one sendmmsg per link with frames). */
  flush(): void {
    const dirty = this.dirty;
    for (let i = 0; i < dirty.length; i++) {
      const link = this.links[dirty[i]!]!;
      if (link.queued > 0) this.flushLink(link);
    }
    dirty.length = 0;
  }

  private flushLink(link: Link): void {
    link.socket.flush(link.queued);
    link.queued = 0;
  }

  /** Frames sent and refused over all links (lvs-stats). */
  counters(): { framesSent: number; sendErrors: number; sendCalls: number } {
    const out = new Float64Array(3);
    this.countersInto(out, 0);
    return { framesSent: out[0]!, sendCalls: out[1]!, sendErrors: out[2]! };
  }

  /** Frames sent, sendmmsg calls and refusals over all links, into out[at..at+3) (no allocation). */
  countersInto(out: Float64Array, at: number): void {
    let framesSent = 0;
    let sendCalls = 0;
    let sendErrors = 0;
    for (let i = 0; i < this.links.length; i++) {
      const stats = this.links[i]?.socket.stats;
      if (stats === undefined) continue;
      framesSent += stats.framesSent;
      sendCalls += stats.calls;
      sendErrors += stats.sendErrors;
    }
    out[at] = framesSent;
    out[at + 1] = sendCalls;
    out[at + 2] = sendErrors;
  }

  close(): void {
    for (const link of this.links) link?.socket.close();
  }
}

/** Adds the Ethernet header's length to the little-endian u16 at buf[off]. */
function addU16(buf: Uint8Array, off: number): void {
  const v = (buf[off]! | (buf[off + 1]! << 8)) + ETH_HLEN;
  buf[off] = v & 0xff;
  buf[off + 1] = (v >>> 8) & 0xff;
}
