import { test } from "node:test";
import assert from "node:assert/strict";
import {
  decodeFrame,
  LINKTYPE_ETHERNET,
  LINKTYPE_IPV4,
  LINKTYPE_LINUX_SLL,
  LINKTYPE_RAW,
} from "./decode.ts";
import type { Packet } from "./packet.ts";
import { buildIcmpError, buildIpv4, ethernetFrame } from "./test-support.ts";

const META = { index: 7, time: 1000.5, originalLength: 0 };

function decode(linkType: number, frame: Uint8Array, originalLength = frame.length): Packet {
  const r = decodeFrame(linkType, frame, { ...META, originalLength });
  if (!("packet" in r)) throw new Error(`skipped: ${r.skipped}`);
  return r.packet;
}

test("a TCP SYN in an Ethernet frame decodes with addresses, ports, flags and checksums", () => {
  const ip = buildIpv4({
    src: "198.51.100.2",
    dst: "203.0.113.5",
    protocol: "tcp",
    srcPort: 3456,
    dstPort: 80,
    flags: "S",
    seq: 0xfffffff0,
    ipId: 4242,
    ttl: 63,
  });
  const p = decode(LINKTYPE_ETHERNET, ethernetFrame(ip));
  assert.equal(p.index, 7);
  assert.equal(p.time, 1000.5);
  assert.equal(p.src, "198.51.100.2");
  assert.equal(p.dst, "203.0.113.5");
  assert.equal(p.protocol, "tcp");
  assert.equal(p.srcPort, 3456);
  assert.equal(p.dstPort, 80);
  assert.equal(p.ipId, 4242);
  assert.equal(p.ttl, 63);
  assert.equal(p.dontFragment, true);
  assert.equal(p.tcp!.flagText, "S");
  assert.equal(p.tcp!.seq, 0xfffffff0);
  assert.equal(p.payloadLength, 0);
  assert.equal(p.ipChecksumOk, true);
  assert.equal(p.l4ChecksumOk, true);
  assert.equal(p.l4ChecksumNote, null);
});

test("payload bytes and length come through; Ethernet padding is not payload", () => {
  const ip = buildIpv4({
    src: "172.16.0.3",
    dst: "198.51.100.2",
    protocol: "tcp",
    srcPort: 8000,
    dstPort: 3456,
    flags: "P.",
    payload: "hi",
  });
  const frame = new Uint8Array(60); // minimum Ethernet frame: 42 + 2 bytes, rest padding
  frame.set(ethernetFrame(ip));
  const p = decode(LINKTYPE_ETHERNET, frame);
  assert.equal(p.payloadLength, 2);
  assert.equal(new TextDecoder().decode(p.payload), "hi");
  assert.equal(p.tcp!.flagText, "P.");
  assert.equal(p.l4ChecksumOk, true);
});

test("a wrong IP checksum and a wrong TCP checksum are both reported", () => {
  const spec = {
    src: "198.51.100.2",
    dst: "172.16.0.2",
    protocol: "tcp" as const,
    srcPort: 1,
    dstPort: 80,
    payload: "x",
  };
  const badIp = decode(LINKTYPE_RAW, buildIpv4({ ...spec, badIpChecksum: true }));
  assert.equal(badIp.ipChecksumOk, false);
  assert.equal(badIp.l4ChecksumOk, true);
  const badTcp = decode(LINKTYPE_RAW, buildIpv4({ ...spec, badL4Checksum: true }));
  assert.equal(badTcp.ipChecksumOk, true);
  assert.equal(badTcp.l4ChecksumOk, false);
});

test("a partial (pseudo-header only) checksum, as offload leaves it, does not verify", () => {
  const b = buildIpv4({
    src: "198.51.100.2",
    dst: "203.0.113.5",
    protocol: "tcp",
    srcPort: 5,
    dstPort: 80,
    payload: "some bytes",
  });
  // Replace the full checksum with the folded pseudo-header sum (CHECKSUM_PARTIAL).
  let s = 0;
  for (let i = 12; i < 20; i += 2) s += b[i] * 256 + b[i + 1];
  s += 6 + (b.length - 20);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  b[36] = s >> 8;
  b[37] = s & 0xff;
  assert.equal(decode(LINKTYPE_RAW, b).l4ChecksumOk, false);
});

