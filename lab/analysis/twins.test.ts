import { test } from "node:test";
import assert from "node:assert/strict";
import { matchTwins } from "./twins.ts";
import { formatPair } from "./format.ts";
import { decodeRecords, mergeConversations, natConnection } from "./test-support.ts";

const base = {
  client: "198.51.100.2",
  vip: "203.0.113.5",
  vport: 80,
  server: "172.16.0.3",
  serverPort: 8000,
};

test("every packet of NAT connections finds its twin, both directions, in the article's form", () => {
  const conv = mergeConversations([
    natConnection({ ...base, clientPort: 3456, t0: 1, ipId: 10 }),
    // Same IP ids and ISNs on another client port, interleaved in time: ports tell them apart.
    natConnection({ ...base, clientPort: 3457, t0: 1.0001, ipId: 10, server: "172.16.0.2" }),
  ]);
  const pub = decodeRecords(conv.public);
  const priv = decodeRecords(conv.private);
  const r = matchTwins(pub, priv, { vip: "203.0.113.5" });
  assert.equal(r.pairs.length, 16);
  assert.equal(r.unmatchedPublic.length, 0);
  assert.equal(r.unmatchedPrivate.length, 0);
  for (const pair of r.pairs) {
    assert.equal(pair.public.ipId, pair.private.ipId);
    const clientPort = pair.direction === "to-server" ? pair.public.srcPort : pair.public.dstPort;
    const privPort = pair.direction === "to-server" ? pair.private.srcPort : pair.private.dstPort;
    assert.equal(clientPort, privPort);
  }
  const syn = r.pairs.find((p) => p.public.tcp!.flagText === "S" && p.public.srcPort === 3456)!;
  assert.equal(syn.direction, "to-server");
  assert.equal(
    formatPair(syn, { annotate: false }),
    "before: SOURCE 198.51.100.2:3456 DEST 203.0.113.5:80\n" +
      "after:  SOURCE 198.51.100.2:3456 DEST 172.16.0.3:8000",
  );
  const reply = r.pairs.find((p) => p.direction === "to-client" && p.public.dstPort === 3456)!;
  assert.equal(
    formatPair(reply, { annotate: false }),
    "before: SOURCE 172.16.0.3:8000 DEST 198.51.100.2:3456\n" +
      "after:  SOURCE 203.0.113.5:80 DEST 198.51.100.2:3456",
  );
  assert.match(formatPair(reply), /\(private network #\d+, TCP S\.\)\n.*\(client network #\d+/);
});

test("a packet whose client port was changed, or that came too late, has no twin", () => {
  const conv = natConnection({
    ...base,
    clientPort: 3456,
    t0: 1,
    tamper: (s, seg, i) => (seg === "private" && i === 3 ? { ...s, srcPort: 9999 } : s),
  });
  const pub = decodeRecords(conv.public);
  const priv = decodeRecords(conv.private);
  const r = matchTwins(pub, priv, { vip: "203.0.113.5" });
  assert.equal(r.unmatchedPublic.length, 1);
  assert.equal(r.unmatchedPublic[0].tcp!.flagText, "P.");
  assert.equal(r.unmatchedPrivate.length, 1);
  assert.equal(r.unmatchedPrivate[0].srcPort, 9999);

  const late = priv.map((p) => ({ ...p, time: p.time + 5 }));
  const r2 = matchTwins(pub, late, { vip: "203.0.113.5", windowMs: 1000 });
  // Inbound twins 5 s late are outside the window; outbound ones are then 5 s after their
  // public copy, which cannot be.
  assert.equal(r2.pairs.length, 0);
  assert.equal(r2.unmatchedPublic.length, 8);
});

test("loose matching tolerates a payload change (an application helper), strict does not", () => {
  const conv = natConnection({
    ...base,
    clientPort: 3456,
    t0: 1,
    tamper: (s, seg, i) => (seg === "private" && i === 3 ? { ...s, payload: "PORT 1,2,3" } : s),
  });
  const pub = decodeRecords(conv.public);
  const priv = decodeRecords(conv.private);
  assert.equal(matchTwins(pub, priv, { vip: "203.0.113.5" }).unmatchedPublic.length, 1);
  assert.equal(matchTwins(pub, priv, { vip: "203.0.113.5", loose: true }).pairs.length, 8);
});
