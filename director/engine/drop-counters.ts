// Dropped packets counted by reason, in one typed array so counting costs one increment.
// Reasons below 64 are the packet parser's (PacketError); the engine's own start at 64.
import { packetErrorName } from "../packet/packet.ts";

export const DropReason = {
  /** A later fragment whose first fragment the engine has not seen. */
  FRAGMENT: 65,
  /** A packet to a VIP port with no virtual service. */
  NO_SERVICE: 66,
  /** A TCP segment without SYN and without a connection. */
  NOT_SYN: 67,
  /** The service has no real server that can take a new connection. */
  NO_DESTINATION: 68,
  /** The connection table is at its limit. */
  TABLE_FULL: 69,
  /** A packet from the private side that belongs to no connection. */
  NO_CONNECTION: 70,
  /** A packet of a connection whose real server was deleted (expire_nodest_conn off). */
  DESTINATION_REMOVED: 71,
  /** ICMP to a VIP that is neither an echo request nor about a connection. */
  ICMP_UNRELATED: 72,
  /** A DR frame whose real server's MAC the kernel is still resolving (ARP under way). */
  NEIGHBOUR_PENDING: 74,
  /** A DR frame whose real server did not answer the kernel's ARP requests (FAILED). */
  NEIGHBOUR_FAILED: 75,
  /** A DR real server on no directly attached network (IPVS needs it on-link: KNOWN_NH). */
  NEIGHBOUR_NOT_ON_LINK: 76,
  /** A DR or TUN packet larger than the path's MTU (DF: fragmentation needed sent back). */
  FRAME_TOO_BIG: 77,
  /** A TUN packet whose server's route the control thread has not placed yet. */
  TUNNEL_PENDING: 78,
  /** A TUN server the director has no route to (no source address for the outer header). */
  TUNNEL_NO_ROUTE: 79,
  /** A super-packet of a kind the tunnel cannot cut into segments (only TCP is offloaded). */
  GSO_UNSUPPORTED: 80,
  /** An ICMP error about a tunnel packet that is cut short, fails its checksum or is not ours. */
  TUNNEL_ICMP_MALFORMED: 81,
  /** An ICMP error about a tunnel packet of no connection (IPVS ignores it). */
  TUNNEL_ICMP_NO_CONNECTION: 82,
  /** An ICMP error quoting a later fragment of a tunnel packet (no ports: IPVS ignores it). */
  TUNNEL_ICMP_FRAGMENT: 83,
} as const;

const ENGINE_REASON_NAMES: Record<number, string> = {
  65: "fragment-without-connection",
  66: "no-service",
  67: "tcp-not-syn",
  68: "no-destination",
  69: "table-full",
  70: "no-connection",
  71: "destination-removed",
  72: "icmp-unrelated",
  74: "neighbour-pending",
  75: "neighbour-failed",
  76: "neighbour-not-on-link",
  77: "frame-too-big",
  78: "tunnel-pending",
  79: "tunnel-no-route",
  80: "gso-unsupported",
  81: "tunnel-icmp-malformed",
  82: "tunnel-icmp-no-connection",
  83: "tunnel-icmp-fragment",
};

export class DropCounters {
  readonly counts = new Float64Array(128);

  count(reason: number): void {
    this.counts[reason]++;
  }

  get total(): number {
    let sum = 0;
    for (const n of this.counts) sum += n;
    return sum;
  }

  /** Non-zero counters by name (control path). */
  toJSON(): Record<string, number> {
    const out: Record<string, number> = {};
    this.counts.forEach((n, reason) => {
      if (n > 0) out[dropReasonName(reason)] = n;
    });
    return out;
  }
}

export function dropReasonName(reason: number): string {
  return ENGINE_REASON_NAMES[reason] ?? packetErrorName(reason);
}
