import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { collectHostLinks, parseIpLinkJson, readHostLinks, writeHostLinks } from "./host-links.ts";
import { topologyNamed } from "../topologies/index.ts";
import type { LabBackend } from "../backend.ts";

const IP_LINK = JSON.stringify([
  { ifindex: 1, ifname: "lo", address: "00:00:00:00:00:00", link_type: "loopback" },
  { ifindex: 2, ifname: "eth0", address: "02:AB:00:00:00:01", link_type: "ether" },
  { ifindex: 3, ifname: "lvs0", link_type: "none" },
]);

test("ip -j link: device → MAC, lower case, devices without one left out", () => {
  assert.deepEqual([...parseIpLinkJson(IP_LINK)], [
    ["lo", "00:00:00:00:00:00"],
    ["eth0", "02:ab:00:00:00:01"],
  ]);
  assert.throws(() => parseIpLinkJson('Object "link" is unknown'), /did not print JSON/);
});

test("every host interface of the topology with its MAC, saved and read back", async () => {
  const backend = {
    exec: (host: string) =>
      Promise.resolve({
        code: 0,
        stderr: "",
        stdout: JSON.stringify([
          { ifname: "eth0", address: `02:00:00:00:00:${host.length}0` },
          { ifname: "eth1", address: "02:00:00:00:01:01" },
        ]),
      }),
  } as unknown as LabBackend;
  const links = await collectHostLinks(backend, topologyNamed("dr"));
  assert.deepEqual(links.find((l) => l.host === "director"), {
    host: "director",
    role: "director",
    device: "eth0",
    network: "lan",
    address: "172.16.0.253",
    mac: "02:00:00:00:00:80",
  });
  assert.equal(links.filter((l) => l.host === "router").length, 2);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "host-links-"));
  writeHostLinks(dir, links);
  assert.deepEqual(readHostLinks(dir), links);
  assert.equal(readHostLinks(path.join(dir, "none")), null);
});
