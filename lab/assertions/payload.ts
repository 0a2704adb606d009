// What the bytes of captured packets say: a text that must appear (the FTP helper's rewritten
// "227 Entering Passive Mode (203,0,113,5,...)" on the client network) or must not (the real
// server's "172,16,0,3" there). Searched packet by packet: a protocol line an application
// writes at once (a control reply) travels in one segment.
import { formatPacket } from "../analysis/format.ts";
import type { Packet } from "../analysis/packet.ts";
import { type AssertionResult, firstFew, plural, verdict } from "./result.ts";

export interface PayloadSpec {
  /** Texts that must each appear in at least `min` packets. */
  present?: readonly string[];
  /** Texts that must appear in no packet. */
  absent?: readonly string[];
  /** Fewest packets that must carry each present text (default 1). */
  min?: number;
  /** Only packets from or to this TCP/UDP port (e.g. 21, the FTP control port). */
  port?: number;
  /** The network's name in sentences, e.g. "client network". */
  network: string;
}

function carry(n: number): string {
  return n === 1 ? "carries" : "carry";
}

/** Whether `needle` occurs in `haystack`. */
function contains(haystack: Uint8Array, needle: Buffer): boolean {
  if (haystack.length < needle.length) return false;
  return Buffer.from(haystack.buffer, haystack.byteOffset, haystack.length).indexOf(needle) >= 0;
}

/** The packet and the payload line holding `text`, printable characters only. */
function withLine(p: Packet, text: string): string {
  const body = Buffer.from(p.payload.buffer, p.payload.byteOffset, p.payload.length)
    .toString("latin1");
  const at = body.indexOf(text);
  if (at < 0) return formatPacket(p);
  const start = body.lastIndexOf("\n", at) + 1;
  const end = body.indexOf("\n", at);
  const line = body.slice(start, end < 0 ? undefined : end).replace(/[^\x20-\x7e]/g, "").slice(
    0,
    120,
  );
  return `${formatPacket(p)}: "${line}"`;
}

/** Packets (of `port`, when given) whose captured payload holds `text` (latin1 bytes). */
export function packetsCarrying(
  packets: readonly Packet[],
  text: string,
  port?: number,
): Packet[] {
  const needle = Buffer.from(text, "latin1");
  return packets.filter((p) =>
    (port === undefined || p.srcPort === port || p.dstPort === port) &&
    contains(p.payload, needle)
  );
}

/** One PASS/FAIL per text: present ones in at least `min` packets, absent ones in none. */
export function assertPayload(packets: readonly Packet[], spec: PayloadSpec): AssertionResult[] {
  const min = spec.min ?? 1;
  const where = `${spec.network}${spec.port === undefined ? "" : ` (port ${spec.port})`}`;
  const considered = spec.port === undefined
    ? packets.length
    : packets.filter((p) => p.srcPort === spec.port || p.dstPort === spec.port).length;
  const out: AssertionResult[] = [];
  for (const text of spec.present ?? []) {
    const found = packetsCarrying(packets, text, spec.port);
    const name = `'${text}' on the ${where}`;
    const ok = found.length >= min;
    out.push(verdict(
      name,
      ok,
      ok
        ? `${plural(found.length, "packet")} on the ${where} ${
          carry(found.length)
        } '${text}' (at least ${min} expected)`
        : `only ${plural(found.length, "packet")} of ${considered} on the ${where} ${
          carry(found.length)
        } '${text}', ` +
          `expected at least ${min}`,
      firstFew(found.map((p) => withLine(p, text)), 5),
      { found: found.length, min, considered },
    ));
  }
  for (const text of spec.absent ?? []) {
    const found = packetsCarrying(packets, text, spec.port);
    const name = `no '${text}' on the ${where}`;
    const ok = found.length === 0 && considered > 0;
    out.push(verdict(
      name,
      ok,
      considered === 0
        ? `no packets were captured on the ${where}, so the absence of '${text}' shows nothing`
        : ok
        ? `none of the ${plural(considered, "packet")} on the ${where} carries '${text}'`
        : `${plural(found.length, "packet")} on the ${where} ${
          carry(found.length)
        } '${text}' (first: ${formatPacket(found[0])})`,
      firstFew(found.map((p) => withLine(p, text)), 5),
      { found: found.length, considered },
    ));
  }
  return out;
}
