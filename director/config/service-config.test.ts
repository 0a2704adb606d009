import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { parseDirectorConfig } from "./service-config.ts";

test("the lab's default table parses with IPVS defaults filled in", () => {
  const config = parseDirectorConfig(
    fs.readFileSync(new URL("../../lab/default-services.yaml", import.meta.url), "utf8"),
    "default-services.yaml",
  );
  assert.equal(config.services.length, 2);
  assert.equal(config.services[0].servers[1].port, 8000);
  assert.equal(config.services[0].servers[1].weight, 2);
  assert.equal(config.services[1].scheduler, "wlc");
  assert.equal(config.maxConnections, 1_048_576);
});

test("every problem is reported with the file, the entry and what is wrong", () => {
  const text = `
services:
  - protocol: tcp
    address: 203.0.113.5
    port: 80
    servers:
      - { address: 172.16.0.300, port: 80 }
      - { address: 172.16.0.3, port: 70000 }
  - protocol: sctp
    address: 203.0.113.5
    port: 21
`;
  assert.throws(() => parseDirectorConfig(text, "bad.yaml"), (err: Error) => {
    assert.match(
      err.message,
      /bad\.yaml: services\[0\] \(tcp 203\.0\.113\.5:80\)\.servers\[0\]\.address: must be an IPv4 address/,
    );
    assert.match(err.message, /services\[0\].*servers\[1\]\.port/);
    assert.match(err.message, /services\[1\].*protocol/);
    return true;
  });
});

test("duplicates, unknown keys, unknown schedulers and bad YAML are refused", () => {
  const dup = `services:
  - { protocol: tcp, address: 203.0.113.5, port: 80 }
  - { protocol: tcp, address: 203.0.113.5, port: 80 }
`;
  assert.throws(() => parseDirectorConfig(dup, "d.yaml"), /service defined twice/);
  assert.throws(() => parseDirectorConfig("servces: []", "k.yaml"), /k\.yaml: .*servces/);
  const sched =
    "services:\n  - { protocol: tcp, address: 203.0.113.5, port: 80, scheduler: fastest }\n";
  assert.throws(
    () => parseDirectorConfig(sched, "s.yaml"),
    /s\.yaml: services\[0\].*unknown scheduler 'fastest'/,
  );
  assert.throws(() => parseDirectorConfig("services: [", "y.yaml"), /y\.yaml: not valid YAML/);
});
