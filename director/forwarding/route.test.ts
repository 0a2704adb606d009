// VS/DR on the engine, with a fake packet socket: the frame that leaves is the client's
// packet but for TTL−1 and the IP checksum, to the real server's MAC; the reasons a frame
// cannot leave are counted; TTL and MTU problems answer the client as IPVS does.
import { test } from "node:test";
import assert from "node:assert/strict";
import { DirectorEngine } from "../engine/engine.ts";
import { CONN_F_NOOUTPUT } from "../engine/conn-table.ts";
import { LinkTable } from "../net/link-table.ts";
import { configureFakeLink, fakeSocket, OWN_MAC } from "../net/link-test-support.ts";
import { NeighbourStatus } from "../net/neighbour.ts";
import { FRAME_IP_OFFSET } from "../net/packet-socket.ts";
import { IP, put16, refIpChecksum, Rng, VNET } from "../packet/test-support.ts";
import { ACK, CLIENT, RS1, RS2, SYN, tcpPacket, VIP } from "../engine/engine-test-support.ts";
import { buildIcmpError } from "../replies/reply-test-support.ts";
import { TCP_FIN } from "../packet/tcp.ts";
import { tcpStateName } from "../protocols/tcp-state.ts";

const RS_MAC = [0x02, 0, 0, 0, 0, 0x02];

function drEngine(status: number = NeighbourStatus.RESOLVED, mtu = 1500) {
  const socket = fakeSocket();
  const links = new LinkTable(() => socket);
  const engine = new DirectorEngine({ maxConnections: 64, nowMs: 0, links });
  engine.services.addService({ protocol: "tcp", addr: VIP, port: 80, schedulerName: "rr" });
  engine.services.addDestination("tcp", VIP, 80, {
    addr: RS1,
    port: 80,
    weight: 1,
    method: "route",
  });
  const { status: statusWords } = configureFakeLink(
    links,
    0,
    [{ addr: RS1, mac: RS_MAC, status }],
    mtu,
  );
  return { engine, socket, statusWords };
}

/** A client segment with TTL `ttl` and a valid header checksum. */
function clientSegment(flags: number, ttl = 64, payloadLen = 0, sport = 4000): Uint8Array {
  const buf = tcpPacket(new Rng(sport + flags), CLIENT, sport, VIP, 80, flags, { payloadLen });
  buf[IP + 8] = ttl;
  put16(buf, IP + 10, refIpChecksum(buf));
  return buf;
}

test("DR: the packet leaves as the kernel handed it (TTL already lowered) in a frame to the server's MAC", () => {
  const { engine, socket } = drEngine();
  const syn = clientSegment(SYN, 64, 100);
  const original = syn.slice();
  assert.equal(engine.process(syn, syn.length), 0, "nothing goes back to the TUN device");
  assert.equal(socket.sent.length, 0, "queued until the burst ends");
  engine.links.flush();
  assert.equal(socket.sent.length, 1);
  const frame = socket.sent[0]!;
  assert.equal(frame.length, original.length + 14);
  assert.deepEqual([...frame.subarray(VNET, VNET + 6)], RS_MAC, "destination: the server's MAC");
  assert.deepEqual([...frame.subarray(VNET + 6, VNET + 12)], [...OWN_MAC]);
  assert.deepEqual([...frame.subarray(VNET + 12, VNET + 14)], [0x08, 0x00]);
  const ip = frame.subarray(FRAME_IP_OFFSET);
  const sent = original.subarray(IP);
  // The kernel lowered the TTL forwarding it into the TUN device; the frame skips its
  // forwarding on the way out, so nothing is left to change.
  assert.deepEqual([...ip], [...sent], "the IP packet byte for byte");
  assert.equal(engine.totals.inpkts, 1);
});

