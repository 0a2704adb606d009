// RFC 1071 Internet checksum, written here on purpose instead of reusing the director's
// checksum code: the analysis verifies the director, so it must not share its arithmetic.

/** Ones'-complement sum of bytes [off, off+len) added to `sum`, not yet folded. */
export function sumBytes(buf: Uint8Array, off: number, len: number, sum = 0): number {
  let s = sum;
  const end = off + len;
  let i = off;
  for (; i + 1 < end; i += 2) s += (buf[i] << 8) | buf[i + 1];
  if (i < end) s += buf[i] << 8; // odd length: pad with a zero byte
  return s;
}

/** Folds carries until the sum fits in 16 bits. */
export function foldSum(sum: number): number {
  let s = sum;
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return s;
}

/** True when the IPv4 header at `off` (length `headerLength`) checks out. */
export function ipHeaderChecksumOk(buf: Uint8Array, off: number, headerLength: number): boolean {
  return foldSum(sumBytes(buf, off, headerLength)) === 0xffff;
}

/** Sum of the TCP/UDP pseudo-header: source, destination, zero+protocol, L4 length. */
export function pseudoHeaderSum(
  buf: Uint8Array,
  ipOff: number,
  protocol: number,
  l4Length: number,
): number {
  return sumBytes(buf, ipOff + 12, 8) + protocol + l4Length;
}

/**
 * True when a TCP or UDP segment verifies over pseudo-header + segment (checksum field
 * included, so a correct packet sums to 0xFFFF). The caller handles UDP's "0 = no checksum".
 */
export function l4ChecksumOk(
  buf: Uint8Array,
  ipOff: number,
  l4Off: number,
  l4Length: number,
  protocol: number,
): boolean {
  const sum = pseudoHeaderSum(buf, ipOff, protocol, l4Length) + sumBytes(buf, l4Off, l4Length);
  return foldSum(sum) === 0xffff;
}

/** True when an ICMP message (no pseudo-header) verifies. */
export function icmpChecksumOk(buf: Uint8Array, off: number, len: number): boolean {
  return foldSum(sumBytes(buf, off, len)) === 0xffff;
}
