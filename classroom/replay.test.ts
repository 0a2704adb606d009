// `lvslab classroom --replay` without a lab, on two real runs kept in classroom/recordings/
// (scenario.yaml in each says how they were made): a NAT run with HTTP, FTP in passive and
// active mode and a refused port, and a DR run. Checked against tshark reading the same
// pcaps: every VIP packet the client's side saw is in an event, the FTP helper's 227 rewrite
// and the seq/ack shifts after it are paired and explained with the numbers tshark reads,
// the events are in capture order, the export holds the ring's packets, the live controls
// refuse in a sentence, and a folder that is not a recording is refused naming what is missing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { findRecording, RecordingSession } from "./replay.ts";
import { readPcap } from "../lab/analysis/read-pcap.ts";
import { type LivePair, LivePairer } from "./live-pairs.ts";
import type { ClassroomEvent } from "./event-types.ts";

const HERE = path.dirname(new URL(import.meta.url).pathname);
const NAT = path.join(HERE, "recordings", "nat-ftp");
const DR = path.join(HERE, "recordings", "dr");
const TUN = path.join(HERE, "recordings", "tun");
const VIP = "203.0.113.5";

function tshark(file: string, filter: string, fields: string[]): string[][] {
  const r = spawnSync(
    "tshark",
    ["-r", file, "-Y", filter, "-T", "fields", ...fields.flatMap((f) => ["-e", f])],
    { encoding: "utf8" },
  );
  assert.equal(r.status, 0, `tshark failed: ${r.stderr}`);
  return r.stdout.trim().split("\n").filter(Boolean).map((l) => l.split("\t"));
}

function load(dir: string): { session: RecordingSession; events: ClassroomEvent[] } {
  const session = new RecordingSession(findRecording(dir));
  session.load();
  return { session, events: session.ring.items().map((x) => x.event) };
}

function field(e: ClassroomEvent, side: "before" | "after", key: string): string | undefined {
  return e[side]?.fields.find((f) => `${f.layer} ${f.name}` === key)?.value;
}

test("a NAT run's recording: every VIP packet of the client's side in an event, in order", () => {
  const { session, events } = load(NAT);
  assert.equal(session.rec.topologyName, "nat");
  assert.deepEqual([...session.rec.pcaps.keys()].sort(), ["private", "public"]);
  // Numbered 1.. in capture-time order.
  events.forEach((e, i) => assert.equal(e.seq, i + 1));
  for (let i = 1; i < events.length; i++) assert.ok(events[i].time >= events[i - 1].time);
  // tshark's count of VIP packets on the public segment: each is in exactly one event.
  const vipPackets = tshark(path.join(NAT, "public.pcap"), `ip.addr==${VIP}`, ["frame.number"]);
  const seen = events.flatMap((e) =>
    [e.before, e.after, e.packet].filter((p) => p?.segment === "public").map((p) => p!.frame)
  );
  assert.deepEqual(
    [...seen].sort((a, b) => a - b),
    vipPackets.map((r) => Number(r[0])),
  );
  // The only packets without a twin: the SYN to the refused port 8080 and the director's RST.
  const alone = events.filter((e) => e.kind === "packet");
  assert.deepEqual(alone.map((e) => e.packet!.summary), ["TCP S", "TCP R."]);
  assert.match(alone[1].text, /RST from the director: no service on port 8080/);
  // The service table is the scenario's.
  assert.deepEqual(
    session.tables!.services.map((s) => `${s.address} ${s.scheduler}`),
    [`${VIP}:80 wrr`, `${VIP}:21 wlc`],
  );
  assert.match(events[0].text, /^new connection: wrr picked 172\.16\.0\.\d:\d+ \(weight [12]\)/);
});

