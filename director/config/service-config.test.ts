import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { parseDirectorConfig } from "./service-config.ts";
import { configToCommands } from "./config-commands.ts";

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

test("route and tunnel servers keep the service's port: another port is refused", () => {
  const table = (server: string) =>
    `services:\n  - protocol: tcp\n    address: 203.0.113.5\n    port: 80\n    servers:\n      - ${server}\n`;
  assert.throws(
    () =>
      parseDirectorConfig(table("{ address: 172.16.0.3, port: 8000, method: route }"), "dr.yaml"),
    /dr\.yaml: services\[0\].*servers\[0\]: method route cannot change the port: the real server must listen on the service's port 80, not 8000/,
  );
  assert.throws(
    () => parseDirectorConfig(table("{ address: 172.16.0.3, port: 81, method: tunnel }"), "t.yaml"),
    /method tunnel cannot change the port/,
  );
  for (
    const ok of [
      "{ address: 172.16.0.3, method: route }",
      "{ address: 172.16.0.3, port: 80, method: route }",
      "{ address: 172.16.0.3, port: 8000, method: masq }",
    ]
  ) {
    assert.doesNotThrow(() => parseDirectorConfig(table(ok), "ok.yaml"), ok);
  }
});

test("tunnel servers take ipvsadm's tunnel options, with ipvsadm's rules as sentences", () => {
  const table = (servers: string) => `
services:
  - protocol: tcp
    address: 203.0.113.7
    port: 80
    servers:
${servers}`;
  const ok = parseDirectorConfig(
    table(`
      - { address: 192.0.2.11, method: tunnel }
      - { address: 192.0.2.12, method: tunnel, tunType: gue, tunPort: 6080, tunChecksum: remcsum }
      - { address: 192.0.2.13, method: tunnel, tunType: gre, tunChecksum: csum }
`),
    "tun.yaml",
  );
  const commands = configToCommands(ok).filter((c) => c.kind === "add-server");
  assert.deepEqual(commands.map((c) => c.kind === "add-server" ? c.tunnel : null), [
    { type: "ipip", port: 0, checksum: "nocsum" },
    { type: "gue", port: 6080, checksum: "remcsum" },
    { type: "gre", port: 0, checksum: "csum" },
  ]);
  const refusals: [string, RegExp][] = [
    [
      "{ address: 192.0.2.11, method: route, tunType: ipip }",
      /servers\[0\]: tunType only apply to method: tunnel, not method: route/,
    ],
    ["{ address: 192.0.2.11, method: tunnel, tunType: gue }", /tunType: gue needs tunPort/],
    [
      "{ address: 192.0.2.11, method: tunnel, tunChecksum: csum }",
      /tunType: ipip takes no tunPort and no tunChecksum/,
    ],
    [
      "{ address: 192.0.2.11, method: tunnel, tunType: gre, tunPort: 6080 }",
      /tunType: gre takes no tunPort/,
    ],
    [
      "{ address: 192.0.2.11, method: tunnel, tunType: gre, tunChecksum: remcsum }",
      /tunChecksum: remcsum is for tunType: gue only/,
    ],
    ["{ address: 192.0.2.11, method: tunnel, tunType: vxlan }", /servers\[0\]\.tunType/],
    [
      "{ address: 192.0.2.11, method: tunnel, tunType: gue, tunPort: 0 }",
      /servers\[0\]\.tunPort/,
    ],
  ];
  for (const [server, message] of refusals) {
    assert.throws(() => parseDirectorConfig(table(`      - ${server}\n`), "tun.yaml"), message);
  }
});

test("sysctl names some net.ipv4.vs settings, not all; an unknown one or a value of 2 is refused", () => {
  const config = parseDirectorConfig("sysctl: { expire_nodest_conn: 1 }\nservices: []\n", "x.yaml");
  assert.deepEqual(config.sysctl, { expire_nodest_conn: 1 });
  assert.throws(
    () => parseDirectorConfig("sysctl: { no_such_setting: 1 }\n", "x.yaml"),
    /x\.yaml.*sysctl/s,
  );
  assert.throws(
    () => parseDirectorConfig("sysctl: { expire_nodest_conn: 2 }\n", "x.yaml"),
    /x\.yaml.*sysctl/s,
  );
});
