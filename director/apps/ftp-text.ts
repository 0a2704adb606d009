// The FTP control-channel text the helper reads and writes, parsed straight from packet
// bytes (no strings on the packet path): commands PASV, EPSV, PORT h1,h2,h3,h4,p1,p2 and
// EPRT |1|a.b.c.d|port| (RFC 959, RFC 2428), and replies "227 ... (h1,h2,h3,h4,p1,p2)" and
// "229 ... (|||port|)". A command or reply split over two segments is not recognised (as in
// IPVS); FTP clients and servers send each line in one write.

const CR = 0x0d;
const LF = 0x0a;
const SPACE = 0x20;
const COMMA = 0x2c;
const DOT = 0x2e;
const OPEN_PAREN = 0x28;
const CLOSE_PAREN = 0x29;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;

/** What a parse found: an address and port, and where their text lies in the buffer. */
export class AddrPort {
  addr = 0;
  port = 0;
  /** Absolute offsets of the address text: [start, end). */
  start = 0;
  end = 0;
}

/** Offset of the end of the line starting at `from` (its CR or LF), or `limit`. */
export function lineEnd(buf: Uint8Array, from: number, limit: number): number {
  let i = from;
  while (i < limit && buf[i] !== CR && buf[i] !== LF) i++;
  return i;
}

/** Offset of the start of the next line after the one starting at `from`, or `limit`. */
export function nextLine(buf: Uint8Array, from: number, limit: number): number {
  let i = from;
  while (i < limit && buf[i] !== LF) i++;
  return i < limit ? i + 1 : limit;
}

/**
 * True when the line at `at` starts with the ASCII `word` (case-insensitive, as FTP commands
 * are) followed by a space, CR, LF or the line's end.
 */
export function startsWithWord(buf: Uint8Array, at: number, limit: number, word: string): boolean {
  const n = word.length;
  if (at + n > limit) return false;
  for (let i = 0; i < n; i++) {
    let c = buf[at + i]!;
    if (c >= 0x61 && c <= 0x7a) c -= 0x20; // to upper case
    if (c !== word.charCodeAt(i)) return false;
  }
  if (at + n === limit) return true;
  const next = buf[at + n]!;
  return next === SPACE || next === CR || next === LF;
}

function isDigit(c: number): boolean {
  return c >= DIGIT_0 && c <= DIGIT_9;
}

/**
 * Parses "h1,h2,h3,h4,p1,p2" at `at` (each 0..255) up to `limit`; stops at the first
 * character after the sixth number. Fills out.addr/port/start/end; false if malformed.
 */
export function parseHostPort(buf: Uint8Array, at: number, limit: number, out: AddrPort): boolean {
  let i = at;
  let addr = 0;
  let port = 0;
  for (let n = 0; n < 6; n++) {
    if (n > 0) {
      if (i >= limit || buf[i] !== COMMA) return false;
      i++;
    }
    const digitsStart = i;
    let value = 0;
    while (i < limit && isDigit(buf[i]!) && i - digitsStart < 3) {
      value = value * 10 + buf[i]! - DIGIT_0;
      i++;
    }
    if (i === digitsStart || value > 255) return false;
    if (n < 4) addr = addr * 256 + value;
    else port = port * 256 + value;
  }
  if (i < limit && isDigit(buf[i]!)) return false; // a fourth digit
  out.addr = addr >>> 0;
  out.port = port;
  out.start = at;
  out.end = i;
  return true;
}

/** Parses a dotted-quad IPv4 address in [at, end); returns it, or -1. */
function parseDottedQuad(buf: Uint8Array, at: number, end: number): number {
  let addr = 0;
  let i = at;
  for (let n = 0; n < 4; n++) {
    if (n > 0) {
      if (i >= end || buf[i] !== DOT) return -1;
      i++;
    }
    const digitsStart = i;
    let value = 0;
    while (i < end && isDigit(buf[i]!) && i - digitsStart < 3) {
      value = value * 10 + buf[i]! - DIGIT_0;
      i++;
    }
    if (i === digitsStart || value > 255) return -1;
    addr = addr * 256 + value;
  }
  return i === end ? addr >>> 0 : -1;
}

/** Parses a decimal port 1..65535 in [at, end); returns it, or -1. */
function parsePort(buf: Uint8Array, at: number, end: number): number {
  if (end <= at || end - at > 5) return -1;
  let value = 0;
  for (let i = at; i < end; i++) {
    if (!isDigit(buf[i]!)) return -1;
    value = value * 10 + buf[i]! - DIGIT_0;
  }
  return value >= 1 && value <= 65535 ? value : -1;
}

/** Offset of the next `c` in [from, limit), or -1. */
function indexOf(buf: Uint8Array, c: number, from: number, limit: number): number {
  for (let i = from; i < limit; i++) if (buf[i] === c) return i;
  return -1;
}

/**
 * A "PORT h1,h2,h3,h4,p1,p2" command line at `at` (line ends at `limit`): fills `out`.
 * Returns false when the line is not a well-formed PORT command.
 */
