// Internet checksum arithmetic (RFC 1071) and incremental updates (RFC 1624) for the hot
// path: plain integer math on numbers, no allocation.
//
// Ones' complement sums are kept "unfolded" (an ordinary integer sum of 16-bit words) until
// the end; 2^16 ≡ 1 (mod 0xffff), so folding at any point gives the same residue.

/**
 * Adds bytes [off, off+len) as big-endian 16-bit words to a running sum (an odd trailing
 * byte is padded with 0, so only the last piece of a chained sum may have odd length).
 * Returns the unfolded sum (a non-negative integer < 2^53 for any sane input). The range is
 * clamped to the buffer so bad lengths never produce NaN.
 */
export function sumBytes(buf: Uint8Array, off: number, len: number, sum: number): number {
  if (off < 0) off = 0;
  let end = off + (len > 0 ? len : 0);
  if (end > buf.length) end = buf.length;
  if (end <= off) return sum;
  const evenEnd = end - ((end - off) & 1);
  let s = 0;
  let i = off;
  // Unrolled by 8 bytes: s stays below 2^31 for any buffer up to 64 KiB (a small integer).
  for (const end8 = evenEnd - 7; i < end8; i += 8) {
    s += ((buf[i]! << 8) | buf[i + 1]!) + ((buf[i + 2]! << 8) | buf[i + 3]!) +
      ((buf[i + 4]! << 8) | buf[i + 5]!) + ((buf[i + 6]! << 8) | buf[i + 7]!);
  }
  for (; i < evenEnd; i += 2) s += (buf[i]! << 8) | buf[i + 1]!;
  if (evenEnd < end) s += buf[evenEnd]! << 8;
  return sum + s;
}

/** Folds a running sum to 16 bits with end-around carry; NOT complemented. 0..0xffff. */
export function foldSum(sum: number): number {
  // `& 0xffff` is exact for integers up to 2^53 (ToInt32 keeps the low 32 bits).
  while (sum > 0xffffffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  sum = (sum >>> 16) + (sum & 0xffff);
  return (sum >>> 16) + (sum & 0xffff);
}

/** RFC 1071 Internet checksum of bytes [off, off+len): ~fold(initial + words) & 0xffff. */
export function internetChecksum(
  buf: Uint8Array,
  off: number,
  len: number,
  initial = 0,
): number {
  return ~foldSum(sumBytes(buf, off, len, initial)) & 0xffff;
}

/** Unfolded sum of the IPv4 pseudo-header: src, dst, zero+protocol, L4 length. */
export function pseudoHeaderSum(src: number, dst: number, proto: number, l4len: number): number {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + (proto & 0xff) +
    (l4len >>> 16) + (l4len & 0xffff);
}

/**
 * RFC 1624 eqn. 3 update of a complemented checksum field for one 16-bit word change:
 * HC' = ~(~HC + ~m + m'). Unlike eqn. 2 (RFC 1141) it never turns a correct result into
 * the other zero. The result is 0xffff only if ~HC, ~m and m' are all 0 (HC = 0xffff,
 * m = 0xffff, m' = 0): an equivalent zero, as the input was.
 */
export function checksumReplace16(check: number, oldWord: number, newWord: number): number {
  let s = (~check & 0xffff) + (~oldWord & 0xffff) + (newWord & 0xffff);
  s = (s >>> 16) + (s & 0xffff);
  s = (s >>> 16) + (s & 0xffff);
  return ~s & 0xffff;
}

/** RFC 1624 eqn. 3 for a 32-bit value (an IPv4 address): two 16-bit word changes at once. */
export function checksumReplace32(check: number, oldValue: number, newValue: number): number {
  const nOld = ~oldValue;
  let s = (~check & 0xffff) + (nOld >>> 16) + (nOld & 0xffff) + (newValue >>> 16) +
    (newValue & 0xffff);
  s = (s >>> 16) + (s & 0xffff);
  s = (s >>> 16) + (s & 0xffff);
  return ~s & 0xffff;
}

/**
 * UDP rule on top of eqn. 3: a field of 0 means "no checksum" and stays 0; a result of 0
 * is sent as 0xffff (the kernel's CSUM_MANGLED_0), since 0 on the wire would mean "none".
 */
export function udpChecksumReplace16(check: number, oldWord: number, newWord: number): number {
  if ((check & 0xffff) === 0) return 0;
  return checksumReplace16(check, oldWord, newWord) || 0xffff;
}

/** UDP variant of checksumReplace32 (0 stays 0; a result of 0 becomes 0xffff). */
export function udpChecksumReplace32(check: number, oldValue: number, newValue: number): number {
  if ((check & 0xffff) === 0) return 0;
  return checksumReplace32(check, oldValue, newValue) || 0xffff;
}

/**
 * Update of a PARTIAL sum (vnet NEEDS_CSUM: the field holds the folded pseudo-header sum,
 * not complemented, and the kernel finishes it): P' = fold(P + ~old + new). Same as the
 * kernel's inet_proto_csum_replace* for CHECKSUM_PARTIAL with a pseudo-header change.
 */
export function partialReplace16(partial: number, oldWord: number, newWord: number): number {
  let s = (partial & 0xffff) + (~oldWord & 0xffff) + (newWord & 0xffff);
  s = (s >>> 16) + (s & 0xffff);
  return (s >>> 16) + (s & 0xffff);
}

/** partialReplace16 for a 32-bit value (an IPv4 address). */
export function partialReplace32(partial: number, oldValue: number, newValue: number): number {
  const nOld = ~oldValue;
  let s = (partial & 0xffff) + (nOld >>> 16) + (nOld & 0xffff) + (newValue >>> 16) +
    (newValue & 0xffff);
  s = (s >>> 16) + (s & 0xffff);
  return (s >>> 16) + (s & 0xffff);
}
