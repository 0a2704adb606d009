// Integer hashes the hashing schedulers share.

/** The kernel's hash_32(): multiply by GOLDEN_RATIO_32 and keep the top `bits` bits. */
export function hash32(val: number, bits: number): number {
  return Math.imul(val, 0x61c88647) >>> (32 - bits);
}

/**
 * A keyed 32-bit hash standing in for the kernel's hsiphash() in the mh scheduler.
 * Not SipHash: two rounds of MurmurHash3's fmix32 finaliser around the key. It is
 * deterministic and well mixed, which is all Maglev's permutation needs; tables
 * therefore differ slot-by-slot from the kernel's, the algorithm does not.
 */
export function keyedHash32(val: number, key: number): number {
  let h = (val ^ key) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  h = (h + key) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** fls(): 1-based index of the highest set bit, 0 for 0. */
export function fls(x: number): number {
  return x === 0 ? 0 : 32 - Math.clz32(x);
}
