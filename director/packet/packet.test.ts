// Header views and PacketView.parse: field access on known packets, every PacketError
// reason, truncations, and random/mutated buffers checked against an independent classifier.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  checksumReplace16,
  checksumReplace32,
  udpChecksumReplace16,
  udpChecksumReplace32,
} from "./checksum.ts";
import { ICMP_DEST_UNREACH, ICMP_ECHO, ICMP_PORT_UNREACH } from "./icmp.ts";
import { Ipv4View } from "./ipv4.ts";
import { PacketError, packetErrorName, PacketView } from "./packet.ts";
import { TCP_ACK, TCP_SYN, TcpView } from "./tcp.ts";
import { UdpView } from "./udp.ts";
import {
  VIRTIO_NET_HDR_F_NEEDS_CSUM,
  VIRTIO_NET_HDR_GSO_TCPV4,
  VNET_HDR_LEN,
  VnetHeaderView,
} from "./vnet-header.ts";
import {
  buildPacket,
  get32,
  IP,
  put16,
  put32,
  refFold,
  refIpChecksum,
  refL4Sum,
  Rng,
  u16,
  words,
} from "./test-support.ts";

const SEED = Number(process.env.PACKET_SEED ?? 0x4c5653);

const CLIENT = 0xc6336402; // 198.51.100.2
const VIP = 0xcb007105; // 203.0.113.5
const RS = 0xac100002; // 172.16.0.2

/** The expected parse result, written from the spec independently of the parser. */
function classify(buf: Uint8Array, length: number): { code: number; l4: boolean } {
  const E = PacketError;
  if (length < VNET_HDR_LEN) return { code: E.TRUNCATED_VNET, l4: false };
  const avail = length - 10;
  if (avail < 20) return { code: E.TRUNCATED_IP, l4: false };
  if (buf[IP]! >> 4 !== 4) return { code: E.BAD_VERSION, l4: false };
  const hl = (buf[IP]! & 15) * 4;
  if (hl < 20) return { code: E.BAD_IHL, l4: false };
  if (hl > avail) return { code: E.TRUNCATED_IP, l4: false };
  const tot = u16(buf, IP + 2);
  if (tot < hl) return { code: E.TOTAL_LENGTH_TOO_SHORT, l4: false };
  if (tot > avail) return { code: E.TOTAL_LENGTH_BEYOND_BUFFER, l4: false };
  const proto = buf[IP + 9];
  if (proto !== 6 && proto !== 17 && proto !== 1) {
    return { code: E.UNSUPPORTED_PROTOCOL, l4: false };
  }
  const frag = u16(buf, IP + 6);
  if ((frag & 0x1fff) !== 0) return { code: 0, l4: false };
  const l4 = IP + hl;
  const l4len = tot - hl;
  let ok: boolean;
  if (proto === 6) {
    ok = l4len >= 20 && (buf[l4 + 12]! >> 4) >= 5 && (buf[l4 + 12]! >> 4) * 4 <= l4len;
  } else if (proto === 17) {
    const ulen = l4len >= 8 ? u16(buf, l4 + 4) : 0;
    ok = l4len >= 8 && ulen >= 8 && ((frag & 0x2000) !== 0 || ulen <= l4len);
  } else ok = l4len >= 8;
  return ok ? { code: 0, l4: true } : { code: E.TRUNCATED_L4, l4: false };
}

function expectParse(view: PacketView, buf: Uint8Array, length: number, code: number): void {
  const got = view.parse(buf, length);
  assert.equal(
    packetErrorName(got),
    packetErrorName(code),
    `expected ${packetErrorName(code)}, got ${packetErrorName(got)}`,
  );
}

describe("VnetHeaderView", () => {
  it("reads and writes little-endian fields", () => {
    const buf = Uint8Array.from([1, 1, 0x36, 0x00, 0xa8, 0x05, 0x22, 0x00, 0x10, 0x00, 0x45]);
    const v = new VnetHeaderView();
    v.bind(buf, 0);
    assert.equal(v.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
    assert.equal(v.needsCsum, true);
    assert.equal(v.dataValid, false);
    assert.equal(v.gsoType, VIRTIO_NET_HDR_GSO_TCPV4);
    assert.equal(v.isGso, true);
    assert.equal(v.hdrLen, 0x36);
    assert.equal(v.gsoSize, 1448);
    assert.equal(v.csumStart, 34);
    assert.equal(v.csumOffset, 16);
    v.gsoSize = 0x1234;
    assert.deepEqual([buf[4], buf[5]], [0x34, 0x12]);
    v.clear();
    assert.deepEqual([...buf], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x45]);
    assert.equal(v.isGso, false);
  });
});

