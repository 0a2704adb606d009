// VS/NAT over the link layer (--nat-transmit packet): where a rewritten packet's frame goes
// without the kernel routing and forwarding it once more. The control thread
// (./route-next-hops.ts) sends a copy of the routes the kernel would apply to a packet the
// director writes back into its TUN device (the local table, then main), each reduced to
// what a frame needs: the interface (a link of ./link-table.ts) and whether the next hop is
// the destination itself (on-link) or the route's gateway. The next hop's MAC is an entry
// of that link's neighbour table, mirrored from the kernel's: one per next-hop address,
// shared by every client behind the same gateway.
//   Looked up once per real server (its Destination.nextHop) and once per connection for
// the replies (ConnTable.replyHop), like the kernel's cached dst, never per packet. Whatever
// the table does not cover, a local address, a route through the TUN device, a blackhole or
// multipath route, a next hop whose MAC is not known yet, is left to the kernel: the packet
// is written back into the TUN device as before, so nothing is lost.
import { NO_NEXT_HOP } from "../service/types.ts";
import { prefixMask } from "./ipv4-address.ts";
import type { LinkTable } from "./link-table.ts";

/** What a route tells the packet path. */
export const RouteKind = {
  /** The destination is on the link's network: its own MAC. */
  ON_LINK: 0,
  /** Through the route's gateway on the link. */
  GATEWAY: 1,
  /** The kernel's to forward (local, TUN, blackhole, multipath, ...): write to the TUN. */
  KERNEL: 2,
} as const;
export type RouteKindCode = typeof RouteKind[keyof typeof RouteKind];

/** One route as the control thread sends it. */
export interface NatRouteDescription {
  /** The network, unsigned, and its prefix length. */
  net: number;
  bits: number;
  kind: RouteKindCode;
  /** The link's index in the link table (ON_LINK, GATEWAY), else -1. */
  link: number;
  /** The gateway (GATEWAY), else 0. */
  gateway: number;
}

/** Why a NAT packet went back through the TUN device instead (lvs-stats). */
export const NatFallback = {
  /** No route of the table's kinds, or its next hop has no neighbour entry (yet). */
  NO_NEXT_HOP: 0,
  /** The next hop's MAC is being resolved, or resolution failed. */
  NEIGHBOUR: 1,
  /** Larger than the link's MTU (the kernel fragments it or answers frag-needed). */
  TOO_BIG: 2,
} as const;
const FALLBACK_NAMES = ["noNextHop", "neighbour", "tooBig"] as const;

export class NatRoutes {
  /** Routes in lookup order: longest prefix first, then as the control thread listed them. */
  private net = new Int32Array(0);
  private mask = new Int32Array(0);
  private kind = new Uint8Array(0);
  private link = new Int32Array(0);
  private gateway = new Int32Array(0);
  /** Packets that went back through the TUN device, by NatFallback reason. */
  readonly fallbacks = new Float64Array(FALLBACK_NAMES.length);
  /** Frames queued on a link. */
  framesQueued = 0;

  constructor(private readonly links: LinkTable) {}

  /** True once the control thread has sent routes: NAT packets may then leave by a link. */
  get active(): boolean {
    return this.net.length > 0;
  }

  /** Replaces the table (control path); the caller forgets the next hops cached from it. */
  configure(routes: readonly NatRouteDescription[]): void {
    const order = routes.map((r, i) => ({ r, i }))
      .sort((a, b) => b.r.bits - a.r.bits || a.i - b.i)
      .map(({ r }) => r);
    const n = order.length;
    this.net = new Int32Array(n);
    this.mask = new Int32Array(n);
    this.kind = new Uint8Array(n);
    this.link = new Int32Array(n);
    this.gateway = new Int32Array(n);
    order.forEach((r, i) => {
      const mask = prefixMask(r.bits);
      this.mask[i] = mask;
      this.net[i] = r.net & mask;
      this.kind[i] = r.kind;
      this.link[i] = r.link;
      this.gateway[i] = r.gateway;
    });
  }

  /**
   * The link table's next hop for frames to `addr` (signed or unsigned), or NO_NEXT_HOP
   * when the kernel must forward it (once per server or connection: a scan of the routes).
   */
  nextHopOf(addr: number): number {
    addr |= 0;
    const mask = this.mask;
    const net = this.net;
    for (let i = 0; i < net.length; i++) {
      if ((addr & mask[i]!) !== net[i]) continue;
      const kind = this.kind[i]!;
      if (kind === RouteKind.KERNEL) return NO_NEXT_HOP;
      const hop = this.links.nextHopOf(kind === RouteKind.ON_LINK ? addr : this.gateway[i]!);
      // A neighbour entry of another interface is not this route's next hop.
      return hop !== NO_NEXT_HOP && this.links.linkOf(hop) === this.link[i] ? hop : NO_NEXT_HOP;
    }
    return NO_NEXT_HOP;
  }

  /** The fallback counters by name (control path). */
  fallbackCounts(): Record<(typeof FALLBACK_NAMES)[number], number> {
    const out = {} as Record<(typeof FALLBACK_NAMES)[number], number>;
    FALLBACK_NAMES.forEach((name, i) => out[name] = this.fallbacks[i]!);
    return out;
  }
}
