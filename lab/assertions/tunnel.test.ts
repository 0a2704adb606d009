import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeRecords } from "../analysis/test-support.ts";
import {
  mergeTunCaptures,
  TUN_LINKS,
  TUN_SERVERS,
  TUN_VIP,
  type TunCaptures,
  tunConnection,
  type TunConnectionSpec,
} from "../analysis/tun-test-support.ts";
import {
  assertNoReplyThroughTunDirector,
  assertTunForwarded,
  assertTunPackets,
  buildTunView,
  type TunnelExpectation,
  tunRoles,
  type TunView,
} from "./tunnel.ts";
import type { ServiceSpec } from "./service.ts";

const SERVICE: ServiceSpec = {
  protocol: "tcp",
  vip: TUN_VIP,
  port: 80,
  servers: [`${TUN_SERVERS.rs1}:80`, `${TUN_SERVERS.rs2}:80`],
};

function view(c: TunCaptures): TunView {
  const servers = new Map(
    Object.entries(c.servers).map(([h, r]) => [h, decodeRecords(r)] as const),
  );
  return buildTunView(
    decodeRecords(c.public),
    decodeRecords(c.director),
    servers,
    tunRoles(TUN_LINKS),
    [SERVICE],
  );
}

/** Three connections: rs1, rs2, rs2, all of one tunnel type; the second as `fault` says. */
function lab(want: TunnelExpectation, fault: Partial<TunConnectionSpec> = {}): TunView {
  const tunnel = { type: want.type, port: want.port, checksum: want.checksum };
  return view(mergeTunCaptures([
    tunConnection({ clientPort: 40001, server: "rs1", t0: 1, tunnel }),
    tunConnection({ clientPort: 40002, server: "rs2", t0: 2, ipId: 300, tunnel, ...fault }),
    tunConnection({ clientPort: 40003, server: "rs2", t0: 3, ipId: 500, tunnel }),
  ]));
}

const IPIP: TunnelExpectation = { type: "ipip" };
const GUE: TunnelExpectation = { type: "gue", port: 6080 };
const GRE: TunnelExpectation = { type: "gre" };

for (const want of [IPIP, GUE, GRE]) {
  test(`a correct ${want.type} run passes all three checks`, () => {
    const v = lab(want);
    const forwarded = assertTunForwarded(v);
    assert.ok(forwarded.passed, forwarded.line);
    assert.equal(forwarded.data.matched, 15);
    const packets = assertTunPackets(v, want);
    assert.ok(packets.passed, packets.line);
    assert.deepEqual(packets.details, ["rs1: 1 connection", "rs2: 2 connections"]);
    assert.ok(assertNoReplyThroughTunDirector(v).passed);
  });
}

test("checksummed GRE and GUE pass", () => {
  for (const want of [GRE, GUE]) {
    const tunnel = { type: want.type, port: want.port, checksum: true };
    const v = view(tunConnection({ clientPort: 40001, server: "rs1", t0: 1, tunnel }));
    const r = assertTunPackets(v, want);
    assert.ok(r.passed, r.line);
  }
});

function fails(v: TunView, want: TunnelExpectation, pattern: RegExp): void {
  const r = assertTunPackets(v, want);
  assert.equal(r.passed, false, r.line);
  assert.match(r.line, pattern);
}

test("a wrong outer destination fails", () => {
  const v = lab(IPIP, {
    tamperOuter: (t, i) => i === 3 ? { ...t, dst: TUN_SERVERS.rs1 } : t,
  });
  fails(v, IPIP, /its tunnel packets went to rs2 and rs1/);
  assert.ok(
    assertTunPackets(v, IPIP).details.some((d) =>
      /outer destination 172\.16\.2\.2 \(rs1\), but 172\.16\.3\.2 \(rs2\) holds/.test(d)
    ),
  );
});

test("a wrong outer source fails", () => {
  const v = lab(IPIP, { tamperOuter: (t) => ({ ...t, src: "172.16.1.254" }) });
  // Not the director's: no tunnel packet of the director carries these client packets.
  assert.equal(assertTunForwarded(v).passed, false);
});

test("a TTL not lowered fails", () => {
  const v = lab(IPIP, { tamperInner: (ip) => ({ ...ip, ttl: 63 }) });
  fails(v, IPIP, /TTL 63 became 63, not 62/);
});

