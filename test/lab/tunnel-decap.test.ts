// realservers/tunnel-decap.ts on a real kernel without ipip/fou/ip_gre: namespace A plays
// the director (and holds the client's address 198.51.100.2 on lo, so answers come back to
// it), B the real server set up by the LVS-TUN recipe (VIP 203.0.113.5/32 on lo,
// arp_ignore=1, arp_announce=2, all.rp_filter=1 left as a distribution might have it, a TCP
// listener on VIP:80, route to the clients via A). A sends tunnel packets through a raw
// socket (support/tunnel-sender.py) built by realservers/tunnel-decap/test-packets.ts and
// records the ICMP and TCP packets that come back.
//
// Without the decapsulator B answers IPIP with ICMP protocol unreachable (the recipe's
// failure here) and GUE with port unreachable. With it, for IPIP, GUE and GRE: an inner ping
// is answered from the VIP, an inner SYN gets a SYN-ACK from VIP:80, no unreachable comes
// back; a packet from a non-director, to the wrong GUE port, for an address B does not hold,
// truncated, or with a bad tunnel checksum is counted in the stats file and never answered;
// the counters also come on SIGUSR1; a whole TCP connection (200 kB up, the answer back from
// the VIP) runs through support/tiny-director.py, a stand-in director that encapsulates
// what A's client sends; an address added to B later is accepted within a second; SIGTERM
// removes the TUN device and restores rp_filter.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { labTestBlocker, requireRoot } from "../../lab/testing/require-root.ts";
import { REPO_ROOT } from "../../lab/paths.ts";
import { READY_LINES } from "../../director/ready-lines.ts";
import { createVethPair, type VethPair } from "./support/veth-pair.ts";
import {
  gre,
  gue,
  hex,
  icmpEcho,
  ipip,
  tcpSyn,
} from "../../realservers/tunnel-decap/test-packets.ts";
import type { TunnelType } from "../../realservers/tunnel-decap/outer-packet.ts";
import type { DecapStats } from "../../realservers/tunnel-decap/stats.ts";

const canRun = labTestBlocker() === null;
const CLIENT = "198.51.100.2";
const VIP = "203.0.113.5";
/** A VIP added while the decapsulator runs. */
const LATE_VIP = "203.0.113.7";
const STRANGER = "172.16.15.9";
let pair: VethPair;
let listener: ChildProcess | null = null;
let tmp: string;

interface Seen {
  proto: number;
  src: string;
  dst: string;
  type?: number;
  code?: number;
  id?: number;
  sport?: number;
  dport?: number;
  flags?: number;
}

/** Spawns argv in namespace ns; resolves once a stdout line starts with `ready`. */
function spawnReady(ns: string, argv: string[], ready: string): Promise<ChildProcess> {
  const child = spawn("ip", ["netns", "exec", ns, ...argv], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no '${ready}' in 60 s: ${output}`)), 60_000);
    const onData = (d: Buffer) => {
      output += d;
      if (output.split("\n").some((l) => l.startsWith(ready))) {
        clearTimeout(timer);
        resolve(child);
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", (d: Buffer) => (output += d));
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${argv.join(" ")} exited (${code}): ${output}`));
    });
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.removeAllListeners("exit");
    child.on("exit", () => resolve());
    child.kill("SIGTERM");
  });
}

before(async () => {
  if (!canRun) return;
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "lvsdcp-"));
  pair = createVethPair("lvsdcp", 15);
  const b = (argv: string[]) => pair.exec(pair.b, argv);
  b(["ip", "addr", "add", `${VIP}/32`, "dev", "lo"]);
  b(["ip", "route", "add", "198.51.100.0/24", "via", pair.addrA]);
  b(["sysctl", "-qw", "net.ipv4.conf.all.arp_ignore=1", "net.ipv4.conf.all.arp_announce=2"]);
  b(["sysctl", "-qw", "net.ipv4.conf.all.rp_filter=1"]);
  pair.exec(pair.a, ["ip", "addr", "add", `${CLIENT}/32`, "dev", "lo"]);
  // A TCP server on VIP:80 that reads each connection to its end and answers "got <bytes>".
  const script = [
    "import socket",
    "s=socket.socket()",
    `s.bind(('${VIP}',80))`,
    "s.listen(16)",
    "s.settimeout(900)",
    "print('listening',flush=True)",
    "while True:",
    " c,_=s.accept()",
    " c.settimeout(30)",
    " n=0",
    " while True:",
    "  d=c.recv(65536)",
    "  if not d: break",
    "  n+=len(d)",
    " c.sendall(b'got %d' % n)",
    " c.close()",
  ].join("\n");
  listener = await spawnReady(pair.b, ["python3", "-c", script], "listening");
});

