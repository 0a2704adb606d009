import { test } from "node:test";
import assert from "node:assert/strict";
import { parseScenario, ScenarioError } from "./schema.ts";

const SERVICES = `
services:
  services:
    - protocol: tcp
      address: 203.0.113.5
      port: 80
      scheduler: wrr
      servers:
        - { address: 172.16.0.2, port: 80, weight: 1 }
        - { address: 172.16.0.3, port: 8000, weight: 2 }
`;

function bad(text: string): string {
  try {
    parseScenario(text, "/x/bad.yaml");
  } catch (err) {
    assert.ok(err instanceof ScenarioError, String(err));
    return (err as Error).message;
  }
  assert.fail("the file was accepted");
}

test("a sound file parses into steps and assertions with defaults", () => {
  const s = parseScenario(
    `${SERVICES}
steps:
  - http: { id: load, connections: 30, concurrency: 3 }
  - hold: { id: h, count: 2 }
  - ipvsadm: -e -t 203.0.113.5:80 -r 172.16.0.2:80 -m -w 0
  - wait: 100
  - table: t
  - release: h
assertions:
  - distribution: { step: load, weights: { 172.16.0.2:80: 1, 172.16.0.3:8000: 2 } }
  - servers: { step: h, atLeast: { rs1: 1 } }
  - table: { step: t, present: [{ state: ESTABLISHED }] }
  - rewrite:
`,
    "/x/good.yaml",
  );
  assert.equal(s.name, "good");
  assert.equal(s.lab, "lvsscn");
  assert.deepEqual(s.steps.map((x) => x.kind), [
    "http",
    "hold",
    "ipvsadm",
    "wait",
    "table",
    "release",
  ]);
  const http = s.steps[0];
  assert.ok(http.kind === "http");
  assert.equal(http.vport, 80);
  assert.equal(http.requests, 1);
  const ipvsadm = s.steps[2];
  assert.ok(ipvsadm.kind === "ipvsadm");
  assert.deepEqual(ipvsadm.args, [
    "-e",
    "-t",
    "203.0.113.5:80",
    "-r",
    "172.16.0.2:80",
    "-m",
    "-w",
    "0",
  ]);
  const dist = s.assertions[0];
  assert.ok(dist.kind === "distribution");
  assert.equal(dist.significance, 0.001);
  assert.deepEqual(dist.from, ["client", "capture"]);
  assert.equal(s.services.services[0].scheduler, "wrr");
  assert.match(s.servicesYaml, /scheduler: wrr/);
});

test("an unknown step kind is named with the file and the step", () => {
  const msg = bad(`${SERVICES}\nsteps:\n  - jump: 3\nassertions:\n  - rewrite: {}\n`);
  assert.match(msg, /bad\.yaml: steps\[0\]: 'jump' is not known; use one of http, udp/);
});

test("a step setting out of range names the step, the setting and the bound", () => {
  const msg = bad(
    `${SERVICES}\nsteps:\n  - http: { connections: 999999 }\nassertions:\n  - rewrite: {}\n`,
  );
  assert.match(msg, /bad\.yaml: steps\[0\] \(http\): connections: .*20000/);
});

test("traffic to a port without a service is refused before any lab is built", () => {
  const msg = bad(
    `${SERVICES}\nsteps:\n  - http: { id: a, vport: 81 }\nassertions:\n  - rewrite: {}\n`,
  );
  assert.match(msg, /steps\[0\] \(http 'a'\): there is no tcp service 203\.0\.113\.5:81/);
});

test("releasing an unknown hold and stopping an unknown program are refused", () => {
  const msg = bad(
    `${SERVICES}\nsteps:\n  - release: nope\n  - stop: web\nassertions:\n  - rewrite: {}\n`,
  );
  assert.match(msg, /steps\[0\] \(release 'nope'\): no earlier hold step has id 'nope'/);
  assert.match(msg, /steps\[1\] \(stop 'web'\): no program has id 'web'/);
});

