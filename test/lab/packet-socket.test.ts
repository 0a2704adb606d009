// director/net/packet-socket.ts on a real veth between two namespaces: a batch of small
// frames (sendmmsg, then one sendto) all reach the peer with good checksums, and one
// 14.5 KB TCP super-packet with a vnet header (GSO_TCPV4, NEEDS_CSUM) crosses as a single
// skb that the peer's TCP accepts (it answers the closed port with a RST) without checksum
// errors, as measured in research/wave2-forwarding.md §4.1. Delivered whole, the peer trusts
// a partial checksum unchecked; so the last test turns TSO and checksum offload off on the
// veth, making the kernel cut the frame into MSS segments and finish each checksum in
// software, and the peer (rx checksumming off) verify every one.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { labTestBlocker, requireRoot } from "../../lab/testing/require-root.ts";
import { REPO_ROOT } from "../../lab/paths.ts";
import { createVethPair, type VethPair } from "./support/veth-pair.ts";

const canRun = labTestBlocker() === null;
let pair: VethPair;

before(() => {
  if (!canRun) return;
  pair = createVethPair("lvsdrnps", 8);
  // The peer answers (ICMP, RST) without asking for A's MAC: its counters see only our frames.
  pair.exec(pair.b, [
    "ip",
    "neigh",
    "replace",
    pair.addrA,
    "lladdr",
    pair.macA,
    "dev",
    pair.devB,
    "nud",
    "permanent",
  ]);
});

after(() => {
  if (canRun) pair.remove();
});

/** Runs the sender in A and returns what it printed. */
function send(args: Record<string, unknown>): Record<string, unknown> & {
  stats: { framesSent: number; sendErrors: number; calls: number };
} {
  const out = pair.exec(pair.a, [
    process.execPath,
    "--import",
    "tsx",
    path.join(REPO_ROOT, "test", "lab", "support", "packet-socket-sender.ts"),
    JSON.stringify({
      ifname: pair.devA,
      dstMac: pair.macB,
      src: pair.addrA,
      dst: pair.addrB,
      ...args,
    }),
  ]);
  return JSON.parse(out);
}

interface Counters {
  rxPackets: number;
  rxBytes: number;
  snmp: Record<string, number>;
}

/** B's veth counters and its /proc/net/snmp as "Proto.Field" numbers. */
function peerCounters(): Counters {
  const stat = (f: string) =>
    Number(pair.exec(pair.b, ["cat", `/sys/class/net/${pair.devB}/statistics/${f}`]));
  const snmp: Record<string, number> = {};
  const lines = pair.exec(pair.b, ["cat", "/proc/net/snmp"]).trim().split("\n");
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const names = lines[i]!.split(/\s+/);
    const values = lines[i + 1]!.split(/\s+/);
    const proto = names[0]!.replace(":", "");
    for (let k = 1; k < names.length; k++) snmp[`${proto}.${names[k]}`] = Number(values[k]);
  }
  return { rxPackets: stat("rx_packets"), rxBytes: stat("rx_bytes"), snmp };
}

function delta(before: Counters, after: Counters, key: string): number {
  return after.snmp[key]! - before.snmp[key]!;
}

test("a batch of 100 small frames, sent with sendmmsg and one sendto, all arrive", (t) => {
  if (!requireRoot(t)) return;
  const before = peerCounters();
  const r = send({ mode: "udp-batch", count: 100, batch: 32 });
  const after = peerCounters();
  assert.equal(r.flushed, 99);
  assert.equal(r.single, 84); // 10-byte vnet header + 74-byte frame
  assert.equal(r.stats.framesSent, 100);
  assert.equal(r.stats.sendErrors, 0);
  assert.equal(r.stats.calls, 5); // 32 + 32 + 32 + 3, then the single send
  assert.equal(after.rxPackets - before.rxPackets, 100);
  assert.equal(after.rxBytes - before.rxBytes, 100 * 74);
  // Port 9 is closed: each datagram passed its checksum check before being counted NoPorts.
  assert.equal(delta(before, after, "Udp.NoPorts"), 100);
  assert.equal(delta(before, after, "Udp.InCsumErrors"), 0);
});

test("frames the kernel refuses are counted with their errno and skipped, not thrown", (t) => {
  if (!requireRoot(t)) return;
  const before = peerCounters();
  const r = send({ mode: "refused", batch: 4 }) as ReturnType<typeof send> & {
    stats: { lastErrno: number };
  };
  const after = peerCounters();
  assert.equal(r.flushed, 2);
  assert.equal(r.single, -22); // -EINVAL
  assert.equal(r.stats.sendErrors, 3);
  assert.equal(r.stats.lastErrno, 22);
  assert.equal(after.rxPackets - before.rxPackets, 2);
});

test("the send path allocates nothing per frame (320,000 frames in full batches)", (t) => {
  if (!requireRoot(t)) return;
  const r = send({ mode: "steady", count: 10_000, batch: 32 }) as ReturnType<typeof send> & {
    growth: number;
    collections: number;
    framesPerSecond: number;
  };
  t.diagnostic(`${r.framesPerSecond} frames/s, heap +${r.growth} B, ${r.collections} GCs`);
  assert.equal(r.flushed, 320_000);
  assert.equal(r.stats.sendErrors, 0);
  // One heap object per frame would be 10 MB and several scavenges.
  assert.ok(r.growth < 2 * 1024 * 1024, `heap grew ${r.growth} bytes`);
  assert.ok(r.collections <= 4, `${r.collections} garbage collections`);
});

test("one TCP GSO super-packet crosses as one skb and the peer's TCP accepts it", (t) => {
  if (!requireRoot(t)) return;
  const before = peerCounters();
  const r = send({ mode: "tcp-gso", payload: 14480, mss: 1448 });
  const after = peerCounters();
  assert.equal(r.flushed, 1);
  assert.equal(r.frameBytes, 14534);
  assert.equal(after.rxPackets - before.rxPackets, 1);
  assert.equal(after.rxBytes - before.rxBytes, 14534);
  assert.equal(delta(before, after, "Tcp.InSegs"), 1);
  assert.equal(delta(before, after, "Tcp.InCsumErrors"), 0);
  assert.equal(delta(before, after, "Tcp.InErrs"), 0);
  assert.equal(delta(before, after, "Tcp.OutRsts"), 1);
});

test("cut in software, the super-packet's ten segments all pass the peer's TCP checksum", (t) => {
  if (!requireRoot(t)) return;
  pair.exec(pair.a, ["ethtool", "-K", pair.devA, "tso", "off", "tx", "off"]);
  pair.exec(pair.b, ["ethtool", "-K", pair.devB, "rx", "off"]);
  try {
    const before = peerCounters();
    send({ mode: "tcp-gso", payload: 14480, mss: 1448 });
    const after = peerCounters();
    assert.equal(delta(before, after, "Tcp.InSegs"), 10);
    assert.equal(delta(before, after, "Tcp.InCsumErrors"), 0);
    assert.equal(delta(before, after, "Tcp.OutRsts"), 10);
    // The same frame with a wrong partial sum: every segment fails the check (so the
    // check above is a real one).
    send({ mode: "tcp-gso", payload: 14480, mss: 1448, corrupt: true });
    const bad = peerCounters();
    assert.equal(delta(after, bad, "Tcp.InCsumErrors"), 10);
    assert.equal(delta(after, bad, "Tcp.OutRsts"), 0);
  } finally {
    pair.exec(pair.a, ["ethtool", "-K", pair.devA, "tso", "on", "tx", "on"]);
    pair.exec(pair.b, ["ethtool", "-K", pair.devB, "rx", "on"]);
  }
});