test("DR: the connection sees input only (NOOUTPUT) and follows IPVS's INPUT-ONLY states", () => {
  const { engine } = drEngine();
  const send = (flags: number) => {
    const p = clientSegment(flags);
    engine.process(p, p.length);
  };
  send(SYN);
  const slot = engine.conns.findInbound(6, CLIENT, 4000, VIP, 80);
  assert.notEqual(engine.conns.flags[slot] & CONN_F_NOOUTPUT, 0);
  assert.equal(tcpStateName(engine.conns.state[slot]), "SYN_RECV");
  send(ACK);
  assert.equal(tcpStateName(engine.conns.state[slot]), "ESTABLISHED");
  send(TCP_FIN | ACK);
  assert.equal(tcpStateName(engine.conns.state[slot]), "FIN_WAIT");
});

test("DR: a frame that cannot leave is counted by why (ARP under way, failed, not on link)", () => {
  for (
    const [status, reason] of [
      [NeighbourStatus.PENDING, "neighbour-pending"],
      [NeighbourStatus.FAILED, "neighbour-failed"],
      [NeighbourStatus.NOT_ON_LINK, "neighbour-not-on-link"],
    ] as const
  ) {
    const { engine, socket } = drEngine(status);
    const syn = clientSegment(SYN);
    assert.equal(engine.process(syn, syn.length), 0);
    engine.links.flush();
    assert.equal(socket.sent.length, 0);
    assert.equal(engine.drops.toJSON()[reason], 1, reason);
  }
});

test("DR: a DF packet larger than the link's MTU gets fragmentation needed with that MTU", () => {
  const { engine, socket } = drEngine(NeighbourStatus.RESOLVED, 1400);
  const syn = clientSegment(SYN);
  engine.process(syn, syn.length); // the connection
  const big = clientSegment(ACK, 64, 1400);
  const n = engine.process(big, big.length);
  assert.ok(n > 0);
  assert.equal(big[IP + 20], 3, "destination unreachable");
  assert.equal(big[IP + 21], 4, "fragmentation needed");
  assert.equal((big[IP + 26]! << 8) | big[IP + 27]!, 1400, "the link's MTU");
  engine.links.flush();
  assert.equal(socket.sent.length, 1, "only the SYN left");
  assert.equal(engine.drops.toJSON()["frame-too-big"], 1);
});

test("DR: a super-packet keeps its vnet header, its checksum offsets moved past Ethernet", () => {
  const { engine, socket } = drEngine(NeighbourStatus.RESOLVED, 1500);
  const syn = clientSegment(SYN);
  engine.process(syn, syn.length);
  const big = tcpPacket(new Rng(9), CLIENT, 4000, VIP, 80, ACK, {
    payloadLen: 8000,
    partial: true,
  });
  big[IP + 8] = 64;
  put16(big, IP + 10, refIpChecksum(big));
  big[1] = 1; // GSO_TCPV4
  big[4] = 1448 & 0xff; // gso_size
  big[5] = 1448 >> 8;
  const csumStart = big[6]! | (big[7]! << 8);
  assert.equal(engine.process(big, big.length), 0);
  engine.links.flush();
  const frame = socket.sent[1]!;
  assert.equal(frame.length, big.length + 14, "one frame, not segmented");
  assert.equal(frame[1], 1);
  assert.equal(frame[6]! | (frame[7]! << 8), csumStart + 14, "csum_start counts the MAC header");
});

test("DR: FTP's control connection is not rewritten (no helper outside NAT)", () => {
  const socket = fakeSocket();
  const links = new LinkTable(() => socket);
  const engine = new DirectorEngine({ maxConnections: 64, nowMs: 0, links });
  engine.services.addService({ protocol: "tcp", addr: VIP, port: 21, schedulerName: "rr" });
  engine.services.addDestination("tcp", VIP, 21, {
    addr: RS1,
    port: 21,
    weight: 1,
    method: "route",
  });
  const p = tcpPacket(new Rng(1), CLIENT, 5000, VIP, 21, SYN);
  engine.process(p, p.length);
  const slot = engine.conns.findInbound(6, CLIENT, 5000, VIP, 21);
  assert.equal(engine.apps.helperOf[slot], 0);
});

