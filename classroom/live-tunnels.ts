// VS/TUN in the classroom: on the director's own network the client's packet comes in from
// the router (destination the VIP) and goes on inside a tunnel packet from the director's
// address to a real server's (IPIP, GUE, GRE: lab/analysis/tunnel-decode.ts decodes them);
// live-copies.ts pairs the two by the inner packet, these are its legs and the pair's view.
// The replies bypass the director as in VS/DR.
import type { Packet } from "../lab/analysis/packet.ts";
import { describePacket, formatSourceDest } from "../lab/analysis/format.ts";
import { decodeTunnel, tunnelLabel, type TunnelPacket } from "../lab/analysis/tunnel-decode.ts";
import type { CopyLegs } from "./live-copies.ts";
import type { FrameTarget } from "./explain.ts";
import type { PacketView } from "./event-types.ts";
import { changedFields, packetFields } from "./fields.ts";
import { tunnelFields } from "./tunnel-fields.ts";

const TTL_FIELDS = ["IP TTL", "IP header checksum"];

/** The legs by the director's address: in from anyone else, out as its tunnel packets. */
export function tunnelLegs(director: string): CopyLegs {
  return {
    arrived: (p) => p.src !== director,
    left: (p) => (p.src === director ? decodeTunnel(p, director)?.inner ?? null : null),
  };
}

/** The tunnel packet as the page shows it: outer addresses, then the client's inside. */
export function tunnelPacketView(segment: string, t: TunnelPacket): PacketView {
  const inner = t.inner!;
  return {
    segment,
    frame: t.outer.index,
    time: t.outer.time,
    sourceDest: `${formatSourceDest(t.outer)} carrying ${formatSourceDest(inner)}`,
    summary: `${tunnelLabel(t)} · ${describePacket(inner)}`,
    fields: tunnelFields(t),
  };
}

/**
 * Where the tunnel packet goes (the real server named by its outer destination) and what
 * the director did, for the explanation: "tunnel: IPIP to 172.16.2.2 (rs1), inner packet
 * unchanged", or the inner fields that did change.
 */
export function tunnelTarget(
  before: Packet,
  t: TunnelPacket,
  hostOf: (address: string) => string,
): FrameTarget {
  const inner = t.inner!;
  const host = hostOf(t.outer.dst);
  const changed = changedFields(packetFields(before), packetFields(inner))
    .filter((k) => !k.startsWith("Ethernet "));
  // Forwarding costs the inner packet one TTL (and its header checksum with it), no more.
  const ttlOnly = changed.every((k) => TTL_FIELDS.includes(k));
  const innerText = changed.length === 0
    ? "inner packet unchanged"
    : ttlOnly
    ? "inner packet unchanged but for its TTL, one less (and the IP checksum with it)"
    : `inside, the director changed ${changed.join(", ")}`;
  return {
    host,
    address: `${t.outer.dst}:${inner.dstPort}`,
    how: `tunnel: ${tunnelLabel(t)} to ${t.outer.dst} (${host}), ${innerText}`,
  };
}
