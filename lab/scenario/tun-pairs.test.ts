import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeRecords } from "../analysis/test-support.ts";
import { TUN_LINKS, TUN_VIP, tunConnection } from "../analysis/tun-test-support.ts";
import { buildTunView, tunRoles } from "../assertions/tunnel.ts";
import { formatTunConnections } from "./tun-pairs.ts";

test("each client packet shows before the director and as its tunnel packet after it", () => {
  const c = tunConnection({ clientPort: 40001, server: "rs1", t0: 1 });
  const view = buildTunView(
    decodeRecords(c.public),
    decodeRecords(c.director),
    new Map(Object.entries(c.servers).map(([h, r]) => [h, decodeRecords(r)])),
    tunRoles(TUN_LINKS),
    [{ protocol: "tcp", vip: TUN_VIP, port: 80, servers: [] }],
  );
  const lines = formatTunConnections(view);
  assert.equal(lines[0], "director 172.16.1.2; real servers rs1 172.16.2.2, rs2 172.16.3.2");
  assert.equal(lines[1], "connection 1: client 198.51.100.2:40001 -> VIP 203.0.113.5:80 -> rs1");
  assert.deepEqual(lines.slice(2, 5), [
    "  client->rs1  TCP S",
    "    before  SOURCE 198.51.100.2:40001 DEST 203.0.113.5:80 TTL 63",
    "    after   OUTER 172.16.1.2 -> 172.16.2.2 (rs1) IPIP TTL 62 DF | INNER SOURCE " +
    "198.51.100.2:40001 DEST 203.0.113.5:80 TTL 62",
  ]);
  assert.deepEqual(lines.slice(5, 7), [
    "  rs1->client  TCP S.  (rs1 -> router -> client, not through the director)",
    "    reply   SOURCE 203.0.113.5:80 DEST 198.51.100.2:40001 TTL 64",
  ]);
});

test("a GRE tunnel packet names GRE and whether its checksum is there", () => {
  for (const [checksum, label] of [[true, "GRE csum"], [false, "GRE"]] as const) {
    const c = tunConnection({
      clientPort: 40002,
      server: "rs2",
      t0: 1,
      vport: 8080,
      tunnel: { type: "gre", checksum },
    });
    const view = buildTunView(
      decodeRecords(c.public),
      decodeRecords(c.director),
      new Map(Object.entries(c.servers).map(([h, r]) => [h, decodeRecords(r)])),
      tunRoles(TUN_LINKS),
      [{ protocol: "tcp", vip: TUN_VIP, port: 8080, servers: [] }],
    );
    assert.equal(
      formatTunConnections(view)[4],
      `    after   OUTER 172.16.1.2 -> 172.16.3.2 (rs2) ${label} TTL 62 DF | INNER SOURCE ` +
        "198.51.100.2:40002 DEST 203.0.113.5:8080 TTL 62",
    );
  }
});
