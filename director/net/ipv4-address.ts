// IPv4 addresses as unsigned 32-bit numbers: parse and format at the edges (config, CLI,
// output), never on the packet path.

/** Parses dotted-quad text; returns null when it is not a valid IPv4 address. */
export function parseIPv4(text: string): number | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return null;
    const octet = Number(part);
    if (octet > 255) return null;
    value = value * 256 + octet;
  }
  return value >>> 0;
}

/** Formats an unsigned 32-bit number as dotted-quad text. */
export function formatIPv4(addr: number): string {
  return `${addr >>> 24}.${(addr >>> 16) & 255}.${(addr >>> 8) & 255}.${addr & 255}`;
}

/** A netmask of `bits` leading ones, as an unsigned number. */
export function prefixMask(bits: number): number {
  return bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
}

/** Parses "a.b.c.d/len" into numbers; null when malformed. */
export function parseCidr(text: string): { addr: number; bits: number } | null {
  const match = /^([0-9.]+)\/(\d{1,2})$/.exec(text);
  if (!match) return null;
  const addr = parseIPv4(match[1]);
  const bits = Number(match[2]);
  if (addr === null || bits > 32) return null;
  return { addr, bits };
}