test("UDP: checksum 0 means none and is ok; a wrong one is not", () => {
  const spec = {
    src: "198.51.100.2",
    dst: "203.0.113.5",
    protocol: "udp" as const,
    srcPort: 4000,
    dstPort: 9000,
    payload: "ping",
  };
  const none = decode(LINKTYPE_IPV4, buildIpv4({ ...spec, udpNoChecksum: true }));
  assert.equal(none.l4ChecksumOk, true);
  assert.match(none.l4ChecksumNote!, /without checksum/);
  const good = decode(LINKTYPE_IPV4, buildIpv4(spec));
  assert.equal(good.l4ChecksumOk, true);
  assert.equal(good.payloadLength, 4);
  const bad = decode(LINKTYPE_IPV4, buildIpv4({ ...spec, badL4Checksum: true }));
  assert.equal(bad.l4ChecksumOk, false);
});

test("fragments and truncated captures are 'not checked' (null), with the reason", () => {
  const whole = buildIpv4({
    src: "198.51.100.2",
    dst: "203.0.113.5",
    protocol: "udp",
    srcPort: 4000,
    dstPort: 9000,
    payload: new Uint8Array(100),
  });
  const later = decode(
    LINKTYPE_RAW,
    buildIpv4({
      src: "198.51.100.2",
      dst: "203.0.113.5",
      protocol: "udp",
      fragmentOffset: 64,
      df: false,
      payload: new Uint8Array(44),
    }),
  );
  assert.equal(later.fragmentOffset, 64);
  assert.equal(later.srcPort, null);
  assert.equal(later.l4ChecksumOk, null);
  assert.match(later.l4ChecksumNote!, /non-first fragment/);

  const first = buildIpv4({
    src: "198.51.100.2",
    dst: "203.0.113.5",
    protocol: "udp",
    srcPort: 4000,
    dstPort: 9000,
    df: false,
    mf: true,
    payload: new Uint8Array(56),
  });
  const f = decode(LINKTYPE_RAW, first);
  assert.equal(f.moreFragments, true);
  assert.equal(f.srcPort, 4000);
  assert.equal(f.l4ChecksumOk, null);

  const cut = decode(LINKTYPE_RAW, whole.subarray(0, 60), whole.length);
  assert.equal(cut.l4ChecksumOk, null);
  assert.match(cut.l4ChecksumNote!, /part of the packet/);
  assert.equal(cut.payloadLength, 100);
  assert.equal(cut.payload.length, 32);
});

test("ICMP port unreachable: checksum verified and the quoted header decoded", () => {
  const offending = buildIpv4({
    src: "198.51.100.2",
    dst: "203.0.113.5",
    protocol: "udp",
    srcPort: 40000,
    dstPort: 9999,
    ipId: 77,
    payload: "hello",
  });
  const err = decode(
    LINKTYPE_RAW,
    buildIcmpError("203.0.113.5", "198.51.100.2", 3, 3, offending),
  );
  assert.equal(err.protocol, "icmp");
  assert.equal(err.icmp!.type, 3);
  assert.equal(err.icmp!.code, 3);
  assert.equal(err.l4ChecksumOk, true);
  assert.deepEqual(err.icmp!.quoted, {
    src: "198.51.100.2",
    dst: "203.0.113.5",
    protocol: "udp",
    protocolNumber: 17,
    srcPort: 40000,
    dstPort: 9999,
    ipId: 77,
  });
  const echo = decode(
    LINKTYPE_RAW,
    buildIpv4({
      src: "198.51.100.2",
      dst: "203.0.113.5",
      protocol: "icmp",
      icmpType: 8,
      icmpRest: 0x00120003,
    }),
  );
  assert.equal(echo.icmp!.id, 0x12);
  assert.equal(echo.icmp!.sequence, 3);
  assert.equal(echo.icmp!.quoted, null);
});

test("Linux cooked (SLL) frames decode; ARP and IPv6 are skipped with a reason", () => {
  const ip = buildIpv4({ src: "172.16.0.2", dst: "172.16.0.254", protocol: "icmp" });
  const sll = new Uint8Array(16 + ip.length);
  sll[14] = 0x08;
  sll.set(ip, 16);
  assert.equal(decode(LINKTYPE_LINUX_SLL, sll).src, "172.16.0.2");

  const arp = new Uint8Array(42);
  arp[12] = 0x08;
  arp[13] = 0x06;
  const r = decodeFrame(LINKTYPE_ETHERNET, arp, META);
  assert.ok("skipped" in r && /0x806/.test(r.skipped));
  const v6 = new Uint8Array(40);
  v6[0] = 0x60;
  const r6 = decodeFrame(LINKTYPE_RAW, v6, META);
  assert.ok("skipped" in r6 && /version 6/.test(r6.skipped));
});
