// `lvslab demo` as a user runs it (the README's first command), judged against its own pcaps
// read by tcpdump, a decoder that is not lvslab's: every packet pair it prints is a packet of
// the client capture (before) and one of the private capture (after) with those addresses,
// ports and flags, in capture order; no packet of the demo's connections is left out; the real
// server it names is where the private capture shows the connection went; and the connection
// table it prints lists each of those connections with that server.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { labDown } from "../../lab/netns/lab.ts";
import { REPO_ROOT } from "../../lab/paths.ts";
import { labTestBlocker, requireRoot } from "../../lab/testing/require-root.ts";

const LAB = "lvstdemo";
const REQUESTS = 6;
const canRun = labTestBlocker() === null;

after(async () => {
  if (canRun) await labDown(LAB);
});

/** One TCP packet as tcpdump prints it: "a.b.c.d:p -> e.f.g.h:q S." (flags as tcpdump's). */
interface DumpedPacket {
  from: string;
  to: string;
  flags: string;
  length: number;
}

/** The TCP packets of a pcap, in capture order, decoded by tcpdump. */
function tcpdumpPackets(pcap: string): DumpedPacket[] {
  const r = spawnSync("tcpdump", ["-nn", "-r", pcap, "tcp"], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const packets: DumpedPacket[] = [];
  const line =
    /IP (\d+\.\d+\.\d+\.\d+)\.(\d+) > (\d+\.\d+\.\d+\.\d+)\.(\d+): Flags \[([^\]]+)\].* length (\d+)/;
  for (const text of r.stdout.split("\n")) {
    const m = line.exec(text);
    if (!m) continue;
    packets.push({
      from: `${m[1]}:${m[2]}`,
      to: `${m[3]}:${m[4]}`,
      flags: m[5],
      length: Number(m[6]),
    });
  }
  return packets;
}

/** A pair line of the demo: direction, SOURCE/DEST before and after, "TCP S." [n bytes]. */
interface PrintedPair {
  connection: number;
  toServer: boolean;
  before: { from: string; to: string };
  after: { from: string; to: string };
  flags: string;
  length: number;
}

function parseDemo(stdout: string) {
  const connections = new Map<number, { client: string; vip: string; server: string }>();
  const pairs: PrintedPair[] = [];
  let current = 0;
  const conn = /^connection (\d+): client (\S+) -> VIP (\S+) -> real server (\S+)$/;
  const pair =
    /^ {2}(client->rs|rs->client) {2}before SOURCE (\S+) DEST (\S+)\s+after SOURCE (\S+) DEST (\S+) {2}\(TCP (\S+)(?: (\d+) bytes)?\)$/;
  for (const line of stdout.split("\n")) {
    const c = conn.exec(line);
    if (c) {
      current = Number(c[1]);
      connections.set(current, { client: c[2], vip: c[3], server: c[4] });
      continue;
    }
    const p = pair.exec(line);
    if (p) {
      pairs.push({
        connection: current,
        toServer: p[1] === "client->rs",
        before: { from: p[2], to: p[3] },
        after: { from: p[4], to: p[5] },
        flags: p[6],
        length: Number(p[7] ?? 0),
      });
    }
  }
  const pcaps = /^pcaps \(open them in Wireshark\): (.*)$/m.exec(stdout)?.[1].split(" ") ?? [];
  return { connections, pairs, pcaps };
}

/** The packets of one connection (either direction) between `a` and `b`, in capture order. */
function between(packets: DumpedPacket[], a: string, b: string): DumpedPacket[] {
  return packets.filter((p) => (p.from === a && p.to === b) || (p.from === b && p.to === a));
}

test("lvslab demo prints each packet before and after the director as its pcaps hold it", async (t) => {
  if (!requireRoot(t)) return;
  await labDown(LAB);
  const artifacts = fs.mkdtempSync(path.join(os.tmpdir(), "lvslab-demo-"));
  const r = spawnSync(
    path.join(REPO_ROOT, "lvslab"),
    ["demo", "--name", LAB, "--count", String(REQUESTS), "--artifacts", artifacts],
    { encoding: "utf8", timeout: 180_000 },
  );
  assert.equal(r.status, 0, `${r.stdout.slice(-3000)}\n${r.stderr.slice(-2000)}`);
  const { connections, pairs, pcaps } = parseDemo(r.stdout);
  assert.equal(connections.size, REQUESTS, r.stdout);
  const publicPcap = pcaps.find((p) => p.endsWith("public.pcap"));
  const privatePcap = pcaps.find((p) => p.endsWith("private.pcap"));
  assert.ok(publicPcap && privatePcap, `pcaps named: ${pcaps.join(" ")}`);
  const pub = tcpdumpPackets(publicPcap);
  const priv = tcpdumpPackets(privatePcap);

  for (const [n, c] of connections) {
    const printed = pairs.filter((p) => p.connection === n);
    const before = between(pub, c.client, c.vip);
    const afterDirector = between(priv, c.client, c.server);
    // Nothing of the connection is left out, on either side, and the private capture saw it
    // go to the real server the demo names.
    assert.equal(printed.length, before.length, `connection ${n}: pairs vs client capture`);
    assert.equal(printed.length, afterDirector.length, `connection ${n}: pairs vs private capture`);
    assert.ok(before.length >= 6, `connection ${n}: only ${before.length} packets captured`);
    // The pairs follow the client capture's order; across the director two packets of
    // opposite directions may swap places, so each pair's other side is looked up in the
    // private capture, each captured packet used once.
    const unused = [...afterDirector];
    printed.forEach((p, i) => {
      const where = `connection ${n} packet ${i + 1}`;
      // Client → server: before on the client network, after on the private one; a reply
      // the other way round.
      const [onPublic, onPrivate] = p.toServer ? [p.before, p.after] : [p.after, p.before];
      const captured = before[i];
      assert.deepEqual(onPublic, { from: captured.from, to: captured.to }, `${where}, client`);
      assert.equal(p.flags, captured.flags, `${where}: flags in the client capture`);
      assert.equal(p.length, captured.length, `${where}: payload in the client capture`);
      const twin = unused.findIndex((d) =>
        d.from === onPrivate.from && d.to === onPrivate.to && d.flags === p.flags &&
        d.length === p.length
      );
      assert.ok(twin >= 0, `${where}: no ${JSON.stringify(onPrivate)} ${p.flags} in private`);
      unused.splice(twin, 1);
    });
  }

  // The connection table: each connection, to the server the capture shows.
  const table = r.stdout.slice(r.stdout.indexOf("The director's connection table"));
  for (const c of connections.values()) {
    const row = new RegExp(
      `^TCP\\s+\\S+\\s+\\S+\\s+${c.client.replaceAll(".", "\\.")}\\s+${
        c.vip.replaceAll(".", "\\.")
      }\\s+${c.server.replaceAll(".", "\\.")}$`,
      "m",
    );
    assert.match(table, row);
  }
});
