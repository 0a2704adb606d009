// The packet worker's VS/TUN sender: one raw IP socket for every tunnel (the kernel routes
// each outer packet by its destination), and per real-server address its next hop as the
// control thread found it (director/net/route-next-hops.ts): the director's source address
// on the route to it and that route's MTU, kept current in shared memory. Packets are built
// in the socket's slots and leave in one sendmmsg per burst, like the DR frames.
import { RAW_SLOT_SIZE, RawIpSocket } from "./raw-socket.ts";

/** How the control thread describes a tunnel server's route. */
export interface TunnelHopDescription {
  addr: number;
  /** The director's address on the route to the server (the outer source); 0: no route. */
  source: number;
  /** Int32Array[1]: the route's MTU, kept current by the control thread. */
  mtu: SharedArrayBuffer;
}

/** What the table needs of a raw socket (tests give it a fake one). */
export type PacketSender = Pick<
  RawIpSocket,
  "batch" | "block" | "loadScratch" | "address" | "flush" | "stats" | "close"
>;

const MAX_TUNNEL_HOPS = 4096;

export class TunnelTable {
  private socket: PacketSender | null = null;
  private readonly hopSource = new Float64Array(MAX_TUNNEL_HOPS);
  private readonly hopMtu: Int32Array[] = [];
  private readonly hopByAddr = new Map<number, number>();
  private queued = 0;

  constructor(private readonly openSocket: () => PacketSender = () => RawIpSocket.open()) {}

  /** Applies the control thread's view (control path); opens the socket with the first hop. */
  configure(hops: readonly TunnelHopDescription[]): void {
    for (const h of hops) {
      let hop = this.hopByAddr.get(h.addr);
      if (hop === undefined) {
        hop = this.hopByAddr.size;
        if (hop >= MAX_TUNNEL_HOPS) throw new Error(`more than ${MAX_TUNNEL_HOPS} tunnel servers`);
        this.hopByAddr.set(h.addr, hop);
      }
      this.hopSource[hop] = h.source;
      this.hopMtu[hop] = new Int32Array(h.mtu);
    }
    if (hops.length > 0) this.socket ??= this.openSocket();
  }

  /** The next hop of a tunnel server's address (once per destination), or -1. */
  nextHopOf(addr: number): number {
    return this.hopByAddr.get(addr >>> 0) ?? -1;
  }

  /** The outer source address towards the hop's server (0: the director has no route). */
  sourceOf(hop: number): number {
    return this.hopSource[hop]!;
  }

  mtuOf(hop: number): number {
    return this.hopMtu[hop]![0]!;
  }

  /** The native block the packets are built in (valid once a hop is configured). */
  get block(): Uint8Array {
    return this.socket!.block;
  }

  /** Copies a TUN read into the scratch area; returns its offset in block. */
  loadScratch(buf: Uint8Array, length: number): number {
    return this.socket!.loadScratch(buf, length);
  }

  /** The offset in block of the next free slot (a full batch is sent first). */
  nextSlot(): number {
    const socket = this.socket!;
    if (this.queued === socket.batch) this.flush();
    return this.queued * RAW_SLOT_SIZE;
  }

  /** Queues the packet built at nextSlot(), `length` bytes, to `destination`. */
  commit(length: number, destination: number): void {
    this.socket!.address(this.queued++, length, destination);
  }

  /** Sends what is queued (one sendmmsg). */
  flush(): void {
    if (this.queued === 0) return;
    this.socket!.flush(this.queued);
    this.queued = 0;
  }

  /** Packets sent and refused (lvs-stats). */
  counters(): { packetsSent: number; sendErrors: number; sendCalls: number } {
    const s = this.socket?.stats;
    return {
      packetsSent: s?.framesSent ?? 0,
      sendErrors: s?.sendErrors ?? 0,
      sendCalls: s?.calls ?? 0,
    };
  }

  close(): void {
    this.socket?.close();
  }
}
