// Why the parser refused a packet, as small numbers so the hot path counts them in a typed
// array (codes stay below 64: the engine's own drop reasons start there).

export const PacketError = {
  OK: 0,
  /** Fewer than 10 bytes: no complete virtio_net_hdr. */
  TRUNCATED_VNET: 1,
  /** Fewer than 20 bytes of IPv4, or fewer than IHL*4. */
  TRUNCATED_IP: 2,
  /** IP version is not 4. */
  BAD_VERSION: 3,
  /** IHL below 5. */
  BAD_IHL: 4,
  /** IPv4 total length shorter than the IPv4 header. */
  TOTAL_LENGTH_TOO_SHORT: 5,
  /** IPv4 total length longer than the bytes read. */
  TOTAL_LENGTH_BEYOND_BUFFER: 6,
  /** L4 header incomplete or inconsistent (TCP data offset, UDP length, ICMP < 8 bytes). */
  TRUNCATED_L4: 7,
  /** Not TCP, UDP or ICMP: the IPv4 view is bound, no L4 view is. */
  UNSUPPORTED_PROTOCOL: 8,
} as const;

const NAMES = [
  "ok",
  "truncated-vnet-header",
  "truncated-ip-header",
  "bad-ip-version",
  "bad-ip-header-length",
  "ip-total-length-too-short",
  "ip-total-length-beyond-buffer",
  "truncated-l4-header",
  "unsupported-protocol",
];

/** Counter name of a PacketError code (control path; unknown codes get a generic name). */
export function packetErrorName(code: number): string {
  return NAMES[code] ?? `packet-error-${code}`;
}
