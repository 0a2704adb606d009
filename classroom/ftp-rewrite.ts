// What an application helper (FTP's, director/apps/ftp.ts) changed in a pair beyond NAT's
// addresses: a payload rewritten (the 227 reply's address written to the VIP's, a different
// length) and, for the rest of the connection, sequence or acknowledgment numbers moved by
// the bytes the rewrites added (director/apps/seq-adjust.ts). The page's line says so.
import type { Packet } from "../lab/analysis/packet.ts";
import type { LivePair } from "./live-pairs.ts";
import { shift } from "./live-pairs.ts";
import type { Explanation } from "./explain.ts";

/** The payload's first line, printable (what the helper rewrote is on it). */
function line(p: Packet): string {
  return Buffer.from(p.payload.subarray(0, 120)).toString("latin1").split(/\r?\n/)[0]
    .replace(/[^\x20-\x7e]/g, ".");
}

function bytes(n: number): string {
  return `${Math.abs(n)} byte${Math.abs(n) === 1 ? "" : "s"}`;
}

function signed(n: number): string {
  return n > 0 ? `+${n}` : `−${-n}`;
}

/** What a name calls the packet's command or reply: "227 reply", "PORT command". */
function what(text: string): string {
  const word = text.split(" ")[0];
  return /^\d{3}$/.test(word) ? `${word} reply` : `${word} command`;
}

/**
 * The pair's explanation with the helper's change put first, or `base` as it is when only the
 * addresses changed.
 */
export function withHelperChange(pair: LivePair, base: Explanation): Explanation {
  const { before, after } = pair;
  if (!before.tcp || !after.tcp) return base;
  const seq = shift(before.tcp.seq, after.tcp.seq);
  const ack = shift(before.tcp.ack, after.tcp.ack);
  const grew = after.payloadLength - before.payloadLength;
  const rewritten = grew !== 0 ||
    Buffer.compare(Buffer.from(before.payload), Buffer.from(after.payload)) !== 0;
  if (!rewritten && seq === 0 && ack === 0) return base;
  const parts: string[] = [];
  if (rewritten) {
    const [old, now] = [line(before), line(after)];
    const to = pair.direction === "to-client" ? "to the VIP" : "for the real server";
    parts.push(
      `FTP helper: ${what(old)} rewritten ${to}, payload ${
        grew === 0 ? "the same length" : `${bytes(grew)} ${grew > 0 ? "longer" : "shorter"}`
      } ("${old}" → "${now}")`,
    );
  }
  if (seq !== 0) {
    parts.push(
      `sequence number ${signed(seq)} (the ${bytes(seq)} the connection's rewrites added so far)`,
    );
  }
  if (ack !== 0) {
    const whose = pair.direction === "to-server" ? "real server's" : "client's";
    parts.push(`acknowledgment ${signed(ack)} (taken to the ${whose} numbering)`);
  }
  const text = rewritten ? parts.join("; ") : `FTP helper: ${parts.join("; ")}`;
  return { ...base, text: `${text}. ${base.text}` };
}