describe("PacketView on valid packets", () => {
  it("binds TCP fields in place and reflects setters in the buffer", () => {
    const rng = new Rng(SEED);
    const buf = buildPacket(rng, {
      proto: 6,
      payloadLen: 101,
      ipOptionsLen: 8,
      tcpOptionsLen: 12,
      src: CLIENT,
      dst: VIP,
      sport: 40000,
      dport: 80,
    });
    const l4 = IP + 28;
    put32(buf, l4 + 4, 0xfedcba98);
    put32(buf, l4 + 8, 0x80000001);
    buf[l4 + 13] = TCP_SYN | TCP_ACK;
    put16(buf, l4 + 14, 65535);
    const pv = new PacketView();
    assert.equal(pv.parse(buf, buf.length), 0);
    assert.equal(pv.l4Present, true);
    const { ip, tcp } = pv;
    assert.equal(ip.version, 4);
    assert.equal(ip.ihl, 7);
    assert.equal(ip.headerLength, 28);
    assert.equal(ip.totalLength, 28 + 32 + 101);
    assert.equal(ip.src, CLIENT);
    assert.equal(ip.dst, VIP);
    assert.equal(ip.protocol, 6);
    assert.equal(ip.dontFragment, true);
    assert.equal(ip.isFragment, false);
    assert.equal(ip.l4Offset, l4);
    assert.equal(ip.l4Length, 32 + 101);
    assert.equal(pv.packetEnd, buf.length);
    assert.equal(ip.checksum, refIpChecksum(buf));
    assert.equal(ip.computeChecksum(), ip.checksum);
    assert.equal(ip.checksumValid(), true);
    assert.equal(tcp.srcPort, 40000);
    assert.equal(tcp.dstPort, 80);
    assert.equal(tcp.seq, 0xfedcba98);
    assert.equal(tcp.ack, 0x80000001);
    assert.equal(tcp.dataOffset, 8);
    assert.equal(tcp.headerLength, 32);
    assert.equal(tcp.optionsOffset, l4 + 20);
    assert.equal(tcp.optionsLength, 12);
    assert.equal(tcp.payloadOffset, l4 + 32);
    assert.equal(tcp.payloadLength, 101);
    assert.equal(tcp.flags, TCP_SYN | TCP_ACK);
    assert.equal(tcp.window, 65535);
    tcp.seq = 0xffffffff;
    tcp.dstPort = 8000;
    ip.dst = RS;
    ip.ttl = 63;
    assert.equal(get32(buf, l4 + 4), 0xffffffff);
    assert.equal(u16(buf, l4 + 2), 8000);
    assert.equal(get32(buf, IP + 16), RS);
    assert.equal(buf[IP + 8], 63);
    assert.equal(tcp.seq, 0xffffffff);
  });

  it("rewrites through the views with incremental checksums equal to a full recompute", () => {
    const rng = new Rng(SEED + 1);
    const pv = new PacketView();
    for (let i = 0; i < 3000; i++) {
      const proto = rng.int(2) === 0 ? 6 : 17;
      const buf = buildPacket(rng, { proto, payloadLen: rng.int(700), src: CLIENT, dst: VIP });
      assert.equal(pv.parse(buf, buf.length), 0);
      const ip = pv.ip;
      const l4 = proto === 6 ? pv.tcp : pv.udp;
      assert.equal(pv.computeL4Checksum(), l4.checksum, "builder and view agree before");
      const newAddr = rng.u32();
      const newPort = rng.int(0x10000);
      const oldAddr = ip.dst;
      const oldPort = l4.dstPort;
      ip.dst = newAddr;
      l4.dstPort = newPort;
      ip.checksum = checksumReplace32(ip.checksum, oldAddr, newAddr);
      l4.checksum = proto === 6
        ? checksumReplace16(checksumReplace32(l4.checksum, oldAddr, newAddr), oldPort, newPort)
        : udpChecksumReplace16(
          udpChecksumReplace32(l4.checksum, oldAddr, newAddr),
          oldPort,
          newPort,
        );
      assert.equal(ip.checksum, ip.computeChecksum());
      assert.equal(ip.checksum, refIpChecksum(buf));
      assert.equal(l4.checksum, pv.computeL4Checksum());
      const csumAt = proto === 6 ? ip.l4Offset + 16 : ip.l4Offset + 6;
      const ref = ~refL4Sum(buf, csumAt, ip.l4Length) & 0xffff;
      assert.equal(l4.checksum, proto === 17 && ref === 0 ? 0xffff : ref);
    }
  });

  it("binds UDP and ICMP, and the header embedded in an ICMP error", () => {
    const rng = new Rng(SEED + 2);
    const pv = new PacketView();
    const udpBuf = buildPacket(rng, { proto: 17, payloadLen: 13, sport: 5353, dport: 53 });
    assert.equal(pv.parse(udpBuf, udpBuf.length), 0);
    assert.equal(pv.udp.srcPort, 5353);
    assert.equal(pv.udp.dstPort, 53);
    assert.equal(pv.udp.udpLength, 21);
    assert.equal(pv.udp.payloadLength, 13);
    assert.equal(pv.udp.payloadOffset, IP + 28);

    // ICMP port unreachable quoting a TCP segment: outer IP, ICMP, inner IP + 8 bytes.
    const inner = buildPacket(rng, {
      proto: 6,
      payloadLen: 50,
      src: RS,
      dst: CLIENT,
      sport: 80,
      dport: 40000,
    });
    const quoted = inner.subarray(IP, IP + 28);
    const buf = buildPacket(rng, { proto: 1, payloadLen: quoted.length, src: CLIENT, dst: RS });
    buf[IP + 20] = ICMP_DEST_UNREACH;
    buf[IP + 21] = ICMP_PORT_UNREACH;
    buf.set(quoted, IP + 28);
    assert.equal(pv.parse(buf, buf.length), 0);
    const icmp = pv.icmp;
    assert.equal(icmp.type, ICMP_DEST_UNREACH);
    assert.equal(icmp.code, ICMP_PORT_UNREACH);
    assert.equal(icmp.isError, true);
    icmp.checksum = icmp.computeChecksum();
    const w = words(buf, IP + 20, icmp.length);
    assert.equal(refFold(w), 0xffff, "ICMP checksum verifies");
    assert.equal(pv.computeL4Checksum(), icmp.checksum);
    assert.equal(icmp.embeddedOffset, IP + 28);
    assert.equal(icmp.embeddedLength, 28);
    const innerIp = new Ipv4View();
    // The quoted header's total length (90) exceeds the 28 bytes quoted: bind() refuses,
    // bindHeader() accepts.
    assert.equal(
      innerIp.bind(buf, icmp.embeddedOffset, icmp.embeddedLength),
      PacketError.TOTAL_LENGTH_BEYOND_BUFFER,
    );
    assert.equal(innerIp.bindHeader(buf, icmp.embeddedOffset, icmp.embeddedLength), 0);
    assert.equal(innerIp.src, RS);
    assert.equal(innerIp.dst, CLIENT);
    const innerTcp = new TcpView();
    assert.equal(innerTcp.bind(buf, innerIp.l4Offset, 8), PacketError.TRUNCATED_L4);
    innerTcp.attach(buf, innerIp.l4Offset, 8);
    assert.equal(innerTcp.srcPort, 80);
    assert.equal(innerTcp.dstPort, 40000);
    const innerUdp = new UdpView();
    innerUdp.attach(buf, innerIp.l4Offset, 8);
    innerUdp.srcPort = 8000;
    assert.equal(innerTcp.srcPort, 8000, "views share the buffer");

    const echo = buildPacket(rng, { proto: 1, payloadLen: 56 });
    echo[IP + 20] = ICMP_ECHO;
    put32(echo, IP + 24, 0x12340007);
    assert.equal(pv.parse(echo, echo.length), 0);
    assert.equal(pv.icmp.isError, false);
    assert.equal(pv.icmp.identifier, 0x1234);
    assert.equal(pv.icmp.sequence, 7);
    assert.equal(pv.icmp.restOfHeader, 0x12340007);
  });

  it("accepts trailing bytes past the total length and fragments", () => {
    const rng = new Rng(SEED + 3);
    const pv = new PacketView();
    const buf = buildPacket(rng, { proto: 6, payloadLen: 10 });
    const padded = new Uint8Array(buf.length + 30);
    padded.set(buf);
    assert.equal(pv.parse(padded, padded.length), 0);
    assert.equal(pv.packetEnd, buf.length);
    assert.equal(pv.parse(padded, 1_000_000), 0, "length beyond the buffer is clamped");
    assert.equal(pv.length, padded.length);

    // Non-first fragment with 3 bytes of payload: OK, no L4 view.
    const frag = buildPacket(rng, { proto: 17, payloadLen: 0, fragWord: 0x2000 | 185 });
    const short = frag.subarray(0, IP + 23);
    put16(short, IP + 2, 23);
    expectParse(pv, short, short.length, 0);
    assert.equal(pv.l4Present, false);
    assert.equal(pv.ip.fragmentOffset, 185);
    assert.equal(pv.ip.isFragment, true);

    // First fragment of a UDP datagram: the UDP length covers more than this fragment.
    const first = buildPacket(rng, { proto: 17, payloadLen: 100, fragWord: 0x2000 });
    put16(first, IP + 24, 3000);
    expectParse(pv, first, first.length, 0);
    assert.equal(pv.l4Present, true);
    assert.equal(pv.ip.moreFragments, true);
    put16(first, IP + 6, 0);
    expectParse(pv, first, first.length, PacketError.TRUNCATED_L4);
  });
});

