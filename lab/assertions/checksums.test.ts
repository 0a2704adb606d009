import { test } from "node:test";
import assert from "node:assert/strict";
import { assertChecksums } from "./checksums.ts";
import { buildIpv4, decodeRecords } from "../analysis/test-support.ts";
import { LINKTYPE_RAW } from "../analysis/decode.ts";
import { threeConnections } from "./fixtures.test-support.ts";

test("correct checksums pass; one bad TCP checksum on the private network fails there only", () => {
  const good = threeConnections();
  const ok = assertChecksums(good.private, "private network");
  assert.equal(ok.passed, true, ok.line);
  assert.equal(
    ok.line,
    "PASS: all 24 packets on the private network have correct IP and TCP/UDP/ICMP checksums, " +
      "recomputed in full",
  );
  const bad = threeConnections((s, seg, i) =>
    seg === "private" && i === 4 ? { ...s, badL4Checksum: true } : s
  );
  const r = assertChecksums(bad.private, "private network");
  assert.equal(r.passed, false);
  assert.match(
    r.line,
    /^FAIL: 1 of 24 packets on the private network have a wrong checksum \(first: #\d+ 172.16.0.3:8000 -> 198.51.100.2:40002 TCP P\. \d+ bytes: TCP checksum wrong\)$/,
  );
  assert.equal(assertChecksums(bad.public, "client network").passed, true);
});

test("a bad IP header checksum fails; fragments are named as not checked", () => {
  const ipBad = threeConnections((s, seg, i) =>
    seg === "public" && i === 0 ? { ...s, badIpChecksum: true } : s
  );
  const r = assertChecksums(ipBad.public, "client network");
  assert.equal(r.passed, false);
  assert.match(r.line, /IP header checksum wrong/);

  const frag = buildIpv4({
    src: "198.51.100.2",
    dst: "203.0.113.5",
    protocol: "udp",
    fragmentOffset: 1480,
    df: false,
    payload: new Uint8Array(100),
  });
  const f = assertChecksums(decodeRecords([{ time: 1, data: frag }], LINKTYPE_RAW), "tun");
  assert.equal(f.passed, true, f.line);
  assert.match(f.line, /1 packet not checked at L4: a non-first fragment/);
  assert.equal(assertChecksums([], "tun").passed, false);
});
