// The packet worker's VS/TUN sender: one raw IP socket for every tunnel (the kernel routes
// each outer packet by its destination), and per real-server address its next hop as the
// control thread found it (director/net/route-next-hops.ts): the director's source address
// on the route to it and that route's MTU, kept current in shared memory. Packets are built
// in the socket's slots and leave in one sendmmsg per burst, like the DR frames. The path
// MTU that ICMP fragmentation-needed teaches about a server (director/icmp/tunnel-icmp.ts)
// is kept here, on the worker, beside the route's MTU: the kernel learns none for packets
// sent on a raw socket, and the control thread's refreshes write only the route's word.
import { RAW_SLOT_SIZE, RawIpSocket } from "./raw-socket.ts";
import { type IcmpReceiver, IcmpSocket } from "./icmp-socket.ts";

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
/** The kernel's ip_rt_min_pmtu: a smaller MTU from an ICMP is taken as this. */
export const MIN_PMTU = 552;
/** The kernel's net.ipv4.route.mtu_expires (ip_rt_mtu_expires): a learnt PMTU lasts 10 min. */
export const PMTU_EXPIRES_MS = 600_000;

const openRawSocket = (): PacketSender => RawIpSocket.open();
const openIcmpSocket = (): IcmpReceiver | null => IcmpSocket.open();
const noIcmpSocket = (): IcmpReceiver | null => null;

/** One tunnel next hop as lvs-stats shows it (the worker's view). */
export interface TunnelHopStatus {
  server: number;
  source: number;
  routeMtu: number;
  /** The path MTU an ICMP taught, 0 when none (or expired). */
  pmtu: number;
  /** Seconds until the learnt PMTU expires (0 when none). */
  pmtuExpiresSeconds: number;
}

export class TunnelTable {
  private socket: PacketSender | null = null;
  private icmp: IcmpReceiver | null = null;
  private readonly hopSource = new Float64Array(MAX_TUNNEL_HOPS);
  private readonly hopMtu: Int32Array[] = [];
  /** The learnt path MTU per hop (0: none) and when it expires (the engine's clock, ms). */
  private readonly hopPmtu = new Int32Array(MAX_TUNNEL_HOPS);
  private readonly hopPmtuExpires = new Float64Array(MAX_TUNNEL_HOPS);
  private learntHops = 0;
  private readonly hopByAddr = new Map<number, number>();
  private queued = 0;

  /**
   * openSocket: the raw socket packets leave by; openIcmp: the raw ICMP socket errors about
   * them arrive on (by default only with the real raw socket: a test's fake one hears none).
   */
  constructor(
    private readonly openSocket: () => PacketSender = openRawSocket,
    private readonly openIcmp: () => IcmpReceiver | null = openSocket === openRawSocket
      ? openIcmpSocket
      : noIcmpSocket,
  ) {}

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
    if (hops.length > 0) {
      this.socket ??= this.openSocket();
      this.icmp ??= this.openIcmp();
    }
  }

  /** The raw ICMP socket's fd for the packet loop's poll and reads (-1: none). */
  get icmpFd(): number {
    return this.icmp === null ? -1 : this.icmp.fd;
  }

  /** The hop whose server is addr and whose outer source is src, or -1 (ICMP matching). */
  hopOfPacket(src: number, addr: number): number {
    const hop = this.hopByAddr.get(addr >>> 0);
    if (hop === undefined || this.hopSource[hop] !== src >>> 0 || src === 0) return -1;
    return hop;
  }

  /** The next hop of a tunnel server's address (once per destination), or -1. */
  nextHopOf(addr: number): number {
    return this.hopByAddr.get(addr >>> 0) ?? -1;
  }

  /** The outer source address towards the hop's server (0: the director has no route). */
  sourceOf(hop: number): number {
    return this.hopSource[hop]!;
  }

  /** The MTU towards the hop's server: the route's, or a smaller path MTU learnt since. */
  mtuOf(hop: number): number {
    const route = this.hopMtu[hop]![0]!;
    const pmtu = this.hopPmtu[hop]!;
    return pmtu !== 0 && pmtu < route ? pmtu : route;
  }

  /**
   * An ICMP fragmentation-needed's MTU for the hop, as the kernel's __ip_rt_update_pmtu
   * takes it: never raises the MTU, a value below MIN_PMTU counts as MIN_PMTU, and the same
   * value again renews the entry only once half its life is gone. Expires PMTU_EXPIRES_MS on.
   */
  learnPmtu(hop: number, mtu: number, nowMs: number): void {
    const current = this.mtuOf(hop);
    if (mtu > current) return;
    if (mtu < MIN_PMTU) mtu = current < MIN_PMTU ? current : MIN_PMTU;
    const expires = this.hopPmtuExpires[hop]!;
    if (this.hopPmtu[hop] === mtu && nowMs < expires - PMTU_EXPIRES_MS / 2) return;
    if (this.hopPmtu[hop] === 0) this.learntHops++;
    this.hopPmtu[hop] = mtu;
    this.hopPmtuExpires[hop] = nowMs + PMTU_EXPIRES_MS;
  }

  /** Forgets the learnt path MTUs whose time is up (the engine's tick). */
  expire(nowMs: number): void {
    if (this.learntHops === 0) return;
    const hops = this.hopByAddr.size;
    for (let hop = 0; hop < hops; hop++) {
      if (this.hopPmtu[hop] !== 0 && nowMs >= this.hopPmtuExpires[hop]!) {
        this.hopPmtu[hop] = 0;
        this.learntHops--;
      }
    }
  }

  /** Every hop: server, outer source, route MTU and learnt PMTU (control path). */
  describe(nowMs: number): TunnelHopStatus[] {
    return [...this.hopByAddr].map(([server, hop]) => {
      const pmtu = this.hopPmtu[hop]!;
      const left = pmtu === 0 ? 0 : Math.max(0, this.hopPmtuExpires[hop]! - nowMs);
      return {
        server,
        source: this.hopSource[hop]!,
        routeMtu: this.hopMtu[hop]![0]!,
        pmtu,
        pmtuExpiresSeconds: Math.ceil(left / 1000),
      };
    });
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
    this.icmp?.close();
  }
}