describe("PacketView rejects malformed packets", () => {
  const rng = new Rng(SEED + 4);
  const pv = new PacketView();
  const tcp = () => buildPacket(rng, { proto: 6, payloadLen: 40 });
  const E = PacketError;

  it("names every reason distinctly", () => {
    const names = Object.values(E).map(packetErrorName);
    assert.equal(new Set(names).size, names.length);
    assert.match(packetErrorName(63), /63/);
  });

  it("reports each reason", () => {
    let b = tcp();
    expectParse(pv, b, 9, E.TRUNCATED_VNET);
    expectParse(pv, b, Number.NaN, E.TRUNCATED_VNET);
    expectParse(pv, b, 10 + 19, E.TRUNCATED_IP);
    b[IP] = 0x46; // IHL 6 but only 20 bytes present
    expectParse(pv, b, 10 + 20, E.TRUNCATED_IP);
    b = tcp();
    b[IP] = 0x65;
    expectParse(pv, b, b.length, E.BAD_VERSION);
    b[IP] = 0x44;
    expectParse(pv, b, b.length, E.BAD_IHL);
    b = tcp();
    put16(b, IP + 2, 19);
    expectParse(pv, b, b.length, E.TOTAL_LENGTH_TOO_SHORT);
    put16(b, IP + 2, b.length - 10 + 1);
    expectParse(pv, b, b.length, E.TOTAL_LENGTH_BEYOND_BUFFER);
    b = tcp();
    b[IP + 9] = 47; // GRE
    expectParse(pv, b, b.length, E.UNSUPPORTED_PROTOCOL);
    assert.equal(pv.ip.protocol, 47, "the IPv4 view stays bound");
    assert.equal(pv.l4Present, false);
  });

  it("reports TRUNCATED_L4 for each L4 inconsistency", () => {
    let b = tcp();
    put16(b, IP + 2, 20 + 19);
    expectParse(pv, b, b.length, E.TRUNCATED_L4);
    b = tcp();
    b[IP + 32] = 4 << 4; // data offset 4
    expectParse(pv, b, b.length, E.TRUNCATED_L4);
    b[IP + 32] = 15 << 4; // 60 bytes > 60 available? segment is 60 bytes: fits
    expectParse(pv, b, b.length, 0);
    put16(b, IP + 2, 20 + 59);
    expectParse(pv, b, b.length, E.TRUNCATED_L4);
    b = buildPacket(rng, { proto: 17, payloadLen: 20 });
    put16(b, IP + 2, 20 + 7);
    expectParse(pv, b, b.length, E.TRUNCATED_L4);
    b = buildPacket(rng, { proto: 17, payloadLen: 20 });
    put16(b, IP + 24, 7);
    expectParse(pv, b, b.length, E.TRUNCATED_L4);
    put16(b, IP + 24, 29);
    expectParse(pv, b, b.length, E.TRUNCATED_L4);
    put16(b, IP + 24, 27); // shorter than the IP payload: padding, accepted
    expectParse(pv, b, b.length, 0);
    b = buildPacket(rng, { proto: 1, payloadLen: 0 });
    put16(b, IP + 2, 27);
    expectParse(pv, b, b.length, E.TRUNCATED_L4);
  });

  it("classifies every truncation of valid packets", () => {
    for (let i = 0; i < 300; i++) {
      const proto = ([6, 17, 1] as const)[i % 3]!;
      const b = buildPacket(rng, {
        proto,
        payloadLen: rng.int(60),
        ipOptionsLen: 4 * rng.int(4),
        tcpOptionsLen: 4 * rng.int(11),
      });
      for (let len = 0; len < b.length; len++) {
        const want = classify(b, len);
        // Cut the buffer itself too, so reads past `length` would show up as errors.
        expectParse(pv, b.subarray(0, len), len, want.code);
        assert.ok(want.code !== 0, "a cut packet is never OK");
      }
      // Shrinking the total length instead: the L4 header is what gets cut.
      const tot = u16(b, IP + 2);
      const hl = (b[IP]! & 15) * 4;
      for (let t = hl; t <= tot; t++) {
        put16(b, IP + 2, t);
        const want = classify(b, b.length);
        expectParse(pv, b, b.length, want.code);
        assert.equal(pv.l4Present, want.l4);
      }
    }
  });

  it("never throws on 100,000 random and mutated buffers, and agrees with the classifier", () => {
    const r = new Rng(SEED + 5);
    const seen = new Map<number, number>();
    const scratch = new Uint8Array(2048);
    for (let i = 0; i < 100000; i++) {
      let buf: Uint8Array;
      let length: number;
      const kind = r.int(3);
      if (kind === 0) {
        length = r.int(200);
        buf = scratch.subarray(0, length);
        r.bytes(buf, 0, length);
        if (r.int(2) === 0 && length > 10) buf[IP] = 0x40 | (buf[IP]! & 15);
      } else {
        const proto = ([6, 17, 1, 47] as const)[r.int(4)]!;
        buf = buildPacket(r, {
          proto: proto === 47 ? 6 : proto,
          payloadLen: r.int(100),
          ipOptionsLen: 4 * r.int(3),
          tcpOptionsLen: 4 * r.int(4),
          fragWord: r.int(5) === 0 ? r.int(0x10000) : 0,
        });
        if (proto === 47) buf[IP + 9] = 47;
        const flips = 1 + r.int(4);
        for (let f = 0; f < flips; f++) {
          // Mutate mostly the headers, where the parser looks.
          const at = r.int(3) === 0 ? r.int(buf.length) : IP + r.int(Math.min(60, buf.length - IP));
          buf[at] = kind === 1 ? r.u32() & 0xff : buf[at]! ^ (1 << r.int(8));
        }
        length = r.int(4) === 0 ? r.int(buf.length + 1) : buf.length;
      }
      const want = classify(buf, length);
      let got: number;
      try {
        got = pv.parse(buf, length);
      } catch (e) {
        assert.fail(`seed ${SEED + 5} buffer ${i} threw: ${e}`);
      }
      assert.equal(got, want.code, `seed ${SEED + 5} buffer ${i}`);
      seen.set(got, (seen.get(got) ?? 0) + 1);
      if (got === 0) {
        assert.equal(pv.l4Present, want.l4);
        assert.ok(pv.packetEnd <= length);
        const ip = pv.ip;
        assert.ok(ip.headerLength >= 20 && ip.l4Offset + ip.l4Length === pv.packetEnd);
        if (pv.l4Present && ip.protocol === 6) {
          assert.ok(pv.tcp.payloadOffset <= pv.packetEnd && pv.tcp.optionsLength >= 0);
        }
        if (pv.l4Present && ip.protocol === 17 && !ip.moreFragments) {
          assert.ok(ip.l4Offset + pv.udp.udpLength <= pv.packetEnd);
        }
        // Reading every field of every bound view yields numbers.
        assert.ok(Number.isInteger(ip.src + ip.dst + ip.id + ip.ttl + ip.computeChecksum()));
        if (pv.l4Present) assert.ok(Number.isInteger(pv.computeL4Checksum()));
      }
    }
    for (const code of Object.values(PacketError)) {
      assert.ok((seen.get(code) ?? 0) > 0, `random inputs never produced ${packetErrorName(code)}`);
    }
  });
});