test("DR: an ICMP error from the client about the server's reply goes to the server as read", () => {
  const { engine, socket } = drEngine();
  const syn = clientSegment(SYN);
  engine.process(syn, syn.length);
  // The reply rs1 sent the client straight (VIP:80 → client:4000), quoted by the client.
  const reply = tcpPacket(new Rng(5), VIP, 80, CLIENT, 4000, ACK, { payloadLen: 40 });
  const error = buildIcmpError(new Rng(6), {
    outerSrc: CLIENT,
    outerDst: VIP,
    type: 3,
    code: 3,
    quoted: reply.subarray(IP),
    quoteLen: 28,
  });
  const original = error.slice();
  assert.equal(engine.process(error, error.length), 0, "not written back: sent as a frame");
  engine.links.flush();
  assert.equal(socket.sent.length, 2);
  const frame = socket.sent[1]!;
  assert.deepEqual([...frame.subarray(VNET, VNET + 6)], RS_MAC);
  const ip = frame.subarray(FRAME_IP_OFFSET);
  assert.deepEqual([...ip], [...original.subarray(IP)], "the ICMP packet byte for byte");
});

test("DR with persistence (-p): a client's connections stay on one server, any port via FTP's", () => {
  const links = new LinkTable(() => fakeSocket());
  const engine = new DirectorEngine({ maxConnections: 64, nowMs: 0, links });
  engine.services.addService({
    protocol: "tcp",
    addr: VIP,
    port: 21,
    schedulerName: "rr",
    persistTimeout: 360,
  });
  for (const addr of [RS1, RS1 + 1]) {
    engine.services.addDestination("tcp", VIP, 21, { addr, port: 21, weight: 1, method: "route" });
  }
  const servers = new Set<number>();
  // The control connection, then passive data connections to unprivileged VIP ports.
  for (const [sport, dport] of [[5000, 21], [5001, 40001], [5002, 40002], [5003, 21]]) {
    const p = tcpPacket(new Rng(sport), CLIENT, sport, VIP, dport, SYN);
    engine.process(p, p.length);
    const slot = engine.conns.findInbound(6, CLIENT, sport, VIP, dport);
    assert.notEqual(slot, -1, `connection to port ${dport}`);
    servers.add(engine.conns.daddr[slot]);
  }
  assert.equal(servers.size, 1, "one server for all of them");
});

test("DR: a new SYN on a client port whose FIN_WAIT entry has a weight-0 server: kept there, or rescheduled with expire_nodest_conn", () => {
  for (const expireNodestConn of [false, true]) {
    const socket = fakeSocket();
    const links = new LinkTable(() => socket);
    const engine = new DirectorEngine({ maxConnections: 64, nowMs: 0, links });
    engine.expireNodestConn = expireNodestConn;
    engine.services.addService({ protocol: "tcp", addr: VIP, port: 80, schedulerName: "rr" });
    for (const addr of [RS1, RS2]) {
      engine.services.addDestination("tcp", VIP, 80, {
        addr,
        port: 80,
        weight: 1,
        method: "route",
      });
    }
    configureFakeLink(links, 0, [
      { addr: RS1, mac: RS_MAC, status: NeighbourStatus.RESOLVED },
      { addr: RS2, mac: RS_MAC, status: NeighbourStatus.RESOLVED },
    ]);
    const send = (flags: number) => {
      const p = clientSegment(flags);
      engine.process(p, p.length);
      return engine.conns.findInbound(6, CLIENT, 4000, VIP, 80);
    };
    const first = engine.conns.dest[send(SYN)]!.addr;
    const other = first === RS1 ? RS2 : RS1;
    send(ACK);
    const finished = send(TCP_FIN | ACK);
    assert.equal(tcpStateName(engine.conns.state[finished]), "FIN_WAIT");
    engine.services.editDestination("tcp", VIP, 80, {
      addr: first,
      port: 80,
      weight: 0,
      method: "route",
    });
    // conn_reuse_mode 1 reuses only TIME_WAIT and CLOSE entries (a DR entry never sees
    // TIME_WAIT); expire_nodest_conn 1 also drops one whose server has weight 0.
    const again = send(SYN);
    assert.equal(
      engine.conns.dest[again]!.addr,
      expireNodestConn ? other : first,
      `expire_nodest_conn ${expireNodestConn ? 1 : 0}`,
    );
  }
});