test("the FTP helper's 227 rewrite is paired across the director and explained", () => {
  const { events } = load(NAT);
  const [priv] = tshark(path.join(NAT, "private.pcap"), "ftp.response.code==227", [
    "ip.id",
    "tcp.seq_raw",
    "tcp.len",
    "ftp.response.arg",
  ]);
  const [pub] = tshark(path.join(NAT, "public.pcap"), "ftp.response.code==227", [
    "ip.id",
    "tcp.seq_raw",
    "tcp.len",
    "ftp.response.arg",
  ]);
  assert.equal(priv[0], pub[0], "NAT keeps the IP id");
  const grew = Number(pub[2]) - Number(priv[2]);
  assert.equal(grew, "203,0,113,5".length - "172,16,0,3".length);
  const e = events.find((e) =>
    e.kind === "pair" && /^227 /.test(field(e, "before", "Payload first line") ?? "")
  );
  assert.ok(e, "the 227 reply is in a pair");
  assert.equal(e.direction, "to-client");
  assert.equal(field(e, "before", "Payload first line"), `227 ${priv[3]}`);
  assert.equal(field(e, "after", "Payload first line"), `227 ${pub[3]}`);
  assert.equal(field(e, "after", "Payload length"), `${pub[2]} bytes`);
  for (const k of ["Payload first line", "Payload length", "IP total length", "IP source"]) {
    assert.ok(e.changed!.includes(k), `${k} is highlighted`);
  }
  assert.match(
    e.text,
    new RegExp(`^FTP helper: 227 reply rewritten to the VIP, payload ${grew} byte longer`),
  );
  assert.ok(e.text.includes(`"227 ${priv[3]}" → "227 ${pub[3]}"`));
  // Later packets of that connection: the server's seq +1 towards the client, the client's
  // ack -1 towards the server, as tshark reads the raw numbers on the two sides.
  const later = events.filter((x) =>
    x.seq > e.seq && x.kind === "pair" && x.connection === e.connection
  );
  assert.ok(later.length >= 6, `${later.length} later packets of the control connection`);
  const numbers = new Map(
    ["public", "private"].flatMap((s) =>
      tshark(path.join(NAT, `${s}.pcap`), "tcp", ["frame.number", "tcp.seq_raw", "tcp.ack_raw"])
        .map((r) => [`${s} ${r[0]}`, { seq: Number(r[1]), ack: Number(r[2]) }] as const)
    ),
  );
  for (const x of later) {
    const [b, a] = [x.before!, x.after!];
    const raw = (p: typeof b, what: "seq" | "ack") => numbers.get(`${p.segment} ${p.frame}`)![what];
    if (x.direction === "to-client") {
      assert.equal(raw(a, "seq") - raw(b, "seq"), grew);
      assert.match(x.text, /^FTP helper: sequence number \+1 /);
      assert.ok(x.changed!.includes("TCP sequence"));
    } else {
      assert.equal(raw(a, "ack") - raw(b, "ack"), -grew);
      assert.match(x.text, /^FTP helper: acknowledgment −1 /);
      assert.ok(x.changed!.includes("TCP acknowledgment"));
    }
  }
});

test("FTP pairs are found in either arrival order of the two files", () => {
  const pcaps = ["public", "private"].map((s) => readPcap(path.join(NAT, `${s}.pcap`)));
  return Promise.all(pcaps).then(([pub, priv]) => {
    for (const order of [["public", "private"], ["private", "public"]]) {
      const pairs: LivePair[] = [];
      const alone: unknown[] = [];
      const pairer = new LivePairer(VIP, "public", "private", {
        pair: (p) => pairs.push(p),
        alone: (p) => alone.push(p),
      });
      for (const s of order) {
        for (const p of (s === "public" ? pub : priv).packets) pairer.add(s, p);
      }
      pairer.expire(Infinity);
      const vip = pub.packets.filter((p) => p.src === VIP || p.dst === VIP).length;
      assert.equal(pairs.length + alone.length, vip, order.join(" then "));
      assert.equal(alone.length, 2, order.join(" then "));
    }
  });
});