test("an assertion naming a missing or wrong kind of step is refused", () => {
  const msg = bad(
    `${SERVICES}\nsteps:\n  - http: { id: a }\n  - table: t\nassertions:\n` +
      `  - servers: { step: b, exactly: { rs1: 1 } }\n  - held: { step: a, exactly: { open: 1 } }\n`,
  );
  assert.match(msg, /assertions\[0\] \(servers\): no step has id 'b'/);
  assert.match(msg, /assertions\[1\] \(held\): step 'a' is a http step; this needs hold/);
});

test("a bad service table is reported with the service named", () => {
  const msg = bad(
    `services:\n  services:\n    - { protocol: tcp, address: 203.0.113.5, port: 80, scheduler: fastest }\n` +
      `steps:\n  - wait: 1\nassertions:\n  - rewrite: {}\n`,
  );
  assert.match(
    msg,
    /bad\.yaml: services: services\[0\] \(tcp 203\.0\.113\.5:80\): unknown scheduler 'fastest'/,
  );
});

test("broken YAML, missing sections and unknown keys each get a sentence", () => {
  assert.match(bad("steps: [\n"), /bad\.yaml: not valid YAML/);
  assert.match(bad(`${SERVICES}\nsteps: []\nassertions:\n  - rewrite: {}\n`), /at least one step/);
  assert.match(
    bad(`${SERVICES}\nsteps:\n  - wait: 1\nassertions:\n  - rewrite: {}\nspeed: 3\n`),
    /Unrecognized key: "speed"/,
  );
  assert.match(
    bad(`steps:\n  - wait: 1\nassertions:\n  - rewrite: {}\n`),
    /services: the service table is missing/,
  );
});

