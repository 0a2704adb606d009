// Why the decapsulator did not inject a packet, as small numbers so the receive loop counts
// them in a typed array (one increment per packet, no allocation). Names are the stats
// file's keys.

export const Verdict = {
  /** Decapsulated: the inner packet is injected. */
  INJECT: 0,
  /** A UDP datagram that is not tunnel traffic (not to the GUE port, not from a director). */
  NOT_TUNNEL: 1,
  /** The outer source is not a configured director. */
  NOT_DIRECTOR: 2,
  /** Outer IPv4, UDP, GUE or GRE header cut short, or its lengths disagree. */
  TRUNCATED_OUTER: 3,
  /** UDP from a director to a port other than the GUE port. */
  GUE_WRONG_PORT: 4,
  /** Non-zero UDP checksum that does not verify. */
  BAD_UDP_CHECKSUM: 5,
  /** GUE version 2 or 3, or version 1 (direct IP) that is not IPv4. */
  GUE_BAD_VERSION: 6,
  /** GUE control message (C bit set): the kernel drops these too. */
  GUE_CONTROL: 7,
  /** Unknown GUE flags or private flags, or options longer than Hlen says. */
  GUE_BAD_FLAGS: 8,
  /** Remote checksum offload pointing beyond the inner packet. */
  GUE_BAD_REMCSUM: 9,
  /** GUE proto or GRE protocol type is not IPv4 (the decapsulator is IPv4-only). */
  INNER_NOT_IPV4: 10,
  /** GRE version not 0, or a flag other than C (key, sequence, routing). */
  GRE_BAD_FLAGS: 11,
  /** GRE checksum present and wrong. */
  BAD_GRE_CHECKSUM: 12,
  /** Inner IPv4 header cut short, or its total length beyond the outer payload. */
  TRUNCATED_INNER: 13,
  /** Inner header is not IPv4 (version), IHL below 5, or total length below the header. */
  BAD_INNER_HEADER: 14,
  /** Inner IPv4 header checksum wrong. */
  BAD_INNER_CHECKSUM: 15,
  /** Inner destination is not an address this real server holds (or not a --vip). */
  INNER_DST_NOT_LOCAL: 16,
  /** Outer ECN CE on an inner Not-ECT packet (RFC 6040: drop, as the kernel's tunnels do). */
  ECN_CE_NOT_ECT: 17,
  /** The TUN device refused the write. */
  INJECT_FAILED: 18,
} as const;

/** Stats names by code. */
export const VERDICT_NAMES: readonly string[] = [
  "injected",
  "not-tunnel",
  "not-director",
  "truncated-outer",
  "gue-wrong-port",
  "bad-udp-checksum",
  "gue-bad-version",
  "gue-control",
  "gue-bad-flags",
  "gue-bad-remcsum",
  "inner-not-ipv4",
  "gre-bad-flags",
  "bad-gre-checksum",
  "truncated-inner",
  "bad-inner-header",
  "bad-inner-checksum",
  "inner-dst-not-local",
  "ecn-ce-not-ect",
  "inject-failed",
];

export const VERDICT_COUNT = VERDICT_NAMES.length;

/** Counters by verdict as a plain object (for the stats file; control path only). */
export function verdictCounts(counts: ArrayLike<number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (let i = 0; i < VERDICT_COUNT; i++) out[VERDICT_NAMES[i]!] = counts[i] ?? 0;
  return out;
}
