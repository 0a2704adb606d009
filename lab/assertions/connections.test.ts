import { test } from "node:test";
import assert from "node:assert/strict";
import { assertOneServerPerConnection, assertOutcomes } from "./connections.ts";
import { groupConnections } from "../analysis/connections.ts";
import {
  buildIpv4,
  decodeRecords,
  ethernetFrame,
  mergeConversations,
  natConnection,
  type PacketSpec,
} from "../analysis/test-support.ts";
import { SERVICE, threeConnections } from "./fixtures.test-support.ts";

test("connections that each stay with their server pass; a split one fails", () => {
  const good = threeConnections();
  const ok = assertOneServerPerConnection(good.private, SERVICE);
  assert.equal(ok.passed, true, ok.line);
  assert.equal(
    ok.line,
    "PASS: each of the 3 connections of 203.0.113.5:80 stayed with one real server",
  );
  // The request of the second connection goes to rs1 instead of rs2.
  const split = threeConnections((s, seg, i) =>
    seg === "private" && i === 3 ? { ...s, dst: "172.16.0.2", dstPort: 80 } : s
  );
  const r = assertOneServerPerConnection(split.private, SERVICE);
  assert.equal(r.passed, false);
  assert.match(
    r.line,
    /^FAIL: 1 connection was split across real servers \(first: client 198.51.100.2:40002 reached 172.16.0.3:8000 .* and 172.16.0.2:80/,
  );
});

test("a reused client port with a new SYN is a new connection, not a split", () => {
  const base = { client: "198.51.100.2", vip: "203.0.113.5", vport: 80, clientPort: 40100 };
  const conv = mergeConversations([
    natConnection({ ...base, t0: 1, clientIsn: 1, server: "172.16.0.2", serverPort: 80 }),
    natConnection({ ...base, t0: 9, clientIsn: 777, server: "172.16.0.3", serverPort: 8000 }),
  ]);
  const r = assertOneServerPerConnection(decodeRecords(conv.private), SERVICE);
  assert.equal(r.passed, true, r.line);
  assert.match(r.line, /each of the 2 connections/);
});

test("a SYN retried after a reset is scheduled anew, not a split; without the reset it is", () => {
  // rs2 still holds TIME_WAIT for this client port (from another service) and answers the
  // SYN with an ACK; the client resets and retries the same SYN, which goes to rs1.
  const client = { src: "198.51.100.2", srcPort: 40200 };
  const toRs2 = { dst: "172.16.0.3", dstPort: 8000 };
  const toRs1 = { dst: "172.16.0.2", dstPort: 80 };
  const reply = (to: { dst: string; dstPort: number }) => ({
    src: to.dst,
    srcPort: to.dstPort,
    dst: client.src,
    dstPort: client.srcPort,
  });
  const tcp = { protocol: "tcp" as const };
  const specs = (withReset: boolean): PacketSpec[] => [
    { ...tcp, ...client, ...toRs2, flags: "S", seq: 7 },
    { ...tcp, ...reply(toRs2), flags: ".", seq: 900, ack: 555 },
    ...(withReset ? [{ ...tcp, ...client, ...toRs2, flags: "R", seq: 555 }] : []),
    { ...tcp, ...client, ...toRs1, flags: "S", seq: 7 },
    { ...tcp, ...reply(toRs1), flags: "S.", seq: 3000, ack: 8 },
    { ...tcp, ...client, ...toRs1, flags: ".", seq: 8, ack: 3001 },
  ];
  const packets = (withReset: boolean) =>
    decodeRecords(
      specs(withReset).map((spec, i) => ({
        time: 1 + i / 1000,
        data: ethernetFrame(buildIpv4(spec)),
      })),
    );
  const retried = assertOneServerPerConnection(packets(true), SERVICE);
  assert.equal(retried.passed, true, retried.line);
  assert.equal(
    retried.line,
    "PASS: each of the 2 connections of 203.0.113.5:80 stayed with one real server " +
      "(1 SYN retried after a reset was scheduled anew, as IPVS does for an entry in CLOSE)",
  );
  const split = assertOneServerPerConnection(packets(false), SERVICE);
  assert.equal(split.passed, false, split.line);
  assert.match(split.line, /1 connection was split/);
});

test("outcomes: accepted, refused and dropped counts per virtual port", () => {
  const base = { client: "198.51.100.2", vip: "203.0.113.5", server: "172.16.0.2", serverPort: 80 };
  const conv = mergeConversations([
    natConnection({ ...base, vport: 80, clientPort: 1, t0: 1 }),
    natConnection({ ...base, vport: 80, clientPort: 2, t0: 2 }),
    natConnection({ ...base, vport: 443, clientPort: 3, t0: 3, refused: true }),
    natConnection({ ...base, vport: 443, clientPort: 4, t0: 4, refused: true }),
    natConnection({ ...base, vport: 81, clientPort: 5, t0: 5, unanswered: true }),
  ]);
  const conns = groupConnections(decodeRecords(conv.public));
  const web = assertOutcomes(conns, {
    protocol: "tcp",
    vip: "203.0.113.5",
    port: 80,
    expected: { accepted: 2, refused: 0 },
  });
  assert.equal(web.passed, true, web.line);
  assert.equal(
    web.line,
    "PASS: 2 connections to 203.0.113.5:80: 2 accepted, 0 refused, as expected",
  );
  const https = assertOutcomes(conns, {
    protocol: "tcp",
    vip: "203.0.113.5",
    port: 443,
    expected: { refused: 2, accepted: 0 },
  });
  assert.equal(https.passed, true, https.line);
  const wrong = assertOutcomes(conns, {
    protocol: "tcp",
    vip: "203.0.113.5",
    port: 81,
    expected: { refused: { min: 1 } },
  });
  assert.equal(wrong.passed, false);
  assert.equal(
    wrong.line,
    "FAIL: 1 connection to 203.0.113.5:81: 0 refused, 1 dropped; expected at least 1 refused, got 0",
  );
  assert.match(wrong.details[0], /dropped: 198.51.100.2:5 \(SYN not answered\)/);
});