test("client addresses must be on the client's network and programs on their host", () => {
  const msg = bad(
    `${SERVICES}\nclientAddresses: [192.0.2.9]\nprograms:\n` +
      `  - { id: w, host: rs1, kind: http, name: w, listen: 172.16.0.3:81 }\n` +
      `steps:\n  - wait: 1\nassertions:\n  - rewrite: {}\n`,
  );
  assert.match(msg, /clientAddresses: 192\.0\.2\.9 is not on the client's network/);
  assert.match(msg, /programs\[0\] \('w'\): 172\.16\.0\.3:81 is not an address of host 'rs1'/);
});

test("capture assertions need capture on; bounds assertions need a bound", () => {
  const msg = bad(
    `${SERVICES}\ncapture: false\nsteps:\n  - http: { id: a }\nassertions:\n  - rewrite: {}\n` +
      `  - servers: { step: a }\n`,
  );
  assert.match(msg, /assertions\[0\] \(rewrite\): this assertion reads the capture/);
  assert.match(msg, /assertions\[1\] \(servers\): give at least one of exactly, atLeast, atMost/);
});

const FTP_SERVICES = `
services:
  services:
    - protocol: tcp
      address: 203.0.113.5
      port: 21
      scheduler: wlc
      servers:
        - { address: 172.16.0.3, port: 21, weight: 1 }
`;

test("an ftp step parses sizes in bytes, KiB and MiB, with passive mode by default", () => {
  const s = parseScenario(
    `${FTP_SERVICES}
steps:
  - ftp: { id: f, download: [1k, 20m, 512], upload: ["2KB"], repeat: 3, rate: 40m }
assertions:
  - ftp: { step: f, controlConnections: 1, minTransfers: 12 }
  - results: { step: f, exactly: { intact: 12 } }
  - payload: { segment: public, port: 21, present: ["227 Entering Passive Mode (203,0,113,5,"] }
`,
    "/x/ftp.yaml",
  );
  const f = s.steps[0];
  assert.ok(f.kind === "ftp");
  assert.deepEqual(f.download, [1024, 20 * 1024 * 1024, 512]);
  assert.deepEqual(f.upload, [2048]);
  assert.equal(f.mode, "passive");
  assert.equal(f.extended, false);
  assert.equal(f.vport, 21);
  assert.equal(f.rate, 40 * 1024 * 1024);
  const [ftp, , payload] = s.assertions;
  assert.ok(ftp.kind === "ftp" && ftp.controlConnections === 1);
  assert.ok(payload.kind === "payload");
  assert.equal(payload.min, 1);
  assert.deepEqual(payload.absent, []);
});

test("ftp steps: sizes over 64m, no files, too many transfers and no FTP service are refused", () => {
  const msg = bad(
    `${FTP_SERVICES}
steps:
  - ftp: { id: a, download: [65m] }
  - ftp: { id: b, mode: passive }
  - ftp: { id: c, download: [1k, 1k], repeat: 101 }
  - ftp: { id: d, download: [1x] }
assertions:
  - rewrite: {}
`,
  );
  assert.match(msg, /steps\[0\] \(ftp\): download\.0: a file is at most 64m/);
  assert.match(msg, /steps\[3\] \(ftp\): download\.0: a size is a number of bytes or like 1k/);
  // Cross checks run once every step parses: the same file without the bad sizes.
  const cross = bad(
    `${SERVICES}
steps:
  - ftp: { id: b, mode: passive }
  - ftp: { id: c, vport: 80, download: [1k, 1k], repeat: 101 }
assertions:
  - ftp: { step: b }
  - payload: { segment: public }
`,
  );
  assert.match(cross, /steps\[0\] \(ftp 'b'\): there is no tcp service 203\.0\.113\.5:21/);
  assert.match(cross, /steps\[0\] \(ftp 'b'\): give the sizes to download, upload, or both/);
  assert.match(
    cross,
    /steps\[1\] \(ftp 'c'\): no real server of 203\.0\.113\.5:80 is the lab's FTP server \(172\.16\.0\.3:21\)/,
  );
  assert.match(cross, /steps\[1\] \(ftp 'c'\): 202 transfers \(files x repeat\); at most 200/);
  assert.match(cross, /assertions\[1\] \(payload\): give the texts that must be present, absent/);
});

test("an ftp assertion must name an ftp step; payload needs the capture", () => {
  const msg = bad(
    `${FTP_SERVICES}\ncapture: false\nsteps:\n  - probe: { id: p, vport: 21 }\nassertions:\n` +
      `  - ftp: { step: p }\n  - payload: { segment: private, absent: ["x"] }\n`,
  );
  assert.match(msg, /assertions\[0\] \(ftp\): step 'p' is a probe step; this needs ftp/);
  assert.match(msg, /assertions\[1\] \(payload\): this assertion reads the capture/);
});

test("capture: true, false or { complete: true }; the default captures without requiring", () => {
  const body = `${SERVICES}\nsteps:\n  - http: { id: a }\nassertions:\n  - rewrite: {}\n`;
  const plain = parseScenario(body, "/x/a.yaml");
  assert.equal(plain.capture, true);
  assert.equal(plain.captureComplete, false);
  const complete = parseScenario(`capture: { complete: true }\n${body}`, "/x/a.yaml");
  assert.equal(complete.capture, true);
  assert.equal(complete.captureComplete, true);
  assert.equal(parseScenario(`capture: {}\n${body}`, "/x/a.yaml").captureComplete, false);
  assert.match(bad(`capture: { full: true }\n${body}`), /Unrecognized key: "full"/);
});

test("keepAliveMs is an http program's; a table entry's hold must name a hold step", () => {
  const ok = parseScenario(
    `${SERVICES}\nprograms:\n` +
      `  - { id: w, host: rs1, kind: http, name: w, listen: 172.16.0.2:8080, keepAliveMs: 60000 }\n` +
      `steps:\n  - hold: { id: h }\n  - table: t\nassertions:\n` +
      `  - table: { step: t, present: [{ hold: h }], absent: [{ hold: h, state: CLOSE }] }\n`,
    "/x/a.yaml",
  );
  assert.equal(ok.programs[0].keepAliveMs, 60000);
  const msg = bad(
    `${SERVICES}\nprograms:\n` +
      `  - { id: u, host: rs1, kind: udp, name: u, listen: 172.16.0.2:9000, keepAliveMs: 1 }\n` +
      `  - { id: w, host: rs1, kind: http, name: w, listen: 172.16.0.2:8080, keepAliveMs: 700000 }\n` +
      `steps:\n  - http: { id: a }\n  - table: t\nassertions:\n` +
      `  - table: { step: t, absent: [{ hold: a }, { hold: nope }] }\n`,
  );
  assert.match(msg, /programs\.1\.keepAliveMs: Too big/);
  const msg2 = bad(
    `${SERVICES}\nprograms:\n` +
      `  - { id: u, host: rs1, kind: udp, name: u, listen: 172.16.0.2:9000, keepAliveMs: 1 }\n` +
      `steps:\n  - http: { id: a }\n  - table: t\nassertions:\n` +
      `  - table: { step: t, absent: [{ hold: a }, { hold: nope }] }\n`,
  );
  assert.match(msg2, /programs\[0\] \('u'\): keepAliveMs is for http programs only/);
  assert.match(msg2, /assertions\[0\] \(table\): hold 'a' is not the id of a hold step/);
  assert.match(msg2, /assertions\[0\] \(table\): hold 'nope' is not the id of a hold step/);
});

test("sticky expect names sources or VIPs, not connections", () => {
  const steps = `
steps:
  - http: { id: load, connections: 4 }
assertions:
`;
  const ok = parseScenario(
    `${SERVICES}${steps}  - sticky: { steps: [load], by: source, expect: { 198.51.100.2: rs1 } }\n`,
    "/x/ok.yaml",
  );
  assert.deepEqual(ok.assertions[0], {
    kind: "sticky",
    steps: ["load"],
    by: "source",
    minServers: 1,
    expect: { "198.51.100.2": "rs1" },
  });
  assert.match(
    bad(
      `${SERVICES}${steps}  - sticky: { steps: [load], by: connection, expect: { 198.51.100.2: rs1 } }\n`,
    ),
    /assertions\[0\] \(sticky\): expect names the server of each source or destination; not with by: connection/,
  );
  assert.match(
    bad(`${SERVICES}${steps}  - sticky: { steps: [load], by: source, expect: { rs1: rs2 } }\n`),
    /assertions\[0\] \(sticky\): expect\.rs1: /,
  );
});

test("topology: default or a registered name; direct-routing only in a lab that bypasses", () => {
  const body = `${SERVICES}steps:\n  - http: { id: a, connections: 3 }\nassertions:\n`;
  const dr = parseScenario(`topology: dr\n${body}  - direct-routing: {}\n`, "/x/dr.yaml");
  assert.equal(dr.topology, "dr");
  assert.equal(dr.vip, "203.0.113.5");
  assert.match(bad(`topology: tun9\n${body}  - rewrite: {}\n`), /topology is one of default, nat/);
  assert.match(
    bad(`${body}  - direct-routing: {}\n`),
    /topology 'default' sends replies through the director; direct-routing needs a DR lab/,
  );
  // Weights by server name (every DR server answers on the VIP:port itself), not mixed.
  const named = `  - distribution: { step: a, weights: { rs1: 1, rs2: 2 } }\n`;
  assert.doesNotThrow(() => parseScenario(`topology: dr\n${body}${named}`, "/x/dr.yaml"));
  assert.match(
    bad(`${body}  - distribution: { step: a, weights: { rs1: 1, 172.16.0.3:80: 2 } }\n`),
    /weights keys must all be real server address:port, or all server names/,
  );
});
