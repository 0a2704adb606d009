// director/replies/: packets the director writes itself (TCP RST, ICMP unreachable, echo reply);
// start here.
//
// How the director answers a packet it will not forward, as the kernel would (IPVS's
// ip_vs_leave and the host stack behind it): a closed TCP port gets a RST, a closed UDP port
// or a service without servers gets ICMP port unreachable, the rest is dropped silently.
// The verdicts are negative so that a function returning a connection slot can return one.
import type { PacketView } from "../packet/packet.ts";
import { IPPROTO_TCP } from "../packet/ipv4.ts";
import { ICMP_DEST_UNREACH, ICMP_PORT_UNREACH } from "../packet/icmp.ts";
import { writeTcpReset } from "./tcp-reset.ts";
import { writeIcmpError } from "./icmp-unreachable.ts";

/** Drop without an answer (the same value as NO_SLOT). */
export const REFUSE_SILENTLY = -1;
/** No service on the port: TCP gets a RST, UDP ICMP port unreachable. */
export const REFUSE_PORT_CLOSED = -2;
/** A service without a server that can take the connection: ICMP port unreachable. */
export const REFUSE_UNREACHABLE = -3;

/**
 * Writes the answer `refusal` calls for over the packet in view.buf and returns its length
 * (0: stay silent).
 */
export function writeRefusal(
  view: PacketView,
  refusal: number,
  proto: number,
  vip: number,
): number {
  if (refusal === REFUSE_PORT_CLOSED && proto === IPPROTO_TCP) {
    return writeTcpReset(view, view.buf);
  }
  if (refusal === REFUSE_SILENTLY) return 0;
  return writeIcmpError(view, view.buf, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, vip);
}