test("a DR run's recording: frames to the servers' MACs, replies from their own ports", () => {
  const { session, events } = load(DR);
  assert.equal(session.rec.topologyName, "dr");
  const pairs = events.filter((e) => e.kind === "pair");
  const replies = events.filter((e) =>
    e.kind === "packet" && /^reply: rs[12] answers/.test(e.text)
  );
  // tshark: client packets the director sent on (source MAC its own) on the LAN.
  const links = JSON.parse(fs.readFileSync(path.join(DR, "host-links.json"), "utf8")) as {
    host: string;
    network: string;
    mac: string;
  }[];
  const directorMac = links.find((l) => l.host === "director" && l.network === "lan")!.mac;
  const sentOn = tshark(path.join(DR, "lan.pcap"), `eth.src==${directorMac} && ip.dst==${VIP}`, [
    "frame.number",
  ]);
  assert.equal(pairs.length, sentOn.length);
  for (const e of pairs) {
    assert.match(e.text, /frame to rs[12]'s MAC/);
    assert.deepEqual(e.changed!.filter((k) => k.startsWith("IP")), [
      "IP TTL",
      "IP header checksum",
    ]);
  }
  const fromServers = ["rs1-eth0", "rs2-eth0"].flatMap((s) =>
    tshark(path.join(DR, `${s}.pcap`), `ip.src==${VIP}`, ["frame.number"])
  );
  assert.equal(replies.length, fromServers.length);
  assert.ok(replies.length > 0);
});

test("a TUN run's recording: each tunnel packet the director sent, paired with the client's", () => {
  const { session, events } = load(TUN);
  assert.equal(session.rec.topologyName, "tun");
  const pairs = events.filter((e) => e.kind === "pair");
  // tshark: the director's tunnel packets (IPIP, GUE to 6080, GRE) on its own network.
  const tunnels = tshark(
    path.join(TUN, "dirnet.pcap"),
    "ip.src==172.16.1.2 && (ip.proto==4 || udp.dstport==6080 || ip.proto==47)",
    ["frame.number", "ip.dst", "ip.proto"],
  );
  assert.ok(tunnels.length > 0);
  assert.equal(pairs.length, tunnels.length);
  const rs = { "172.16.2.2": "IPIP to 172.16.2.2 (rs1)", "172.16.3.2": "GUE udp/6080 csum to" };
  for (const e of pairs) {
    assert.ok(e.changed!.includes("Outer IP destination"), e.text);
    // Inside, only the TTL and the IP checksum change, as the director forwards the packet.
    assert.deepEqual(e.changed!.filter((k) => k.startsWith("IP ")), [
      "IP TTL",
      "IP header checksum",
    ]);
  }
  for (const [dst, text] of Object.entries(rs)) {
    const sent = tunnels.filter((t) => t[1].split(",")[0] === dst).length;
    assert.ok(sent > 0, `no tunnel packet to ${dst} in the recording`);
    assert.equal(pairs.filter((e) => e.text.includes(text)).length, sent, dst);
  }
});

test("a recording's export holds the ring's packets; the live controls refuse", async () => {
  const { session, events } = load(NAT);
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "lvslab-replay-")), "x.pcap");
  fs.writeFileSync(file, session.exportPcap());
  const wanted = events.reduce((n, e) => n + (e.kind === "pair" ? 2 : e.packet ? 1 : 0), 0);
  assert.equal(tshark(file, "ip", ["frame.number"]).length, wanted);
  for (
    const act of [
      () => session.send(1),
      () => session.fail("rs2"),
      () => session.setWeight(`${VIP}:80`, "172.16.0.2:80", 3),
    ]
  ) {
    await assert.rejects(act, /this page shows a recording \(.*nat-ftp\): there is no lab/i);
  }
  assert.equal(session.ring.length, events.length, "a refused control adds no event");
  assert.match(session.recording!, /^Recording of scenario natsmall \(passed\): \d+ packets/);
});

test("a folder that is not a recording is refused, naming it and what is missing", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lvslab-replay-"));
  assert.throws(() => findRecording(path.join(dir, "nope")), /nope is not a folder/);
  fs.writeFileSync(path.join(dir, "report.json"), "{}");
  assert.throws(
    () => findRecording(dir),
    (err: Error) =>
      err.message.startsWith(`${dir} holds no pcaps`) && /not a scenario's/.test(err.message),
  );
  for (const f of ["public.pcap", "host-links.json"]) {
    fs.copyFileSync(path.join(NAT, f), path.join(dir, f));
  }
  assert.throws(
    () => findRecording(dir),
    (err: Error) =>
      err.message.includes(`${dir} has public.pcap, which is no lab's set of captures`) &&
      err.message.includes("nat: public.pcap, private.pcap") &&
      /a pcap is missing/.test(err.message),
  );
  fs.rmSync(path.join(dir, "host-links.json"));
  fs.copyFileSync(path.join(NAT, "private.pcap"), path.join(dir, "private.pcap"));
  assert.throws(() => findRecording(dir), /but no host-links\.json/);
  // A run's folder of one scenario is that scenario's.
  const run = fs.mkdtempSync(path.join(os.tmpdir(), "lvslab-replay-run-"));
  fs.cpSync(NAT, path.join(run, "natsmall"), { recursive: true });
  fs.writeFileSync(
    path.join(run, "report.json"),
    JSON.stringify({ scenarios: [{ name: "natsmall", artifacts: "/elsewhere/natsmall" }] }),
  );
  assert.equal(findRecording(run).dir, path.join(run, "natsmall"));
});
