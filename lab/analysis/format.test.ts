import { test } from "node:test";
import assert from "node:assert/strict";
import { describePacket, formatPacket, formatPair, formatSourceDest } from "./format.ts";
import { buildIcmpError, buildIpv4, decodeRecords } from "./test-support.ts";
import { LINKTYPE_RAW } from "./decode.ts";

const [syn, data, udp, icmp] = decodeRecords(
  [
    buildIpv4({
      src: "192.0.2.1",
      dst: "203.0.113.5",
      protocol: "tcp",
      srcPort: 3456,
      dstPort: 80,
      flags: "S",
    }),
    buildIpv4({
      src: "203.0.113.5",
      dst: "192.0.2.1",
      protocol: "tcp",
      srcPort: 80,
      dstPort: 3456,
      flags: "P.",
      payload: "abc",
    }),
    buildIpv4({ src: "192.0.2.1", dst: "203.0.113.5", protocol: "udp", srcPort: 5, dstPort: 9000 }),
    buildIcmpError("203.0.113.5", "192.0.2.1", 3, 3, new Uint8Array(28)),
  ].map((data, i) => ({ time: i, data })),
  LINKTYPE_RAW,
);

test("packets print as SOURCE/DEST, one-liners and short descriptions", () => {
  assert.equal(formatSourceDest(syn), "SOURCE 192.0.2.1:3456 DEST 203.0.113.5:80");
  assert.equal(formatSourceDest(icmp), "SOURCE 203.0.113.5 DEST 192.0.2.1");
  assert.equal(formatPacket(syn), "#1 192.0.2.1:3456 -> 203.0.113.5:80 TCP S");
  assert.equal(describePacket(data), "TCP P. 3 bytes");
  assert.equal(describePacket(udp), "UDP 0 bytes");
  assert.equal(describePacket(icmp), "ICMP 3/3");
});

test("a pair prints before and after, aligned, with or without notes", () => {
  const pair = {
    direction: "to-server" as const,
    public: syn,
    private: udp,
    before: syn,
    after: udp,
  };
  assert.equal(
    formatPair(pair, { annotate: false }),
    "before: SOURCE 192.0.2.1:3456 DEST 203.0.113.5:80\nafter:  SOURCE 192.0.2.1:5 DEST 203.0.113.5:9000",
  );
  const lines = formatPair(pair, { publicName: "public", privateName: "private" }).split("\n");
  assert.equal(lines[0], "before: SOURCE 192.0.2.1:3456 DEST 203.0.113.5:80  (public #1, TCP S)");
  assert.equal(
    lines[1],
    "after:  SOURCE 192.0.2.1:5 DEST 203.0.113.5:9000   (private #3, UDP 0 bytes)",
  );
});
