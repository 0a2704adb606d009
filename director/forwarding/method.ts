// The interface every forwarding method implements (IPVS's packet_xmit functions in
// ip_vs_xmit.c). A connection's method is chosen once, when the connection is bound to its
// real server (ip_vs_bind_xmit), and kept as a small index in the connection table; the
// engine then calls the method through the table in ./index.ts, never by name.
import type { PacketView } from "../packet/packet.ts";
import type { EmbeddedPacket } from "../icmp/icmp-translate.ts";
import type { ConnTable } from "../engine/conn-table.ts";
import type { DropCounters } from "../engine/drop-counters.ts";
import type { LinkTable } from "../net/link-table.ts";
import type { TunnelTable } from "../net/tunnel-table.ts";
import type { NatRoutes } from "../net/nat-routes.ts";
import type { ForwardMethod } from "./method-names.ts";

/** What a method works with: the packet, the tables, and the senders it may hand frames to. */
export interface TransmitContext {
  readonly view: PacketView;
  readonly conns: ConnTable;
  /** The packet sockets towards DR real servers and NAT next hops (empty until configured). */
  readonly links: LinkTable;
  /** NAT's routes over those links (empty with --nat-transmit tun: NAT writes to the TUN). */
  readonly natRoutes: NatRoutes;
  /** The raw socket and routes towards TUN real servers (empty until one is configured). */
  readonly tunnels: TunnelTable;
  readonly drops: DropCounters;
}

/** transmitIcmp*'s answer when the method does not handle the error (the engine drops it). */
export const ICMP_NOT_HANDLED = -1;

export interface ForwardingMethod {
  readonly name: ForwardMethod;
  /** Connection flags a new connection starts with (CONN_F_NOOUTPUT: replies bypass us). */
  readonly initialConnFlags: number;
  /**
   * Whether application helpers (FTP) see the connection's packets: only where the director
   * rewrites addresses (IPVS calls ip_vs_app_pkt_in/out from the NAT handlers alone).
   */
  readonly runsAppHelpers: boolean;
  /**
   * Client → real server, packet in place. Returns the bytes to write back to the TUN device
   * (the engine then gives back the TTL the kernel takes: ./kernel-ttl.ts): 0 when there is
   * nothing to write (dropped and counted, or handed to a link's sender).
   */
  transmitInbound(ctx: TransmitContext, slot: number, length: number): number;
  /** Real server → client (a reply that came back through the director). */
  transmitOutbound(ctx: TransmitContext, slot: number, length: number): number;
  /** A later fragment (no L4 header) of a client → real server datagram. */
  transmitInboundFragment(ctx: TransmitContext, slot: number, length: number): number;
  /** A later fragment of a real server → client datagram. */
  transmitOutboundFragment(ctx: TransmitContext, slot: number, length: number): number;
  /**
   * An ICMP error from the client side about the connection: the bytes to write back (0 when
   * handed on or dropped), or ICMP_NOT_HANDLED.
   */
  transmitIcmpInbound(ctx: TransmitContext, emb: EmbeddedPacket, slot: number): number;
  /** An ICMP error from the real server's side about the connection (same answers). */
  transmitIcmpOutbound(ctx: TransmitContext, emb: EmbeddedPacket, slot: number): number;
}

/**
 * For methods whose replies bypass the director (DR, TUN): a reply that reaches it anyway
 * is not its to change and is routed on, as IPVS lets the kernel forward it.
 */
export function passOnUnchanged(_ctx: TransmitContext, _slot: number, length: number): number {
  return length;
}
