// glibc inet_aton(), which ipvsadm uses for -t/-u/-r addresses and the -M netmask. It is
// looser than dotted-quad: "10.1" is 10.0.0.1, "0x7f.1" is 127.0.0.1, "24" is 0.0.0.24 (so
// "-M 24" is not a /24), and anything after a space is ignored.

const PART_LIMITS: readonly (readonly number[])[] = [
  [0xffffffff],
  [0xff, 0xffffff],
  [0xff, 0xff, 0xffff],
  [0xff, 0xff, 0xff, 0xff],
];

/** Returns the address as an unsigned 32-bit number, or null where inet_aton returns 0. */
export function inetAton(text: string): number | null {
  const parts: number[] = [];
  let i = 0;
  for (;;) {
    if (!/[0-9]/.test(text[i] ?? "")) return null;
    const m = /^(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)/.exec(text.slice(i));
    if (!m) return null;
    const digits = m[1];
    const value = /^0[xX]/.test(digits)
      ? parseInt(digits.slice(2), 16)
      : digits.length > 1 && digits[0] === "0"
      ? parseInt(digits, 8)
      : Number(digits);
    i += digits.length;
    parts.push(value);
    if (text[i] === ".") {
      if (parts.length > 3 || value > 0xff) return null;
      i++;
      continue;
    }
    break;
  }
  const rest = text[i];
  if (rest !== undefined && !/\s/.test(rest)) return null;
  const limits = PART_LIMITS[parts.length - 1];
  if (parts.some((p, k) => p > limits[k])) return null;
  // The last part fills the low-order bytes not taken by the leading ones.
  let addr = parts[parts.length - 1];
  for (let k = 0; k < parts.length - 1; k++) addr += parts[k] * 2 ** (8 * (3 - k));
  return addr >>> 0;
}
