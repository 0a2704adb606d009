import { test } from "node:test";
import assert from "node:assert/strict";
import type { ConnSummary } from "../../clients/http-conns.ts";
import type { HoldReport } from "../../clients/tcp-hold.ts";
import { parseScenario } from "./schema.ts";
import {
  assertionServices,
  judgeSimulation,
  serviceKey,
  simulateScenario,
  SimulationError,
  withScheduler,
} from "./simulate.ts";

function scenario(scheduler: string, steps: string, assertions = "  - rewrite: {}\n") {
  return parseScenario(
    `
clientAddresses: [198.51.100.10, 198.51.100.11]
programs:
  - { id: web3, host: rs1, kind: http, name: rs1b, listen: 172.16.0.2:8081 }
services:
  services:
    - protocol: tcp
      address: 203.0.113.5
      port: 80
      scheduler: ${scheduler}
      servers:
        - { address: 172.16.0.2, port: 80, weight: 1 }
        - { address: 172.16.0.3, port: 8000, weight: 2 }
    - protocol: tcp
      address: 203.0.113.5
      port: 81
      scheduler: rr
      servers:
        - { address: 172.16.0.2, port: 8081, weight: 1 }
        - { address: 172.16.0.2, port: 8082, weight: 1 }
steps:
${steps}
assertions:
${assertions}`,
    "/x/sim.yaml",
  );
}

function http(sim: ReturnType<typeof simulateScenario>, id: string): ConnSummary {
  const out = sim.outputs.get(id);
  assert.equal(out?.kind, "http");
  return out!.data as ConnSummary;
}

test("http connections get the scheduler's choices, attributed as the client attributes them", () => {
  const sim = simulateScenario(scenario(
    "wrr",
    `  - http: { id: a, connections: 6, sources: [198.51.100.10, 198.51.100.11] }`,
  ));
  const a = http(sim, "a");
  // wrr 1:2, the newest server (rs2) first.
  assert.deepEqual(a.byServerAddress, { "rs2 172.16.0.3:8000": 4, "rs1 172.16.0.2:80": 2 });
  assert.deepEqual(a.byServer, { rs2: 4, rs1: 2 });
  assert.deepEqual(a.outcomes, { ok: 6, refused: 0, reset: 0, timeout: 0, error: 0 });
  assert.deepEqual(a.records.map((r) => r.source), [
    "198.51.100.10",
    "198.51.100.11",
    "198.51.100.10",
    "198.51.100.11",
    "198.51.100.10",
    "198.51.100.11",
  ]);
  assert.deepEqual(sim.windows.get("a")?.vport, 80);
});

test("held connections stay active until released; closed ones count as inactive", () => {
  // lc: the first held goes to the newest server (rs2), the second to the idle rs1.
  const sim = simulateScenario(scenario(
    "lc",
    `  - hold: { id: h, count: 2 }
  - http: { id: a, connections: 3 }
  - release: h
  - http: { id: b, connections: 2 }`,
  ));
  const h = sim.outputs.get("h")!;
  assert.equal(h.kind, "hold");
  assert.equal((h as { final: boolean }).final, true);
  assert.deepEqual(
    (h.data as HoldReport).connections.map((c) => `${c.server} ${c.serverAddress} ${c.state}`),
    ["rs2 172.16.0.3:8000 open", "rs1 172.16.0.2:80 open"],
  );
  // One held on each: the tie goes to the newest (rs2), then the lower overhead wins.
  assert.deepEqual(http(sim, "a").byServer, { rs2: 2, rs1: 1 });
  assert.deepEqual(http(sim, "b").byServer, { rs1: 1, rs2: 1 });
});

test("concurrency keeps that many connections open at once", () => {
  // lc with 2 open at a time alternates; with 1 at a time the inactive counts decide.
  const two = simulateScenario(
    scenario("lc", `  - http: { id: a, connections: 4, concurrency: 2 }`),
  );
  assert.deepEqual(http(two, "a").byServer, { rs2: 2, rs1: 2 });
});

test("ipvsadm edits change weights as the director applies them; a refusal ends the replay", () => {
  const sim = simulateScenario(scenario(
    "wrr",
    `  - ipvsadm: -e -t 203.0.113.5:80 -r 172.16.0.3:8000 -m -w 0
  - http: { id: a, connections: 3 }
  - ipvsadm: { args: -e -t 203.0.113.5:80 -r 172.16.0.9:80 -m -w 1, expectCode: 2 }`,
  ));
  assert.deepEqual(http(sim, "a").byServer, { rs1: 3 });
  assert.throws(
    () =>
      simulateScenario(scenario(
        "wrr",
        `  - ipvsadm: -e -t 203.0.113.5:80 -r 172.16.0.9:80 -m -w 1
  - http: { id: a }`,
      )),
    (err: Error) =>
      err instanceof SimulationError &&
      /steps\[0\] \(ipvsadm\).*would exit with 2/.test(err.message),
  );
});

test("no server, or nothing listening on the chosen one, is refused", () => {
  const sim = simulateScenario(scenario(
    "wrr",
    `  - ipvsadm: -e -t 203.0.113.5:80 -r 172.16.0.3:8000 -m -w 0
  - ipvsadm: -e -t 203.0.113.5:80 -r 172.16.0.2:80 -m -w 0
  - http: { id: a, connections: 2 }
  - http: { id: b, vport: 81, connections: 2 }`,
  ));
  assert.equal(http(sim, "a").outcomes.refused, 2);
  // :81's servers are rs1:8082 (no program) and rs1b:8081, in turn.
  const b = http(sim, "b");
  assert.deepEqual(b.byServerAddress, { "rs1b 172.16.0.2:8081": 1 });
  assert.equal(b.outcomes.refused, 1);
});

test("steps the replay does not model are named", () => {
  assert.throws(
    () => simulateScenario(scenario("rr", `  - udp: { vport: 9000 }`)),
    /steps\[0\] \(udp\): udp steps are not modelled by the replay/,
  );
});

test("judging: the file's client assertions, each with the services its steps used", () => {
  const s = scenario(
    "rr",
    `  - http: { id: a, connections: 4 }
  - http: { id: b, vport: 81, connections: 2 }`,
    `  - servers: { step: a, exactly: { rs1: 2, rs2: 2 } }
  - sticky: { steps: [a, b], by: destination }
  - rewrite: {}
`,
  );
  const judged = judgeSimulation(s, simulateScenario(s));
  assert.deepEqual(judged.map((j) => j.spec.kind), ["servers", "sticky"]);
  assert.equal(judged[0].results[0].passed, true, judged[0].results[0].line);
  assert.deepEqual(assertionServices(s, judged[1].spec), [
    serviceKey("tcp", "203.0.113.5", 80),
    serviceKey("tcp", "203.0.113.5", 81),
  ]);
  // wrr in rr's place: 1:2 fails the 2:2 bound.
  const swapped = withScheduler(s, "tcp 203.0.113.5:80", "wrr");
  const again = judgeSimulation(swapped, simulateScenario(swapped));
  assert.equal(again[0].results[0].passed, false);
  assert.throws(() => withScheduler(s, "tcp 203.0.113.5:99", "wrr"), /no service/);
});
