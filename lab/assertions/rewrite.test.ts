import { test } from "node:test";
import assert from "node:assert/strict";
import {
  assertNoPrivateAddresses,
  assertPrivateRewrite,
  assertRepliesFromVip,
  assertTwinsMatched,
} from "./rewrite.ts";
import { matchTwins } from "../analysis/twins.ts";
import { decodeRecords, mergeConversations, natConnection } from "../analysis/test-support.ts";
import { buildIcmpError, buildIpv4, ethernetFrame } from "../analysis/test-support.ts";
import { SERVICE, threeConnections } from "./fixtures.test-support.ts";

test("a correct NAT capture passes every rewrite assertion", () => {
  const cap = threeConnections();
  const results = [
    assertNoPrivateAddresses(cap.public),
    assertRepliesFromVip(cap.public, SERVICE),
    assertPrivateRewrite(cap.private, cap.public, SERVICE),
    assertTwinsMatched(matchTwins(cap.public, cap.private, { vip: SERVICE.vip }), SERVICE),
  ];
  for (const r of results) assert.equal(r.passed, true, r.line);
  assert.equal(
    results[0].line,
    "PASS: none of the 24 packets on the client network carries a private address (172.16.0.0/24)",
  );
  assert.match(results[1].line, /^PASS: all 9 reply packets to the 3 clients of 203.0.113.5:80/);
  assert.match(results[3].line, /^PASS: each of the 24 packets of 203.0.113.5:80/);
});

