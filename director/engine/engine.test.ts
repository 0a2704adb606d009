// The engine on crafted packets, without a TUN device: scheduling, NAT rewriting in both
// directions with checksums that verify, refusals, state and expiry on a fake clock.
import { test } from "node:test";
import assert from "node:assert/strict";
import { DirectorEngine } from "./engine.ts";
import { PacketView } from "../packet/packet.ts";
import { foldSum, sumBytes } from "../packet/checksum.ts";
import { buildPacket, put16, Rng } from "../packet/test-support.ts";
import { parseIPv4 } from "../net/ipv4-address.ts";
import { TCP_S_ESTABLISHED, TCP_S_SYN_RECV } from "../protocols/tcp-state.ts";
import {
  ACK,
  articleEngine,
  CLIENT,
  parsed,
  RS1,
  RS2,
  SYN,
  tcpPacket,
  VIP,
} from "./engine-test-support.ts";

function assertChecksumsVerify(view: PacketView): void {
  assert.equal(view.ip.checksum, view.ip.computeChecksum(), "IP header checksum");
  assert.equal(view.tcp.checksum, view.computeL4Checksum(), "TCP checksum");
}

test("a SYN to the VIP is scheduled, rewritten to the real server, and the reply back to the VIP", () => {
  const rng = new Rng(1);
  const engine = articleEngine();
  const syn = tcpPacket(rng, CLIENT, 3456, VIP, 80, SYN);
  const out = engine.process(syn, syn.length);
  assert.equal(out, syn.length);
  const fwd = parsed(syn, out);
  assert.equal(fwd.ip.src, CLIENT);
  assert.equal(fwd.tcp.srcPort, 3456);
  // IPVS lists the newest real server first, so wrr's first pick is rs2 (weight 2).
  assert.equal(fwd.ip.dst, RS2);
  assert.equal(fwd.tcp.dstPort, 8000);
  assertChecksumsVerify(fwd);

  const synAck = tcpPacket(rng, RS2, 8000, CLIENT, 3456, SYN | ACK, { payloadLen: 33 });
  const back = engine.process(synAck, synAck.length);
  assert.equal(back, synAck.length);
  const rev = parsed(synAck, back);
  assert.equal(rev.ip.src, VIP);
  assert.equal(rev.tcp.srcPort, 80);
  assert.equal(rev.ip.dst, CLIENT);
  assert.equal(rev.tcp.dstPort, 3456);
  assertChecksumsVerify(rev);

  const ack = tcpPacket(rng, CLIENT, 3456, VIP, 80, ACK, { payloadLen: 77 });
  assert.equal(engine.process(ack, ack.length), ack.length);
  assert.equal(parsed(ack, ack.length).ip.dst, RS2, "later packets follow the connection");
  assert.equal(engine.conns.size, 1);
  const slot = engine.conns.findInbound(6, CLIENT, 3456, VIP, 80);
  assert.equal(engine.conns.state[slot], TCP_S_ESTABLISHED);
  const [rs2] = engine.services.entries[0].service.destinations;
  assert.equal(rs2.activeConns, 1);
  assert.equal(rs2.stats.inpkts, 2);
  assert.equal(rs2.stats.outpkts, 1);
});

test("weights 1:2 give a 1:2 split of new connections", () => {
  const rng = new Rng(2);
  const engine = articleEngine();
  const counts = new Map<number, number>();
  for (let port = 10000; port < 10300; port++) {
    const syn = tcpPacket(rng, CLIENT, port, VIP, 80, SYN);
    assert.equal(engine.process(syn, syn.length), syn.length);
    const dst = parsed(syn, syn.length).ip.dst;
    counts.set(dst, (counts.get(dst) ?? 0) + 1);
  }
  assert.equal(counts.get(RS1), 100);
  assert.equal(counts.get(RS2), 200);
});

test("partial checksums (NEEDS_CSUM) are kept as pseudo-header sums of the new addresses", () => {
  const rng = new Rng(3);
  const engine = articleEngine();
  for (let i = 0; i < 200; i++) {
    const syn = tcpPacket(rng, CLIENT, 20000 + i, VIP, 80, SYN, {
      payloadLen: rng.int(1400),
      partial: true,
    });
    assert.equal(engine.process(syn, syn.length), syn.length);
    const view = parsed(syn, syn.length);
    // Finish the sum as the kernel would, then it must equal a full computation.
    const l4 = view.ip.l4Offset;
    const finished = ~foldSum(sumBytes(syn, l4, view.ip.l4Length, 0)) & 0xffff;
    const field = view.tcp.checksum;
    put16(syn, l4 + 16, finished);
    assert.equal(view.tcp.checksum, view.computeL4Checksum(), `packet ${i} (partial ${field})`);
  }
});