test("an outer TTL other than the inner one fails", () => {
  const v = lab(GRE, { tamperOuter: (t) => ({ ...t, ttl: 64 }) });
  fails(v, GRE, /outer TTL 64, not the inner packet's 62/);
});

test("an outer DF or TOS not copied fails", () => {
  fails(lab(IPIP, { tamperOuter: (t) => ({ ...t, df: false }) }), IPIP, /outer DF clear/);
  fails(lab(IPIP, { tamperOuter: (t) => ({ ...t, tos: 0x10 }) }), IPIP, /outer TOS 0x10/);
});

test("a changed inner byte fails", () => {
  const v = lab(GUE, {
    tamperInner: (ip, i) => i === 3 ? { ...ip, payload: "GET /x HTTP/1.1\r\n\r\n" } : ip,
  });
  // The length changed with it: no longer the client's packet at all; a same-length change
  // is caught byte by byte.
  fails(v, GUE, /sent, but no client packet of it was seen/);
  const w = lab(GUE, {
    tamperInner: (ip, i) => i === 3 ? { ...ip, payload: "GET * HTTP/1.1\r\n\r\n" } : ip,
  });
  fails(w, GUE, /the director changed it: byte 24 after the IP header changed/);
});

test("a wrong GUE port fails", () => {
  const v = lab(GUE, { tunnel: { type: "gue", port: 6081 } });
  fails(v, GUE, /GUE to UDP port 6081, not the --tun-port 6080/);
});

test("a bad GRE checksum and a bad GUE UDP checksum fail", () => {
  const flip = (b: Uint8Array) => {
    b[b.length - 1] ^= 0xff;
  };
  fails(
    lab(GRE, { tunnel: { type: "gre", checksum: true, mangle: flip } }),
    GRE,
    /the GRE checksum does not verify/,
  );
  fails(
    lab(GUE, { tunnel: { type: "gue", port: 6080, checksum: true, mangle: flip } }),
    GUE,
    /the outer UDP checksum does not verify/,
  );
});

test("another tunnel type than expected fails", () => {
  fails(lab(GRE, { tunnel: { type: "ipip" } }), GRE, /an IPIP packet \(protocol 4\), not GRE/);
});

test("a reply through the director fails the bypass check", () => {
  const v = lab(IPIP, { replyViaDirector: true });
  const r = assertNoReplyThroughTunDirector(v);
  assert.equal(r.passed, false);
  assert.match(r.line, /3 reply packets passed the director \(first: .*VIP reply/);
});

test("filters: by server and by time", () => {
  const mixed = view(mergeTunCaptures([
    tunConnection({ clientPort: 40001, server: "rs1", t0: 1, tunnel: { type: "gre" } }),
    tunConnection({ clientPort: 40002, server: "rs2", t0: 2, tunnel: { type: "gue" } }),
  ]));
  assert.equal(assertTunPackets(mixed, GRE).passed, false);
  assert.ok(assertTunPackets(mixed, GRE, { servers: new Set(["rs1"]) }).passed);
  assert.ok(assertTunPackets(mixed, GUE, { when: (t) => t >= 2 }).passed);
});

test("tunnel packets without their client packet are excusable by capture loss; faults are not", async () => {
  const { excuseCaptureLoss } = await import("../scenario/assertions/capture-context.ts");
  const stray = lab(GUE, {
    tamperInner: (ip, i) => i === 3 ? { ...ip, payload: "GET /x HTTP/1.1\r\n\r\n" } : ip,
  });
  const r = assertTunPackets(stray, GUE);
  assert.equal(r.data.faults, 0);
  assert.equal(r.data.unmatched, 1);
  assert.equal(excuseCaptureLoss(r, 0).passed, false, "no loss: no excuse");
  assert.equal(excuseCaptureLoss(r, 5).passed, true, "tcpdump lost more than is missing");
  const wrongPort = assertTunPackets(lab(GUE, { tunnel: { type: "gue", port: 6081 } }), GUE);
  assert.ok(Number(wrongPort.data.faults) > 0, "a wrong header is a fault, never excused");
});

test("the checksum the table asks for: present with --tun-csum, absent with --tun-nocsum", () => {
  const csum = { ...GRE, checksum: true };
  const nocsum = { ...GRE, checksum: false };
  const withC = lab(csum);
  const withoutC = lab(nocsum);
  assert.ok(assertTunPackets(withC, csum).passed);
  assert.ok(assertTunPackets(withoutC, nocsum).passed);
  fails(withoutC, csum, /no GRE checksum \(C bit\), though the table asks for one/);
  fails(withC, nocsum, /a GRE checksum \(C bit\), though the table gives --tun-nocsum/);
  assert.match(assertTunPackets(withC, csum).name, /GRE with checksum/);
  const gueNoCsum = lab(GUE);
  fails(gueNoCsum, { ...GUE, checksum: true }, /no UDP checksum, though the table asks/);
});

test("filters: by the client's destination port (one server, one tunnel per service)", () => {
  const mixed = view(mergeTunCaptures([
    tunConnection({ clientPort: 40001, server: "rs1", t0: 1, tunnel: { type: "ipip" } }),
    tunConnection({
      clientPort: 40002,
      server: "rs1",
      t0: 2,
      vport: 8080,
      tunnel: { type: "gre", checksum: true },
    }),
  ]));
  assert.equal(assertTunPackets(mixed, IPIP).passed, false);
  assert.ok(assertTunPackets(mixed, IPIP, { vport: (p) => p === 80 }).passed);
  const gre = assertTunPackets(mixed, { type: "gre", checksum: true }, {
    vport: (p) => p === 8080,
  });
  assert.ok(gre.passed, gre.line);
  assert.equal(gre.data.connections, 1);
});