after(async () => {
  if (!canRun) return;
  if (listener) await stopChild(listener);
  pair.remove();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** Sends the packets from A, then returns what A received within `listenS` seconds. */
function exchange(packets: Uint8Array[], listenS = 1.5): Seen[] {
  const job = JSON.stringify({ packets: packets.map(hex), listen: listenS });
  const sender = path.join(REPO_ROOT, "test", "lab", "support", "tunnel-sender.py");
  return JSON.parse(pair.exec(pair.a, ["python3", sender, job])) as Seen[];
}

const unreachable = (seen: Seen[], code: number) =>
  seen.filter((s) => s.proto === 1 && s.type === 3 && s.code === code && s.src === pair.addrB);

/** The inner packets of one type's run: echo ids and SYN ports tell good from bad. */
function encapsulate(type: TunnelType, inner: Uint8Array, src = pair.addrA): Uint8Array {
  if (type === "ipip") return ipip(src, pair.addrB, inner);
  if (type === "gue") return gue(src, pair.addrB, inner, { udpChecksum: true });
  return gre(src, pair.addrB, inner, { checksum: true });
}

/** A copy of pkt with its outer header checksum broken beyond repair: a bad tunnel checksum. */
function badTunnelChecksum(type: TunnelType, pkt: Uint8Array): Uint8Array {
  const copy = pkt.slice();
  copy[type === "gue" ? 27 : 25] ^= 0xff;
  return copy;
}

function rpFilters(): string {
  return pair.exec(pair.b, ["sh", "-c", "grep . /proc/sys/net/ipv4/conf/*/rp_filter"]);
}

test("without the decapsulator, IPIP is answered protocol unreachable, GUE port unreachable", (t) => {
  if (!requireRoot(t)) return;
  const echo = icmpEcho(CLIENT, VIP, 1, 1);
  const seen = exchange([ipip(pair.addrA, pair.addrB, echo)]);
  assert.equal(unreachable(seen, 2).length, 1, JSON.stringify(seen));
  assert.ok(!seen.some((s) => s.type === 0), "no echo reply");
  const seenGue = exchange([gue(pair.addrA, pair.addrB, echo)]);
  assert.equal(unreachable(seenGue, 3).length, 1, JSON.stringify(seenGue));
});

/** Reads the stats file until `received` reaches `count` (it is rewritten every second). */
async function statsAfter(file: string, count: number): Promise<DecapStats> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const stats = JSON.parse(fs.readFileSync(file, "utf8")) as DecapStats;
    if (stats.received >= count || Date.now() > deadline) return stats;
    await new Promise((r) => setTimeout(r, 250));
  }
}

const DECAP = path.join(REPO_ROOT, "realservers", "tunnel-decap.ts");

/** lvslab-decap in B, A as its director; resolves once it prints its ready line. */
function startDecap(types: string[], statsFile: string): Promise<ChildProcess> {
  return spawnReady(pair.b, [
    process.execPath,
    "--import",
    "tsx",
    DECAP,
    "--director",
    pair.addrA,
    ...types,
    "--stats-file",
    statsFile,
  ], READY_LINES.decapsulator);
}

describe("with the decapsulator", () => {
  for (const [n, type] of (["ipip", "gue", "gre"] as TunnelType[]).entries()) {
    test(`${type}: answered from the VIP; bad input counted and unanswered; undone on SIGTERM`, async (t) => {
      if (!requireRoot(t)) return;
      const before = rpFilters();
      const statsFile = path.join(tmp, `${type}.json`);
      const decap = await startDecap(["--type", type], statsFile);
      try {
        await checkOneType(type, 100 * (n + 1), statsFile);
        const printed = await onSigusr1(decap);
        assert.equal(printed.verdicts.injected, 2);
        assert.equal(printed.type, type);
        await connectThroughTinyDirector(type);
      } finally {
        await stopChild(decap);
      }
      assert.equal(pair.exec(pair.b, ["ip", "-o", "link", "show"]).includes("lvsdecap0"), false);
      assert.equal(rpFilters(), before, "rp_filter values restored");
    });
  }
});

