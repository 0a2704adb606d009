// VS/TUN pairing as the classroom does it live (live-copies.ts with tunnelLegs), from real
// pcaps of a TUN lab run (classroom/fixtures/tun: five HTTP connections, to VIP:80 by IPIP
// and GUE, to VIP:8080 by GRE with and without its checksum), checked against
// lab/analysis/tun-path.ts's trace over the whole files.
import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { readPcap } from "../lab/analysis/read-pcap.ts";
import type { Packet } from "../lab/analysis/packet.ts";
import { traceTunnel } from "../lab/analysis/tun-path.ts";
import { decodeTunnel } from "../lab/analysis/tunnel-decode.ts";
import { readHostLinks } from "../lab/capture/host-links.ts";
import { LiveCopyPairer } from "./live-copies.ts";
import type { LivePair } from "./live-pairs.ts";
import { tunnelLegs, tunnelPacketView, tunnelTarget } from "./live-tunnels.ts";
import { changedFields, fieldKey, packetFields } from "./fields.ts";
import { OUTER_LAYERS, outerFieldKeys } from "./tunnel-fields.ts";

const DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures", "tun");
const VIP = "203.0.113.5";
const DIRECTOR = "172.16.1.2";
const SERVER_PORTS = ["rs1-eth0", "rs2-eth0"];

async function load() {
  const dirnet = (await readPcap(path.join(DIR, "dirnet.pcap"))).packets;
  const servers = new Map<string, Packet[]>();
  for (const s of SERVER_PORTS) {
    servers.set(s, (await readPcap(path.join(DIR, `${s}.pcap`))).packets);
  }
  return { dirnet, servers };
}

/** Feeds the files in arrival order, as the session's tails do, and collects what comes out. */
async function pairLive() {
  const { dirnet, servers } = await load();
  const pairs: LivePair[] = [];
  const alone: [Packet, string][] = [];
  const m = new LiveCopyPairer(VIP, "dirnet", tunnelLegs(DIRECTOR), new Set(SERVER_PORTS), {
    pair: (p) => pairs.push(p),
    alone: (p, s) => alone.push([p, s]),
  });
  for (const p of dirnet) m.add("dirnet", p);
  for (const [s, list] of servers) for (const p of list) m.add(s, p);
  m.expire(Infinity);
  return { pairs, alone, dirnet, servers };
}

test("TUN live pairs are the whole-file trace's: each client packet with its tunnel packet", async () => {
  const { pairs, alone, dirnet, servers } = await pairLive();
  const roles = {
    director: DIRECTOR,
    servers: new Map([["172.16.2.2", "rs1"], ["172.16.3.2", "rs2"]]),
  };
  // The trace starts from the client's side; here the router's copy on dirnet stands in.
  const arrived = dirnet.filter((p) => p.dst === VIP && p.src !== DIRECTOR);
  const trace = traceTunnel(arrived, dirnet, servers, roles, { vips: new Set([VIP]) });
  const expected = trace.hops.filter((h) => h.left.length === 1);
  assert.ok(expected.length >= 25, `the fixture holds ${expected.length} tunnelled packets`);
  assert.equal(pairs.length, expected.length);
  for (const h of expected) {
    const p = pairs.find((x) => x.before === h.arrived);
    assert.ok(p, `frame ${h.arrived!.index} is paired`);
    assert.equal(p.after, h.left[0].outer, `frame ${h.arrived!.index}'s tunnel packet`);
  }
  // Every kind the lab uses is there, each to the server the table names.
  const kinds = new Set(pairs.map((p) => {
    const t = decodeTunnel(p.after, DIRECTOR)!;
    return `${t.type} ${t.checksum} ${t.outer.dst}`;
  }));
  assert.deepEqual(
    kinds,
    new Set([
      "ipip none 172.16.2.2",
      "gue ok 172.16.3.2",
      "gre ok 172.16.2.2",
      "gre none 172.16.3.2",
    ]),
  );
  // Nothing on dirnet is left over; the replies come alone from the servers' own ports.
  assert.ok(
    alone.every(([p, s]) => SERVER_PORTS.includes(s) && p.src === VIP),
    "only replies alone",
  );
  const replies = [...servers.values()].flat().filter((p) => p.src === VIP).length;
  assert.equal(alone.length, replies);
});

test("TUN pair view: the outer header is new, the inner packet is the client's", async () => {
  const { pairs } = await pairLive();
  const links = readHostLinks(DIR)!;
  const hostOf = (a: string) => links.find((l) => l.address === a)?.host ?? a;
  for (const p of pairs) {
    const t = decodeTunnel(p.after, DIRECTOR)!;
    const before = packetFields(p.before);
    const after = tunnelPacketView("dirnet", t).fields;
    const outer = outerFieldKeys(after);
    // The outer header: addresses director → server, and all of it is marked new.
    const value = (k: string) => after.find((f) => fieldKey(f) === k)?.value;
    assert.equal(value("Outer IP source"), DIRECTOR);
    assert.equal(value("Outer IP destination"), t.outer.dst);
    assert.ok(outer.every((k) => !before.some((f) => fieldKey(f) === k)), "outer keys are new");
    assert.deepEqual(
      new Set(outer),
      new Set(after.filter((f) => OUTER_LAYERS.has(f.layer)).map(fieldKey)),
    );
    // Inside: the client's packet, field for field, but the TTL one less.
    const inner = changedFields(before, after).filter((k) => !k.startsWith("Ethernet "));
    assert.deepEqual(inner, ["IP TTL", "IP header checksum"].filter((k) => inner.includes(k)));
    assert.equal(t.inner!.ttl, p.before.ttl - 1);
    assert.deepEqual(t.inner!.payload, p.before.payload);
    const target = tunnelTarget(p.before, t, hostOf);
    assert.match(
      target.how!,
      /^tunnel: (IPIP|GUE udp\/6080 csum|GRE( csum)?) to 172\.16\.[23]\.2 \(rs[12]\), inner packet unchanged but for its TTL/,
    );
    assert.equal(target.host, t.outer.dst === "172.16.2.2" ? "rs1" : "rs2");
  }
});
