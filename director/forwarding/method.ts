// The interface every forwarding method implements (IPVS's packet_xmit functions in
// ip_vs_xmit.c). A connection's method is chosen once, when the connection is bound to its
// real server (ip_vs_bind_xmit), and kept as a small index in the connection table; the
// engine then calls the method through the table in ./index.ts, never by name.
import type { PacketView } from "../packet/packet.ts";
import type { EmbeddedPacket } from "../icmp/icmp-translate.ts";
import type { ConnTable } from "../engine/conn-table.ts";
import type { ForwardMethod } from "./method-names.ts";

export interface ForwardingMethod {
  readonly name: ForwardMethod;
  /**
   * False for a method the data path accepts in the table but cannot transmit: a new
   * connection to such a server is dropped and counted (forwarding-method-unsupported).
   */
  readonly transmits: boolean;
  /** Connection flags a new connection starts with (CONN_F_NOOUTPUT: replies bypass us). */
  readonly initialConnFlags: number;
  /** Client → real server, packet in place; returns the bytes to write (0: drop). */
  transmitInbound(view: PacketView, conns: ConnTable, slot: number, length: number): number;
  /** Real server → client (a reply that came back through the director). */
  transmitOutbound(view: PacketView, conns: ConnTable, slot: number, length: number): number;
  /** A later fragment (no L4 header) of a client → real server datagram. */
  transmitInboundFragment(view: PacketView, conns: ConnTable, slot: number, length: number): number;
  /** A later fragment of a real server → client datagram. */
  transmitOutboundFragment(
    view: PacketView,
    conns: ConnTable,
    slot: number,
    length: number,
  ): number;
  /** An ICMP error from the client side about the connection; true when it was translated. */
  transmitIcmpInbound(
    view: PacketView,
    emb: EmbeddedPacket,
    conns: ConnTable,
    slot: number,
  ): boolean;
  /** An ICMP error from the real server's side about the connection. */
  transmitIcmpOutbound(
    view: PacketView,
    emb: EmbeddedPacket,
    conns: ConnTable,
    slot: number,
  ): boolean;
}

const dropPacket = (): number => 0;
const dropIcmp = (): boolean => false;

/**
 * A method kept in the table but not transmitted by this data path: its connections are
 * never created (see `transmits`), and a packet that reached one anyway would be dropped.
 */
export function untransmittedMethod(
  name: ForwardMethod,
  initialConnFlags: number,
): ForwardingMethod {
  return {
    name,
    transmits: false,
    initialConnFlags,
    transmitInbound: dropPacket,
    transmitOutbound: dropPacket,
    transmitInboundFragment: dropPacket,
    transmitOutboundFragment: dropPacket,
    transmitIcmpInbound: dropIcmp,
    transmitIcmpOutbound: dropIcmp,
  };
}