test("no service gets a RST, stray segments a RST, replies without a connection are dropped", () => {
  const rng = new Rng(4);
  const engine = articleEngine();
  const wrongPort = tcpPacket(rng, CLIENT, 4000, VIP, 443, SYN);
  const rstLength = engine.process(wrongPort, wrongPort.length);
  assert.ok(rstLength > 0, "answered");
  const rst = parsed(wrongPort, rstLength);
  assert.equal(rst.ip.src, VIP);
  assert.equal(rst.ip.dst, CLIENT);
  assert.equal(rst.tcp.srcPort, 443);
  assert.equal(rst.tcp.dstPort, 4000);
  assert.equal(rst.tcp.flags & 0x04, 0x04, "RST flag");
  assertChecksumsVerify(rst);
  const stray = tcpPacket(rng, CLIENT, 4001, VIP, 80, ACK);
  assert.ok(engine.process(stray, stray.length) > 0, "stray ACK answered with a RST");
  const orphanReply = tcpPacket(rng, RS1, 80, CLIENT, 4002, ACK);
  assert.equal(engine.process(orphanReply, orphanReply.length), 0);
  assert.deepEqual(engine.drops.toJSON(), {
    "no-service": 1,
    "tcp-not-syn": 1,
    "no-connection": 1,
  });
  assert.equal(engine.refusalsSent, 2);
  assert.equal(engine.conns.size, 0);
});

test("a service whose real servers all have weight 0 answers ICMP port unreachable", () => {
  const rng = new Rng(10);
  const engine = new DirectorEngine({ maxConnections: 16, nowMs: 0 });
  engine.services.addService({ protocol: "udp", addr: VIP, port: 53, schedulerName: "wlc" });
  engine.services.addDestination("udp", VIP, 53, {
    addr: RS1,
    port: 53,
    weight: 0,
    method: "masq",
  });
  const query = buildPacket(rng, {
    proto: 17,
    payloadLen: 30,
    src: CLIENT,
    dst: VIP,
    sport: 999,
    dport: 53,
  });
  const n = engine.process(query, query.length);
  assert.ok(n > 0);
  const icmp = parsed(query, n);
  assert.equal(icmp.ip.protocol, 1);
  assert.equal(icmp.icmp.type, 3);
  assert.equal(icmp.icmp.code, 3);
  assert.equal(icmp.ip.src, VIP);
  assert.equal(icmp.ip.dst, CLIENT);
  assert.equal(icmp.icmp.checksum, icmp.computeL4Checksum());
});

test("connections expire after their state's timeout, not before", () => {
  const rng = new Rng(5);
  const engine = articleEngine(0);
  const syn = tcpPacket(rng, CLIENT, 5555, VIP, 80, SYN);
  engine.process(syn, syn.length);
  const slot = engine.conns.findInbound(6, CLIENT, 5555, VIP, 80);
  assert.equal(engine.conns.state[slot], TCP_S_SYN_RECV);
  const dest = engine.conns.dest[slot]!;
  // Since Linux 4.9 IPVS counts the pre-established states as active.
  assert.equal(dest.activeConns, 1);
  assert.equal(dest.inactiveConns, 0);
  assert.equal(engine.wheel.expiresAt(slot), 60_000);
  engine.tick(59_000);
  assert.equal(engine.conns.size, 1, "SYN_RECV lives 60 s");
  engine.tick(60_200);
  assert.equal(engine.conns.size, 0);
  assert.equal(dest.inactiveConns, 0);
  assert.equal(dest.activeConns, 0);
});

test("random and mutated packets never throw and every one is either forwarded or counted", () => {
  const rng = new Rng(6);
  const engine = articleEngine();
  let forwarded = 0;
  const total = 20_000;
  for (let i = 0; i < total; i++) {
    const good = tcpPacket(rng, CLIENT, 30000 + (i % 500), VIP, 80, rng.int(2) ? SYN : ACK, {
      payloadLen: rng.int(64),
    });
    const len = rng.int(3) === 0 ? rng.int(good.length + 1) : good.length;
    for (let m = rng.int(4); m > 0; m--) good[rng.int(good.length)] = rng.int(256);
    if (engine.process(good, len) > 0) forwarded++;
  }
  assert.equal(forwarded + engine.drops.total - engine.refusalsSent, total);
});