describe("one decapsulator for several types", () => {
  test("--type ipip,gre --type gue: each type decapsulated, GRE with and without checksum; keyed and sequenced GRE counted apart per type", async (t) => {
    if (!requireRoot(t)) return;
    const before = rpFilters();
    const statsFile = path.join(tmp, "multi.json");
    const decap = await startDecap(["--type", "ipip,gre", "--type", "gue"], statsFile);
    try {
      const echo = (id: number) => icmpEcho(CLIENT, VIP, id, 1);
      const a = pair.addrA;
      const b = pair.addrB;
      const good = [
        ipip(a, b, echo(501)),
        gue(a, b, echo(502), { udpChecksum: true }),
        gre(a, b, echo(503), { checksum: true }),
        gre(a, b, echo(504)),
        gre(a, b, tcpSyn(CLIENT, VIP, 40504, 80)),
      ];
      const bad = [
        gre(a, b, echo(511), { key: 42 }),
        gre(a, b, echo(512), { seq: 7 }),
        gre(a, b, echo(513), { checksum: true, key: 1 }),
        badTunnelChecksum("gre", gre(a, b, echo(514), { checksum: true })),
        gue(a, b, echo(515), { port: 6081 }),
        ipip(STRANGER, b, echo(516)),
      ];
      const seen = exchange([...good, ...bad]);
      const echoes = seen.filter((s) => s.proto === 1 && s.type === 0).map((s) => s.id).sort();
      assert.deepEqual(echoes, [501, 502, 503, 504], JSON.stringify(seen));
      assert.ok(
        seen.some((s) => s.proto === 6 && s.src === VIP && s.dport === 40504 && s.flags === 0x12),
        `a SYN-ACK for the GRE SYN: ${JSON.stringify(seen)}`,
      );
      assert.deepEqual(unreachable(seen, 2), [], "no protocol unreachable");
      const stats = await statsAfter(statsFile, good.length + bad.length);
      const nonZero = (v: Record<string, number>) =>
        Object.fromEntries(Object.entries(v).filter(([, n]) => n > 0));
      assert.deepEqual(stats.types, ["ipip", "gre", "gue"]);
      assert.equal(stats.guePort, 6080);
      assert.deepEqual(nonZero(stats.byType.ipip!.verdicts), { injected: 1, "not-director": 1 });
      assert.deepEqual(nonZero(stats.byType.gre!.verdicts), {
        injected: 3,
        "gre-bad-flags": 3,
        "bad-gre-checksum": 1,
      });
      assert.deepEqual(nonZero(stats.byType.gue!.verdicts), {
        injected: 1,
        "gue-wrong-port": 1,
      });
      assert.equal(stats.byType.gre!.received, 7);
      assert.equal(stats.received, good.length + bad.length);
      assert.deepEqual(nonZero(stats.verdicts), {
        injected: 5,
        "not-director": 1,
        "gre-bad-flags": 3,
        "bad-gre-checksum": 1,
        "gue-wrong-port": 1,
      });
      assert.equal(stats.socketDrops, 0);
      const printed = await onSigusr1(decap);
      assert.equal(printed.type, "ipip,gre,gue");
      assert.equal(printed.byType.gre!.verdicts.injected, 3);
      // An address added now is accepted within a second: `ip monitor` reports it (the
      // periodic re-read is 30 s away).
      pair.exec(pair.b, ["ip", "addr", "add", `${LATE_VIP}/32`, "dev", "lo"]);
      await new Promise((r) => setTimeout(r, 1000));
      const later = await onSigusr1(decap);
      assert.ok(later.innerDestinations.includes(LATE_VIP), later.innerDestinations.join(" "));
      pair.exec(pair.b, ["ip", "addr", "del", `${LATE_VIP}/32`, "dev", "lo"]);
    } finally {
      await stopChild(decap);
    }
    assert.equal(pair.exec(pair.b, ["ip", "-o", "link", "show"]).includes("lvsdecap0"), false);
    assert.equal(rpFilters(), before, "rp_filter values restored");
  });

  test("a wrong --type is refused with a sentence", () => {
    const r = spawnSync(process.execPath, [
      "--import",
      "tsx",
      DECAP,
      "--director",
      "172.16.1.2",
      "--type",
      "ipip,vxlan",
    ], { encoding: "utf8", cwd: REPO_ROOT });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /'vxlan' is not a tunnel type; give ipip, gue, gre/);
  });
});

/** Sends SIGUSR1; resolves with the JSON line the decapsulator prints. */
function onSigusr1(child: ChildProcess): Promise<DecapStats> {
  return new Promise((resolve, reject) => {
    let text = "";
    const timer = setTimeout(
      () => reject(new Error(`no stats line after SIGUSR1: ${text}`)),
      10_000,
    );
    child.stdout!.on("data", (d: Buffer) => {
      text += d;
      const line = text.split("\n").find((l) => l.startsWith("{") && l.endsWith("}"));
      if (line) {
        clearTimeout(timer);
        resolve(JSON.parse(line) as DecapStats);
      }
    });
    child.kill("SIGUSR1");
  });
}

