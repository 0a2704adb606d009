// Which transmit ring a packet goes to when the director has several transmit threads: a
// hash of the packet's flow as read (addresses, protocol and, unfragmented, the ports), so
// every packet of a flow takes one ring and leaves in the order it was read, while
// different flows spread over the threads. Fragments hash on the addresses and protocol
// only: a later fragment has no ports, and all of a datagram's fragments stay together.
import { IPPROTO_TCP, IPPROTO_UDP, IPV4_MF, IPV4_OFFSET_MASK } from "../packet/ipv4.ts";
import { readU16, readU32 } from "../packet/net-view.ts";

const IPPROTO_SCTP = 132;
const IPV6_HEADER_LEN = 40;

/** One round of a multiplicative mix (murmur3's constants), to spread nearby addresses. */
function mix(hash: number, value: number): number {
  const k = Math.imul(value, 0xcc9e2d51);
  hash ^= Math.imul((k << 15) | (k >>> 17), 0x1b873593);
  return Math.imul((hash << 13) | (hash >>> 19), 5) + 0xe6546b64 | 0;
}

function hasPorts(proto: number): boolean {
  return proto === IPPROTO_TCP || proto === IPPROTO_UDP || proto === IPPROTO_SCTP;
}

/**
 * The shard, in [0, shards), of the IP packet at buf[at, length): 0 when there is one
 * shard or the packet is too short to say (the engine drops and counts it anyway).
 */
export function flowShard(buf: Uint8Array, at: number, length: number, shards: number): number {
  if (shards <= 1 || length - at < 20) return 0;
  const version = buf[at]! >> 4;
  let hash = 0;
  if (version === 4) {
    const ihl = (buf[at]! & 0x0f) * 4;
    const proto = buf[at + 9]!;
    hash = mix(mix(mix(hash, readU32(buf, at + 12)), readU32(buf, at + 16)), proto);
    const fragment = readU16(buf, at + 6) & (IPV4_MF | IPV4_OFFSET_MASK);
    if (fragment === 0 && hasPorts(proto) && length - at >= ihl + 4) {
      hash = mix(hash, readU32(buf, at + ihl));
    }
  } else if (version === 6 && length - at >= IPV6_HEADER_LEN) {
    for (let w = 8; w < IPV6_HEADER_LEN; w += 4) hash = mix(hash, readU32(buf, at + w));
    const next = buf[at + 6]!;
    hash = mix(hash, next);
    // Ports only right after the fixed header: behind extension headers (a fragment header
    // among them) the addresses decide, as for IPv4 fragments.
    if (hasPorts(next) && length - at >= IPV6_HEADER_LEN + 4) {
      hash = mix(hash, readU32(buf, at + IPV6_HEADER_LEN));
    }
  } else {
    return 0;
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  return (hash >>> 0) % shards;
}
