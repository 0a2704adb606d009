import { test } from "node:test";
import assert from "node:assert/strict";
import { parseConnectionTable } from "./conn-table.ts";

test("reads ipvsadm -L -n -c lines into entries with seconds left", () => {
  const entries = parseConnectionTable(`IPVS connection entries
pro expire state       source             virtual            destination
TCP 14:59  ESTABLISHED 198.51.100.2:40312 203.0.113.5:80     172.16.0.3:8000
UDP 04:03  UDP         198.51.100.2:20001 203.0.113.5:9000   172.16.0.2:9000
`);
  assert.deepEqual(entries, [
    {
      protocol: "tcp",
      expireSeconds: 899,
      state: "ESTABLISHED",
      source: "198.51.100.2:40312",
      virtual: "203.0.113.5:80",
      destination: "172.16.0.3:8000",
    },
    {
      protocol: "udp",
      expireSeconds: 243,
      state: "UDP",
      source: "198.51.100.2:20001",
      virtual: "203.0.113.5:9000",
      destination: "172.16.0.2:9000",
    },
  ]);
  assert.deepEqual(
    parseConnectionTable("IPVS connection entries\npro expire state source virtual destination\n"),
    [],
  );
});

test("something else than the listing is refused with a sentence", () => {
  assert.throws(
    () => parseConnectionTable("Memory allocation problem\n"),
    /printed something else/,
  );
  assert.throws(
    () => parseConnectionTable("IPVS connection entries\npro expire state\nTCP xx ESTABLISHED\n"),
    /cannot read the connection entry 'TCP xx ESTABLISHED'/,
  );
});