async function checkOneType(type: TunnelType, id: number, statsFile: string): Promise<void> {
  const good = [
    encapsulate(type, icmpEcho(CLIENT, VIP, id, 1)),
    encapsulate(type, tcpSyn(CLIENT, VIP, 40000 + id, 80)),
  ];
  const full = encapsulate(type, icmpEcho(CLIENT, VIP, id + 9, 1));
  const bad: [string, Uint8Array][] = [
    ["not-director", encapsulate(type, icmpEcho(CLIENT, VIP, id + 1, 1), STRANGER)],
    ["inner-dst-not-local", encapsulate(type, icmpEcho(CLIENT, "203.0.113.6", id + 2, 1))],
    // The inner packet cut after 30 of its 44 bytes, the tunnel's own lengths consistent.
    ["truncated-inner", encapsulate(type, icmpEcho(CLIENT, VIP, id + 4, 1).slice(0, 30))],
  ];
  if (type === "gue") {
    const wrong = gue(pair.addrA, pair.addrB, icmpEcho(CLIENT, VIP, id + 3, 1), { port: 6081 });
    bad.push(["gue-wrong-port", wrong], ["bad-udp-checksum", badTunnelChecksum(type, full)]);
    // Cut on the wire: the UDP length now says more than arrived.
    bad.push(["truncated-outer", full.slice(0, full.length - 30)]);
  }
  if (type === "gre") bad.push(["bad-gre-checksum", badTunnelChecksum(type, full)]);
  const seen = exchange([...good, ...bad.map(([, p]) => p)]);
  const echoes = seen.filter((s) => s.proto === 1 && s.type === 0);
  assert.deepEqual(echoes.map((s) => [s.src, s.dst, s.id]), [[VIP, CLIENT, id]]);
  const synAck = seen.filter((s) => s.proto === 6 && s.src === VIP && s.sport === 80);
  assert.ok(synAck.length >= 1, `a SYN-ACK from VIP:80: ${JSON.stringify(seen)}`);
  assert.equal(synAck[0]!.flags, 0x12);
  assert.equal(synAck[0]!.dport, 40000 + id);
  assert.deepEqual(unreachable(seen, 2), [], "no protocol unreachable");
  if (type === "gue") {
    // Only the packet to port 6081 (nobody there) may draw a port unreachable.
    assert.ok(unreachable(seen, 3).length <= 1, JSON.stringify(seen));
  }
  const expected: Record<string, number> = { injected: 2 };
  for (const [reason] of bad) expected[reason] = 1;
  const stats = await statsAfter(statsFile, good.length + bad.length);
  const nonZero = Object.fromEntries(Object.entries(stats.verdicts).filter(([, v]) => v > 0));
  assert.deepEqual(nonZero, expected, JSON.stringify(stats));
  assert.equal(stats.received, good.length + bad.length);
  assert.equal(stats.socketDrops, 0);
  assert.deepEqual(stats.innerDestinations, [pair.addrB, VIP]);
}

/**
 * A whole TCP connection through the tunnel: A's client (198.51.100.2) connects to VIP:80,
 * routed into support/tiny-director.py's TUN device, which encapsulates each packet to B;
 * B's answers go straight back from the VIP. 200 kB go up through the decapsulator.
 */
async function connectThroughTinyDirector(type: TunnelType): Promise<void> {
  const dev = "lvsdcpd0";
  const director = await spawnReady(pair.a, [
    "python3",
    path.join(REPO_ROOT, "test", "lab", "support", "tiny-director.py"),
    dev,
    pair.addrA,
    pair.addrB,
    type,
    "60",
  ], "tiny-director ready");
  try {
    // The MTU an ipip device would have on a 1500-byte link; GUE and GRE need 12 and 4 more.
    pair.exec(pair.a, ["ip", "link", "set", dev, "up", "mtu", "1400"]);
    pair.exec(pair.a, ["ip", "route", "replace", `${VIP}/32`, "dev", dev]);
    const client = [
      "import socket",
      "c=socket.socket()",
      "c.settimeout(20)",
      `c.bind(('${CLIENT}',0))`,
      `c.connect(('${VIP}',80))`,
      "c.sendall(b'x'*200000)",
      "c.shutdown(socket.SHUT_WR)",
      // The socket is connected to the VIP: its answer came from there.
      "print(c.recv(100).decode())",
    ].join("\n");
    const answer = pair.exec(pair.a, ["python3", "-c", client]).trim();
    assert.equal(answer, "got 200000");
  } finally {
    await stopChild(director);
  }
}
