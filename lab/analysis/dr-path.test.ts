import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeRecords } from "./test-support.ts";
import { DR_LINKS, DR_MAC, DR_VIP, drConnection } from "./dr-test-support.ts";
import { answeringServers, compareDrCopy, traceDirectRouting } from "./dr-path.ts";
import { drRoles } from "../assertions/direct-routing.ts";

test("Ethernet MACs are decoded; every client packet is traced to both copies on the LAN", () => {
  const c = drConnection({ clientPort: 40001, server: "rs2", t0: 1 });
  const pub = decodeRecords(c.public);
  const lan = decodeRecords(c.lan);
  assert.equal(pub[0].srcMac, DR_MAC.client);
  assert.equal(pub[0].dstMac, DR_MAC.routerPublic);
  const path = traceDirectRouting(pub, lan, drRoles(DR_LINKS, "lan"), {
    vips: new Set([DR_VIP]),
  });
  assert.equal(path.hops.length, 5);
  for (const h of path.hops) {
    assert.equal(h.arrived?.srcMac, DR_MAC.routerLan);
    assert.equal(h.left?.dstMac, DR_MAC.rs2);
    assert.deepEqual([h.public.ttl, h.arrived!.ttl, h.left!.ttl], [64, 63, 62]);
    assert.equal(compareDrCopy(h.arrived!, h.left!), null);
  }
  assert.deepEqual(path.strayLeft, []);
  const servers = new Map([["rs2", decodeRecords(c.servers.rs2)]]);
  assert.deepEqual(
    [...answeringServers(servers, new Set([DR_VIP]))],
    [["tcp 198.51.100.2:40001 203.0.113.5:80 1000", ["rs2"]]],
  );
});

test("a raw-IP capture (the TUN) has no MACs", () => {
  const c = drConnection({ clientPort: 40001, server: "rs1", t0: 1 });
  const [p] = decodeRecords([{ time: 1, data: c.public[0].data.subarray(14) }], 101);
  assert.equal(p.srcMac, null);
  assert.equal(p.dstMac, null);
  assert.equal(p.ipBytes.length, p.totalLength);
});
