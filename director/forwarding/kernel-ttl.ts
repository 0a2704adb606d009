// The TTL of a packet the engine writes back into the TUN device. The kernel lowers a
// packet's TTL each time it forwards it, and a packet the director passes on is forwarded
// twice on its host: into the TUN device (that is how the engine gets it) and out of it again.
// IPVS lowers it once per director, so before writing a packet back the engine raises its TTL
// by the one the kernel is about to take. The director's own answers (RST, ICMP, echo
// replies) are forwarded out of it too, so they get it back as well and leave with the TTL
// they were written with, as a host's own packets do. One call, in DirectorEngine.process.
// (A TTL the first forwarding left at 1 or more is raised to at most 255: the kernel never
// hands the TUN device a packet it would expire.)
import type { PacketView } from "../packet/packet.ts";
import { checksumReplace16 } from "../packet/checksum.ts";

/** Raises the IPv4 TTL by one, header checksum updated (RFC 1624). */
export function giveBackForwardingTtl(view: PacketView): void {
  const ip = view.ip;
  const ttl = ip.ttl;
  if (ttl === 255) return;
  const protocol = ip.protocol;
  ip.ttl = ttl + 1;
  ip.checksum = checksumReplace16(ip.checksum, (ttl << 8) | protocol, ((ttl + 1) << 8) | protocol);
}
