// writeTcpReset: RFC 793 reset generation checked field by field against an independent
// expectation, checksums by a reference sum, refusals, and 10k mutated inputs.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { PacketError, PacketView } from "../packet/packet.ts";
import {
  buildPacket,
  get32,
  IP,
  put16,
  put32,
  refL4Sum,
  Rng,
  u16,
} from "../packet/test-support.ts";
import { TCP_RESET_LENGTH, writeTcpReset } from "./tcp-reset.ts";
import {
  CLIENT,
  mutate,
  refIpHeaderValid,
  refL4Valid,
  VIP,
  withSlack,
} from "./reply-test-support.ts";

const SEED = Number(process.env.PACKET_SEED ?? 0x525354);
const FIN = 1, SYN = 2, RST = 4, PSH = 8, ACK = 16;

interface Seg {
  flags: number;
  seq: number;
  ack: number;
  payloadLen: number;
  ipOptionsLen?: number;
  tcpOptionsLen?: number;
  sport?: number;
  dport?: number;
  src?: number;
  dst?: number;
  fragWord?: number;
  tos?: number;
}

/** A client → VIP TCP segment with valid checksums. */
function segment(rng: Rng, s: Seg): Uint8Array {
  const buf = buildPacket(rng, {
    proto: 6,
    payloadLen: s.payloadLen,
    ipOptionsLen: s.ipOptionsLen,
    tcpOptionsLen: s.tcpOptionsLen,
    src: s.src ?? CLIENT,
    dst: s.dst ?? VIP,
    sport: s.sport ?? 40000,
    dport: s.dport ?? 81,
    fragWord: s.fragWord,
  });
  const l4 = IP + (buf[IP]! & 15) * 4;
  buf[IP + 1] = s.tos ?? 0;
  put32(buf, l4 + 4, s.seq);
  put32(buf, l4 + 8, s.ack);
  buf[l4 + 13] = s.flags;
  // Re-seal both checksums after the edits.
  put16(buf, IP + 10, 0);
  let sum = 0;
  const hl = (buf[IP]! & 15) * 4;
  for (let i = 0; i < hl; i += 2) sum += u16(buf, IP + i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  put16(buf, IP + 10, ~sum & 0xffff);
  const l4len = u16(buf, IP + 2) - hl;
  put16(buf, l4 + 16, ~refL4Sum(buf, l4 + 16, l4len) & 0xffff);
  return withSlack(buf, 64);
}

function reset(buf: Uint8Array, length = buf.length - 64): { n: number; view: PacketView } {
  const view = new PacketView();
  view.parse(buf, length);
  const n = writeTcpReset(view, buf);
  return { n, view };
}

/** Checks every field of the RST in buf against the segment it answered. */
function checkRst(buf: Uint8Array, n: number, s: Seg): void {
  assert.equal(n, TCP_RESET_LENGTH);
  assert.equal(n, 50);
  for (let i = 0; i < 10; i++) assert.equal(buf[i], 0, `vnet byte ${i}`);
  const v = new PacketView();
  assert.equal(v.parse(buf, n), PacketError.OK);
  assert.equal(v.l4Present, true);
  const ip = v.ip;
  assert.equal(ip.version, 4);
  assert.equal(ip.headerLength, 20);
  assert.equal(ip.tos, (s.tos ?? 0) & 0xfc);
  assert.equal(ip.totalLength, 40);
  assert.equal(ip.id, 0);
  assert.equal(ip.flagsFragOffset, 0x4000);
  assert.equal(ip.ttl, 64);
  assert.equal(ip.protocol, 6);
  assert.equal(ip.src, s.dst ?? VIP);
  assert.equal(ip.dst, s.src ?? CLIENT);
  assert.ok(refIpHeaderValid(buf, IP), "IP checksum");
  assert.equal(ip.checksum, ip.computeChecksum());
  const tcp = v.tcp;
  assert.equal(tcp.srcPort, s.dport ?? 81);
  assert.equal(tcp.dstPort, s.sport ?? 40000);
  assert.equal(tcp.headerLength, 20);
  assert.equal(tcp.window, 0);
  assert.equal(tcp.urgentPointer, 0);
  assert.equal(tcp.payloadLength, 0);
  if (s.flags & ACK) {
    assert.equal(tcp.flags, RST);
    assert.equal(tcp.seq, s.ack >>> 0);
    assert.equal(tcp.ack, 0);
  } else {
    assert.equal(tcp.flags, RST | ACK);
    assert.equal(tcp.seq, 0);
    const len = s.payloadLen + (s.flags & SYN ? 1 : 0) + (s.flags & FIN ? 1 : 0);
    assert.equal(tcp.ack, (s.seq + len) % 0x100000000);
  }
  assert.ok(refL4Valid(buf, IP), "TCP checksum");
  assert.equal(tcp.checksum, v.computeL4Checksum());
}

describe("writeTcpReset", () => {
  const rng = new Rng(SEED);

  it("answers a SYN with RST|ACK, seq 0, ack = seq + 1", () => {
    const s: Seg = { flags: SYN, seq: 0x12345678, ack: 0xdeadbeef, payloadLen: 0 };
    const buf = segment(rng, s);
    checkRst(buf, reset(buf).n, s);
  });

  it("answers a segment with ACK with RST, seq = its ack, no ACK flag", () => {
    const s: Seg = { flags: ACK | PSH, seq: 1000, ack: 0x80000001, payloadLen: 300 };
    const buf = segment(rng, s);
    checkRst(buf, reset(buf).n, s);
  });

  it("counts payload, SYN and FIN in the ack, wrapping at 2^32", () => {
    const s: Seg = { flags: SYN | FIN, seq: 0xfffffff0, ack: 0, payloadLen: 100 };
    const buf = segment(rng, s);
    checkRst(buf, reset(buf).n, s);
    const t: Seg = { flags: SYN, seq: 0xffffffff, ack: 0, payloadLen: 0 };
    const buf2 = segment(rng, t);
    const r = reset(buf2);
    checkRst(buf2, r.n, t);
    assert.equal(get32(buf2, 30 + 8), 0);
  });

  it("drops IP and TCP options, reflects DSCP without ECN", () => {
    const s: Seg = {
      flags: SYN,
      seq: 7,
      ack: 0,
      payloadLen: 5,
      ipOptionsLen: 40,
      tcpOptionsLen: 40,
      tos: 0xbb,
    };
    const buf = segment(rng, s);
    checkRst(buf, reset(buf).n, s);
  });

  it("clears an offloaded request's vnet header", () => {
    const s: Seg = { flags: ACK, seq: 1, ack: 2, payloadLen: 1000 };
    const buf = segment(rng, s);
    buf.set([1, 1, 54, 0, 0xa8, 5, 34, 0, 16, 0], 0);
    checkRst(buf, reset(buf).n, s);
  });

  it("never answers a RST, non-TCP, fragments or bad addresses", () => {
    const refuse = (s: Seg) => {
      const buf = segment(rng, s);
      const before = buf.slice();
      assert.equal(reset(buf).n, 0);
      assert.deepEqual(buf, before, "packet left untouched");
    };
    refuse({ flags: RST, seq: 1, ack: 0, payloadLen: 0 });
    refuse({ flags: RST | ACK, seq: 1, ack: 5, payloadLen: 0 });
    refuse({ flags: SYN, seq: 1, ack: 0, payloadLen: 0, fragWord: 0x2000 }); // first fragment
    refuse({ flags: SYN, seq: 1, ack: 0, payloadLen: 0, src: 0 });
    refuse({ flags: SYN, seq: 1, ack: 0, payloadLen: 0, src: 0x7f000001 });
    refuse({ flags: SYN, seq: 1, ack: 0, payloadLen: 0, src: 0xe0000001 });
    refuse({ flags: SYN, seq: 1, ack: 0, payloadLen: 0, src: 0xffffffff });
    refuse({ flags: SYN, seq: 1, ack: 0, payloadLen: 0, dst: 0xe00000fb });
    refuse({ flags: SYN, seq: 1, ack: 0, payloadLen: 0, dst: 0xffffffff });
    const udp = withSlack(
      buildPacket(rng, { proto: 17, payloadLen: 20, src: CLIENT, dst: VIP }),
      0,
    );
    const view = new PacketView();
    view.parse(udp, udp.length);
    assert.equal(writeTcpReset(view, udp), 0);
    // A view bound to another buffer is refused.
    const other = segment(rng, { flags: SYN, seq: 1, ack: 0, payloadLen: 0 });
    assert.equal(writeTcpReset(view, other), 0);
  });

  it("matches the RFC 793 rule on 2000 random segments", () => {
    for (let i = 0; i < 2000; i++) {
      const s: Seg = {
        flags: rng.u32() & 0xff & ~RST,
        seq: rng.u32(),
        ack: rng.u32(),
        payloadLen: rng.int(1400),
        ipOptionsLen: 4 * rng.int(11),
        tcpOptionsLen: 4 * rng.int(11),
        sport: 1 + rng.int(65535),
        dport: 1 + rng.int(65535),
        tos: rng.int(256),
      };
      const buf = segment(rng, s);
      checkRst(buf, reset(buf).n, s);
    }
  });

  it("survives 10k mutated inputs: 0 or a valid RST, never a throw", () => {
    let answered = 0;
    let refused = 0;
    for (let i = 0; i < 10_000; i++) {
      const s: Seg = {
        flags: rng.u32() & 0xff,
        seq: rng.u32(),
        ack: rng.u32(),
        payloadLen: rng.int(200),
        ipOptionsLen: 4 * rng.int(3),
        tcpOptionsLen: 4 * rng.int(3),
      };
      const buf = segment(rng, s);
      const length = mutate(rng, buf, buf.length - 64);
      const { n } = reset(buf, length);
      if (n === 0) {
        refused++;
        continue;
      }
      answered++;
      assert.equal(n, 50);
      const v = new PacketView();
      assert.equal(v.parse(buf, n), PacketError.OK);
      assert.ok(refIpHeaderValid(buf, IP));
      assert.ok(refL4Valid(buf, IP));
      assert.equal(v.tcp.flags & RST, RST);
    }
    assert.ok(answered > 1000 && refused > 1000, `answered ${answered}, refused ${refused}`);
  });
});
