// Every packet of the captured connections, before and after the director, one line each in
// the LVS article's SOURCE/DEST form, grouped per connection (for `lvslab demo`).
import { readPcap } from "../analysis/read-pcap.ts";
import { matchTwins, type TwinPair } from "../analysis/twins.ts";
import { describePacket, formatSourceDest } from "../analysis/format.ts";

/** Lines for the pairs of the first `maxConnections` connections to the VIP. */
export function formatConnectionPairs(pairs: readonly TwinPair[], maxConnections = 20): string[] {
  const byClient = new Map<string, TwinPair[]>();
  for (const p of pairs) {
    const client = p.direction === "to-server"
      ? `${p.public.src}:${p.public.srcPort}`
      : `${p.public.dst}:${p.public.dstPort}`;
    const list = byClient.get(client) ?? [];
    list.push(p);
    byClient.set(client, list);
  }
  const lines: string[] = [];
  let n = 0;
  for (const [client, list] of byClient) {
    if (++n > maxConnections) {
      lines.push(`... and ${byClient.size - maxConnections} more connections (see the pcaps)`);
      break;
    }
    const first = list.find((p) => p.direction === "to-server") ?? list[0];
    const vip = first.direction === "to-server"
      ? `${first.public.dst}:${first.public.dstPort}`
      : `${first.public.src}:${first.public.srcPort}`;
    const server = first.direction === "to-server"
      ? `${first.private.dst}:${first.private.dstPort}`
      : `${first.private.src}:${first.private.srcPort}`;
    lines.push(`connection ${n}: client ${client} -> VIP ${vip} -> real server ${server}`);
    const width = Math.max(...list.map((p) => formatSourceDest(p.before).length));
    for (const p of list) {
      const arrow = p.direction === "to-server" ? "client->rs" : "rs->client";
      lines.push(
        `  ${arrow}  before ${formatSourceDest(p.before).padEnd(width)}  after ${
          formatSourceDest(p.after)
        }  (${describePacket(p.before)})`,
      );
    }
  }
  return lines;
}

/** Reads the two capture files and formats their packet pairs. */
export async function pairsFromPcaps(
  publicPcap: string,
  privatePcap: string,
  vip: string,
  maxConnections?: number,
): Promise<string[]> {
  const pub = await readPcap(publicPcap);
  const priv = await readPcap(privatePcap);
  const twins = matchTwins(pub.packets, priv.packets, { vip });
  return formatConnectionPairs(twins.pairs, maxConnections);
}
