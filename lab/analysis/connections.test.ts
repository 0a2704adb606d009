import { test } from "node:test";
import assert from "node:assert/strict";
import { countOutcomes, groupConnections } from "./connections.ts";
import {
  buildIcmpError,
  buildIpv4,
  decodeRecords,
  ethernetFrame,
  mergeConversations,
  natConnection,
} from "./test-support.ts";

const base = {
  client: "198.51.100.2",
  vip: "203.0.113.5",
  vport: 80,
  server: "172.16.0.3",
  serverPort: 8000,
};

test("connections group both directions, with the client side identified and outcomes", () => {
  const conv = mergeConversations([
    natConnection({ ...base, clientPort: 40001, t0: 1 }),
    natConnection({ ...base, clientPort: 40002, t0: 1.0005, unanswered: true }),
    natConnection({ ...base, clientPort: 40003, t0: 1.002, refused: true, vport: 443 }),
  ]);
  const conns = groupConnections(decodeRecords(conv.public));
  assert.equal(conns.length, 3);
  const [ok, dropped, refused] = conns;
  assert.deepEqual(ok.client, { addr: "198.51.100.2", port: 40001 });
  assert.deepEqual(ok.server, { addr: "203.0.113.5", port: 80 });
  assert.equal(ok.packets.length, 8);
  assert.equal(ok.clientIsn, 1000);
  assert.equal(ok.outcome, "accepted");
  assert.equal(dropped.outcome, "dropped");
  assert.equal(refused.outcome, "refused");
  assert.match(refused.outcomeReason, /RST from 203.0.113.5:443/);
  assert.deepEqual(countOutcomes(conns), { accepted: 1, refused: 1, dropped: 1, unknown: 0 });

  // On the private network the same connection has the real server as its server.
  const priv = groupConnections(decodeRecords(conv.private));
  assert.equal(priv.length, 2);
  assert.deepEqual(priv[0].server, { addr: "172.16.0.3", port: 8000 });
});

test("a new SYN on the same 5-tuple with another ISN is a new connection; a SYN retransmit is not", () => {
  const first = natConnection({ ...base, clientPort: 40010, t0: 1, clientIsn: 111 });
  const again = natConnection({ ...base, clientPort: 40010, t0: 5, clientIsn: 999 });
  const retransmit = first.public[0];
  const packets = decodeRecords(
    [retransmit, ...first.public, ...again.public].map((r, i) => i === 0 ? { ...r, time: 0.5 } : r),
  );
  const conns = groupConnections(packets);
  assert.equal(conns.length, 2);
  assert.equal(conns[0].packets.length, 9);
  assert.equal(conns[1].clientIsn, 999);
});

test("an ICMP unreachable quoting the client's SYN marks the connection refused", () => {
  const syn = buildIpv4({
    src: "198.51.100.2",
    dst: "203.0.113.5",
    protocol: "tcp",
    srcPort: 40020,
    dstPort: 81,
    flags: "S",
  });
  const icmp = buildIcmpError("203.0.113.5", "198.51.100.2", 3, 3, syn);
  const udp = buildIpv4({
    src: "198.51.100.2",
    dst: "203.0.113.5",
    protocol: "udp",
    srcPort: 5000,
    dstPort: 9000,
  });
  const udpReply = buildIpv4({
    src: "203.0.113.5",
    dst: "198.51.100.2",
    protocol: "udp",
    srcPort: 9000,
    dstPort: 5000,
  });
  const conns = groupConnections(decodeRecords([
    { time: 1, data: ethernetFrame(syn) },
    { time: 1.001, data: ethernetFrame(icmp) },
    { time: 2, data: ethernetFrame(udp) },
    { time: 2.001, data: ethernetFrame(udpReply) },
  ]));
  assert.equal(conns.length, 2);
  assert.equal(conns[0].outcome, "refused");
  assert.match(conns[0].outcomeReason, /ICMP unreachable \(code 3\) in #2/);
  assert.equal(conns[0].icmpErrors.length, 1);
  assert.equal(conns[1].protocol, "udp");
  assert.equal(conns[1].outcome, "accepted");
});

test("a connection captured mid-stream has outcome unknown, with the client guessed from SYN-ACK", () => {
  const conv = natConnection({ ...base, clientPort: 40030, t0: 1 });
  const conns = groupConnections(decodeRecords(conv.public.slice(1)));
  assert.equal(conns.length, 1);
  assert.deepEqual(conns[0].client, { addr: "198.51.100.2", port: 40030 });
  assert.equal(conns[0].clientIsn, null);
  // SYN-ACK and the client's ACK were captured: the handshake's end counts as accepted.
  assert.equal(conns[0].outcome, "accepted");
  const late = groupConnections(decodeRecords(conv.public.slice(3)));
  assert.equal(late[0].outcome, "unknown");
  assert.match(late[0].outcomeReason, /began before the capture/);
});