test("a SYN flood fills the table only to its limit and established connections keep flowing", () => {
  const rng = new Rng(7);
  const engine = new DirectorEngine({ maxConnections: 64, nowMs: 0 });
  engine.services.addService({ protocol: "tcp", addr: VIP, port: 80, schedulerName: "rr" });
  engine.services.addDestination("tcp", VIP, 80, {
    addr: RS1,
    port: 80,
    weight: 1,
    method: "masq",
  });
  // One real connection, established.
  const syn = tcpPacket(rng, CLIENT, 1111, VIP, 80, SYN);
  engine.process(syn, syn.length);
  const synAck = tcpPacket(rng, RS1, 80, CLIENT, 1111, SYN | ACK);
  engine.process(synAck, synAck.length);
  const ack = tcpPacket(rng, CLIENT, 1111, VIP, 80, ACK);
  engine.process(ack, ack.length);
  // 10,000 spoofed SYNs from many sources, one per millisecond.
  for (let i = 0; i < 10_000; i++) {
    engine.tick(i);
    const spoofed = tcpPacket(
      rng,
      parseIPv4(`198.51.100.${10 + (i % 200)}`)!,
      2000 + i,
      VIP,
      80,
      SYN,
    );
    engine.process(spoofed, spoofed.length);
  }
  assert.equal(engine.conns.size, 64, "table stops at its limit");
  // Entries become reclaimable at 500 ms of age: 64 slots turn over about 128 times a second.
  assert.ok(
    engine.reclaimedHalfOpen > 1000,
    `half-open entries reclaimed (${engine.reclaimedHalfOpen})`,
  );
  const data = tcpPacket(rng, CLIENT, 1111, VIP, 80, ACK, { payloadLen: 100 });
  assert.equal(
    engine.process(data, data.length),
    data.length,
    "established connection still forwarded",
  );
  assert.equal(parsed(data, data.length).ip.dst, RS1);
  // A real client's handshake in the middle of the flood: its SYN takes an old half-open
  // entry's place; its own entry is young, so the spoofed SYNs that follow at once reclaim
  // only older ones (or are dropped), and its ACK still finds it.
  engine.tick(10_600);
  const realSyn = tcpPacket(rng, CLIENT, 2222, VIP, 80, SYN);
  assert.equal(engine.process(realSyn, realSyn.length), realSyn.length);
  for (let i = 0; i < 200; i++) {
    const spoofed = tcpPacket(rng, parseIPv4("198.51.100.250")!, 30000 + i, VIP, 80, SYN);
    engine.process(spoofed, spoofed.length);
  }
  const realAck = tcpPacket(rng, CLIENT, 2222, VIP, 80, ACK);
  assert.equal(engine.process(realAck, realAck.length), realAck.length);
  assert.equal(parsed(realAck, realAck.length).ip.dst, RS1);
});

test("a new SYN on an entry in TIME_WAIT is scheduled anew (conn_reuse_mode 1)", () => {
  const rng = new Rng(8);
  const engine = articleEngine();
  const syn = tcpPacket(rng, CLIENT, 7300, VIP, 80, SYN);
  const first = parsed(syn, engine.process(syn, syn.length));
  const rs = first.ip.dst;
  const rport = first.tcp.dstPort;
  // Handshake and a close from both sides: the entry ends in TIME_WAIT.
  for (
    const [src, sport, dst, dport, flags] of [
      [rs, rport, CLIENT, 7300, SYN | ACK],
      [CLIENT, 7300, VIP, 80, ACK],
      [CLIENT, 7300, VIP, 80, 0x01 | ACK],
      [rs, rport, CLIENT, 7300, 0x01 | ACK],
      [CLIENT, 7300, VIP, 80, ACK],
    ] as [number, number, number, number, number][]
  ) {
    const p = tcpPacket(rng, src, sport, dst, dport, flags);
    assert.ok(engine.process(p, p.length) > 0);
  }
  const slot = engine.conns.findInbound(6, CLIENT, 7300, VIP, 80);
  assert.equal(engine.conns.state[slot], 5 /* TIME_WAIT */);
  engine.services.deleteDestination("tcp", VIP, 80, rs, rport);
  const again = tcpPacket(rng, CLIENT, 7300, VIP, 80, SYN);
  const n = engine.process(again, again.length);
  assert.equal(n, again.length, "scheduled, not dropped");
  const other = parsed(again, n).ip.dst;
  assert.notEqual(other, rs);
  assert.equal(engine.drops.toJSON()["destination-removed"], undefined);
});