export function parsePortCommand(
  buf: Uint8Array,
  at: number,
  limit: number,
  out: AddrPort,
): boolean {
  if (!startsWithWord(buf, at, limit, "PORT")) return false;
  let i = at + 4;
  while (i < limit && buf[i] === SPACE) i++;
  return parseHostPort(buf, i, limit, out) && out.port !== 0;
}

/**
 * An "EPRT |1|a.b.c.d|port|" command line (RFC 2428; any delimiter, IPv4 only): fills `out`.
 */
export function parseEprtCommand(
  buf: Uint8Array,
  at: number,
  limit: number,
  out: AddrPort,
): boolean {
  if (!startsWithWord(buf, at, limit, "EPRT")) return false;
  let i = at + 4;
  while (i < limit && buf[i] === SPACE) i++;
  if (i + 1 >= limit) return false;
  const delim = buf[i]!;
  if (delim < 33 || delim > 126 || isDigit(delim)) return false;
  const protoEnd = indexOf(buf, delim, i + 1, limit);
  if (protoEnd !== i + 2 || buf[i + 1] !== 0x31) return false; // net-prt 1: IPv4
  const addrEnd = indexOf(buf, delim, protoEnd + 1, limit);
  if (addrEnd < 0) return false;
  const addr = parseDottedQuad(buf, protoEnd + 1, addrEnd);
  if (addr < 0) return false;
  const portEnd = indexOf(buf, delim, addrEnd + 1, limit);
  if (portEnd < 0) return false;
  const port = parsePort(buf, addrEnd + 1, portEnd);
  if (port < 0) return false;
  out.addr = addr;
  out.port = port;
  out.start = protoEnd + 1;
  out.end = portEnd;
  return true;
}

/**
 * A "227 <text> (h1,h2,h3,h4,p1,p2)" reply line: fills `out` with the address, port and the
 * span of "h1,...,p2" to rewrite. The parentheses are optional (RFC 1123 4.1.2.6 tells
 * clients to scan for the first digit after the code).
 */
export function parse227Reply(buf: Uint8Array, at: number, limit: number, out: AddrPort): boolean {
  if (at + 4 > limit || buf[at] !== 0x32 || buf[at + 1] !== 0x32 || buf[at + 2] !== 0x37) {
    return false;
  }
  if (buf[at + 3] !== SPACE) return false;
  let i = at + 4;
  const paren = indexOf(buf, OPEN_PAREN, i, limit);
  if (paren >= 0) i = paren + 1;
  else while (i < limit && !isDigit(buf[i]!)) i++;
  if (!parseHostPort(buf, i, limit, out)) return false;
  if (paren >= 0 && (out.end >= limit || buf[out.end] !== CLOSE_PAREN)) return false;
  return out.port !== 0;
}

/** A "229 <text> (|||port|)" reply line: fills out.port (out.addr is left 0). */
export function parse229Reply(buf: Uint8Array, at: number, limit: number, out: AddrPort): boolean {
  if (at + 4 > limit || buf[at] !== 0x32 || buf[at + 1] !== 0x32 || buf[at + 2] !== 0x39) {
    return false;
  }
  if (buf[at + 3] !== SPACE) return false;
  const paren = indexOf(buf, OPEN_PAREN, at + 4, limit);
  if (paren < 0 || paren + 5 > limit) return false;
  const d = buf[paren + 1]!;
  if (buf[paren + 2] !== d || buf[paren + 3] !== d) return false;
  const portEnd = indexOf(buf, d, paren + 4, limit);
  if (portEnd < 0) return false;
  const port = parsePort(buf, paren + 4, portEnd);
  if (port < 0) return false;
  out.addr = 0;
  out.port = port;
  out.start = paren + 4;
  out.end = portEnd;
  return true;
}

/** Writes value (0..255) in decimal at out[n]; returns the offset after it. */
function putByte(out: Uint8Array, n: number, value: number): number {
  if (value >= 100) out[n++] = DIGIT_0 + Math.floor(value / 100);
  if (value >= 10) out[n++] = DIGIT_0 + (Math.floor(value / 10) % 10);
  out[n++] = DIGIT_0 + (value % 10);
  return n;
}

/** Writes "h1,h2,h3,h4,p1,p2" for addr:port into out at 0; returns the number of bytes. */
export function formatHostPort(addr: number, port: number, out: Uint8Array): number {
  let n = putByte(out, 0, addr >>> 24);
  out[n++] = COMMA;
  n = putByte(out, n, (addr >>> 16) & 0xff);
  out[n++] = COMMA;
  n = putByte(out, n, (addr >>> 8) & 0xff);
  out[n++] = COMMA;
  n = putByte(out, n, addr & 0xff);
  out[n++] = COMMA;
  n = putByte(out, n, port >>> 8);
  out[n++] = COMMA;
  return putByte(out, n, port & 0xff);
}