test("a reply that leaves with the real server's address fails two assertions", () => {
  // The director "forgot" to rewrite the source of the SYN-ACK of the second connection.
  const cap = threeConnections((s, seg, i) =>
    seg === "public" && i === 1 ? { ...s, src: "172.16.0.3", srcPort: 8000 } : s
  );
  const leak = assertNoPrivateAddresses(cap.public);
  assert.equal(leak.passed, false);
  assert.match(
    leak.line,
    /^FAIL: 1 packet on the client network carries a private address \(first: #\d+ 172.16.0.3:8000 -> 198.51.100.2:40002 TCP S\.\)$/,
  );
  const replies = assertRepliesFromVip(cap.public, SERVICE);
  assert.equal(replies.passed, false);
  assert.match(replies.line, /1 of 9 reply packets .* do not come from 203.0.113.5:80/);
  // The leaked SYN-ACK is not a VIP packet; its private original has no twin.
  const twins = assertTwinsMatched(matchTwins(cap.public, cap.private, SERVICE), SERVICE);
  assert.equal(twins.passed, false);
  assert.match(
    twins.line,
    /^FAIL: 1 packet of its real servers on the private network have no twin on the client network \(first: #\d+ 172.16.0.3:8000 -> 198.51.100.2:40002 TCP S\.\)$/,
  );
  const publicOnly = assertTwinsMatched(matchTwins(cap.public, cap.private, SERVICE), SERVICE, {
    privateSide: false,
  });
  assert.equal(publicOnly.passed, true, publicOnly.line);
});

test("an ICMP error quoting a private address on the client network is a leak", () => {
  const quoted = buildIpv4({
    src: "198.51.100.2",
    dst: "172.16.0.3",
    protocol: "tcp",
    srcPort: 40000,
    dstPort: 8000,
  });
  const icmp = buildIcmpError("203.0.113.5", "198.51.100.2", 3, 4, quoted);
  const r = assertNoPrivateAddresses(decodeRecords([{ time: 1, data: ethernetFrame(icmp) }]));
  assert.equal(r.passed, false);
  assert.match(r.line, /quoting 198.51.100.2 -> 172.16.0.3/);
});

test("on the private network: wrong server port, or client port not preserved, fail", () => {
  const wrongPort = threeConnections((s, seg, i) =>
    seg === "private" && i === 3 ? { ...s, dstPort: 80 } : s
  );
  const r1 = assertPrivateRewrite(wrongPort.private, wrongPort.public, SERVICE);
  assert.equal(r1.passed, false);
  assert.match(r1.line, /172.16.0.3:80 is not a real server of 203.0.113.5:80/);

  const portChanged = threeConnections((s, seg) =>
    seg === "private" && s.src === "198.51.100.2" ? { ...s, srcPort: 61000 } : s
  );
  const r2 = assertPrivateRewrite(portChanged.private, portChanged.public, SERVICE);
  assert.equal(r2.passed, false);
  assert.match(r2.line, /source 198.51.100.2:61000 is no client address:port seen/);

  const addrChanged = threeConnections((s, seg) =>
    seg === "private" && s.dst === "198.51.100.2" ? { ...s, dst: "172.16.0.254" } : s
  );
  const r3 = assertPrivateRewrite(addrChanged.private, addrChanged.public, SERVICE);
  assert.equal(r3.passed, false);
  assert.match(r3.line, /destination 172.16.0.254:40002 is no client/);
});

test("a public packet whose twin never reached the private network fails the twins assertion", () => {
  const cap = threeConnections();
  const lost = cap.private.filter((p) => !(p.srcPort === 40003 && p.tcp!.flagText === "P."));
  const r = assertTwinsMatched(matchTwins(cap.public, lost, SERVICE), SERVICE);
  assert.equal(r.passed, false);
  assert.match(
    r.line,
    /^FAIL: 1 of 24 packets of 203.0.113.5:80 on the client network have no twin/,
  );
});

test("assertions with nothing to look at fail instead of passing vacuously", () => {
  assert.equal(assertNoPrivateAddresses([]).passed, false);
  assert.equal(assertRepliesFromVip([], SERVICE).passed, false);
  assert.equal(assertPrivateRewrite([], [], SERVICE).passed, false);
  const r = assertTwinsMatched({ pairs: [], unmatchedPublic: [], unmatchedPrivate: [] }, SERVICE);
  assert.equal(r.passed, false);
});

test("one client port reused for two services: each reply belongs to the service it comes from", () => {
  // 198.51.100.12:41139 talks to VIP:83 and, later, to a second VIP's :85 (another 4-tuple).
  const other: typeof SERVICE = {
    protocol: "tcp",
    vip: "203.0.113.6",
    port: 85,
    servers: ["172.16.0.2:8081", "172.16.0.3:8001"],
  };
  const first = { ...SERVICE, port: 83 };
  const conv = mergeConversations([
    natConnection({
      client: "198.51.100.12",
      clientPort: 41139,
      vip: first.vip,
      vport: 83,
      t0: 1,
      server: "172.16.0.2",
      serverPort: 80,
    }),
    natConnection({
      client: "198.51.100.12",
      clientPort: 41139,
      vip: other.vip,
      vport: 85,
      t0: 2,
      server: "172.16.0.3",
      serverPort: 8001,
    }),
  ]);
  const pub = decodeRecords(conv.public);
  const priv = decodeRecords(conv.private);
  for (const s of [first, other]) {
    const replies = assertRepliesFromVip(pub, s);
    assert.equal(replies.passed, true, replies.line);
    assert.match(replies.line, /all 3 reply packets/);
    const rewrite = assertPrivateRewrite(priv, pub, s);
    assert.equal(rewrite.passed, true, rewrite.line);
  }
  // A reply from neither service that client used is still wrong.
  const stray = decodeRecords(
    mergeConversations([
      natConnection({
        client: "198.51.100.12",
        clientPort: 41139,
        vip: first.vip,
        vport: 83,
        t0: 1,
        server: "172.16.0.2",
        serverPort: 80,
        tamper: (spec, seg, i) =>
          seg === "public" && i === 1 ? { ...spec, src: "203.0.113.7", srcPort: 83 } : spec,
      }),
    ]).public,
  );
  assert.equal(assertRepliesFromVip(stray, first).passed, false);
});
