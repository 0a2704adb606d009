// `lvslab demo --method dr`'s packet lines: MACs named by host, the IP header in the article's
// SOURCE/DEST form with TTL, before and after the director, replies straight to the router.
import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeRecords } from "../analysis/test-support.ts";
import { DR_LINKS, DR_VIP, drConnection } from "../analysis/dr-test-support.ts";
import { buildDrView, drRoles } from "../assertions/direct-routing.ts";
import { formatDrConnections } from "./dr-pairs.ts";

test("one DR connection: each frame before and after the director, each reply from rs2", () => {
  const c = drConnection({ clientPort: 33490, server: "rs2", t0: 1 });
  const view = buildDrView(
    decodeRecords(c.public),
    decodeRecords(c.lan),
    new Map([["rs2", decodeRecords(c.servers.rs2)]]),
    drRoles(DR_LINKS, "lan"),
    [{ protocol: "tcp", vip: DR_VIP, port: 80, servers: [] }],
  );
  const lines = formatDrConnections(view);
  assert.deepEqual(lines.slice(0, 8), [
    "MACs on the LAN: router 02:00:00:00:02:fe, director 02:00:00:00:02:fd, " +
    "rs1 02:00:00:00:02:02, rs2 02:00:00:00:02:03",
    "connection 1: client 198.51.100.2:33490 -> VIP 203.0.113.5:80 -> rs2",
    "  client->rs2  TCP S",
    "    before  MAC src router   dst director  SOURCE 198.51.100.2:33490 DEST 203.0.113.5:80 TTL 63",
    "    after   MAC src director dst rs2       SOURCE 198.51.100.2:33490 DEST 203.0.113.5:80 TTL 62",
    "  rs2->client  TCP S.  (rs2 -> router -> client, not through the director)",
    "    reply   MAC src rs2      dst router    SOURCE 203.0.113.5:80 DEST 198.51.100.2:33490 TTL 64",
    "  client->rs2  TCP .",
  ]);
  // 5 client packets (3 lines each) and 3 replies (2 lines each) after the two headers.
  assert.equal(lines.length, 2 + 5 * 3 + 3 * 2);
  assert.deepEqual(formatDrConnections(view, { maxConnections: 0 }).slice(1), [
    "... and 1 more connections (see the pcaps)",
  ]);
  const short = formatDrConnections(view, { maxPackets: 2 });
  assert.equal(short.length, 2 + 3 + 2 + 1);
  assert.equal(short.at(-1), "  ... and 6 more packets");
});

test("a packet the director did not send on says so", () => {
  const c = drConnection({ clientPort: 33490, server: "rs1", t0: 1 });
  c.lan.splice(1, 1); // the director's copy of the SYN
  const view = buildDrView(
    decodeRecords(c.public),
    decodeRecords(c.lan),
    new Map([["rs1", decodeRecords(c.servers.rs1)]]),
    drRoles(DR_LINKS, "lan"),
    [{ protocol: "tcp", vip: DR_VIP, port: 80, servers: [] }],
  );
  const lines = formatDrConnections(view);
  assert.equal(lines[2], "  client->nobody  TCP S");
  assert.equal(lines[4], "    after   (not sent on)");
});
