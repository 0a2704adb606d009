import { test } from "node:test";
import assert from "node:assert/strict";
import { parseScenario, ScenarioError } from "./schema.ts";
import { vipNeighbourAssertion } from "./assertions/vip-neighbour.ts";
import type { LabBackend } from "../backend.ts";
import type { CommandResult } from "../netns/command.ts";
import { fakeExecBackend } from "../testing/fake-backend.ts";
import { drTopology } from "../topologies/dr.ts";
import { parseArpingReplies, relearnVip, setArpRecipe } from "../vip-neighbour.ts";
import type { StepOutput } from "./steps/index.ts";

const HEAD = `
services:
  services:
    - { protocol: tcp, address: 203.0.113.5, port: 80, servers: [{ address: 172.16.0.2, port: 80 }] }
assertions:
  - vip-neighbour: { step: n, owner: director }
`;

function problems(steps: string): string {
  try {
    parseScenario(`${HEAD}steps:\n${steps}`, "/x/arp.yaml");
    return "";
  } catch (err) {
    assert.ok(err instanceof ScenarioError, String(err));
    return (err as Error).message;
  }
}

test("the arp step: recipe with a real server, relearn with a host, an id only with relearn", () => {
  assert.equal(problems("  - arp: { host: rs1, recipe: off, relearn: client, id: n }\n"), "");
  assert.match(
    problems("  - arp: { host: rs1, relearn: client, id: n }\n"),
    /steps\[0\] \(arp 'n'\): host and recipe go together/,
  );
  assert.match(
    problems("  - arp: { recipe: off }\n  - arp: { relearn: client, id: n }\n"),
    /steps\[0\] \(arp\): host and recipe go together/,
  );
  assert.match(
    problems("  - arp: { host: director, recipe: off }\n  - arp: { relearn: client, id: n }\n"),
    /'director' is not a real server of the lab/,
  );
  assert.match(
    problems("  - arp: { relearn: router9, id: n }\n"),
    /no host 'router9' in the lab/,
  );
  assert.match(
    problems("  - arp: { id: n, host: rs1, recipe: on }\n"),
    /an id names a relearnt entry; add relearn: <host>/,
  );
  assert.match(problems("  - arp: {}\n"), /give recipe \(with host\), relearn, or both/);
});

const MACS: Record<string, string> = {
  director: "02:00:00:00:00:53",
  rs1: "02:00:00:00:00:02",
  rs2: "02:00:00:00:00:03",
};

/** A lab whose router's ARP request is answered by `answering`, the first of them winning. */
function fakeLab(answering: string[], calls: string[] = []): LabBackend {
  const ok = (stdout: string, code = 0): Promise<CommandResult> =>
    Promise.resolve({ code, stdout, stderr: "" } as CommandResult);
  return fakeExecBackend((host, argv) => {
    const line = argv.join(" ");
    calls.push(`${host}: ${line}`);
    if (line.startsWith("ip -j route get")) return ok('[{"dst":"203.0.113.5","dev":"eth1"}]');
    if (line.startsWith("cat /sys/class/net/")) return ok(`${MACS[host].toUpperCase()}\n`);
    if (line.startsWith("arping")) {
      const replies = answering.map((h) =>
        `Unicast reply from 203.0.113.5 [${MACS[h].toUpperCase()}]  0.6ms`
      );
      return ok(`ARPING 203.0.113.5\n${replies.join("\n")}\n`, answering.length ? 0 : 1);
    }
    if (line.startsWith("ip -j neigh show")) {
      const first = answering[0];
      return ok(
        first
          ? `[{"dst":"203.0.113.5","lladdr":"${MACS[first]}","state":["REACHABLE"]}]`
          : '[{"dst":"203.0.113.5","state":["FAILED"]}]',
      );
    }
    return ok("");
  });
}

function judge(output: StepOutput, spec: { owner: string; answered?: string[] }) {
  return vipNeighbourAssertion.judgeClient!(
    { kind: "vip-neighbour", step: "n", ...spec },
    { outputs: new Map([["n", output]]), windows: new Map(), clientAddress: "198.51.100.2" },
  )!;
}

test("relearning: the router's entry and who answered, judged against the owner's MAC", async () => {
  const calls: string[] = [];
  const data = await relearnVip(fakeLab(["director"], calls), drTopology(), "router");
  assert.deepEqual(data.macs, MACS);
  assert.equal(data.mac, MACS.director);
  assert.deepEqual(data.answers, [MACS.director]);
  assert.ok(calls.includes("router: ip neigh flush to 203.0.113.5 dev eth1"), calls.join("\n"));
  const out: StepOutput = { kind: "arp", data };
  assert.equal(judge(out, { owner: "director", answered: ["director"] }).passed, true);
  const wrong = judge(out, { owner: "rs1" });
  assert.equal(wrong.passed, false);
  assert.match(wrong.line, /router holds director's MAC for 203\.0\.113\.5 \(want rs1's\)/);

  const both = await relearnVip(fakeLab(["rs1", "director"]), drTopology(), "router");
  const r = judge({ kind: "arp", data: both }, { owner: "rs1", answered: ["director"] });
  assert.equal(r.passed, false);
  assert.match(r.line, /answered by director, rs1 \(want director\)/);
  assert.equal(
    judge({ kind: "arp", data: both }, { owner: "rs1", answered: ["rs1", "director"] }).passed,
    true,
  );
});

test("the recipe goes on all and each of the host's interfaces; arping's replies parse", async () => {
  const calls: string[] = [];
  await setArpRecipe(fakeLab([], calls), drTopology(), "rs1", "off");
  assert.deepEqual(calls, [
    "rs1: sysctl -w net.ipv4.conf.all.arp_ignore=0 net.ipv4.conf.all.arp_announce=0 " +
    "net.ipv4.conf.eth0.arp_ignore=0 net.ipv4.conf.eth0.arp_announce=0",
  ]);
  assert.deepEqual(
    parseArpingReplies(
      "Unicast reply from 203.0.113.5 [AA:BB:CC:00:00:01]  0.5ms\n" +
        "Unicast reply from 203.0.113.5 [aa:bb:cc:00:00:01]  0.7ms\n" +
        "Sent 2 probes (1 broadcast(s))\n",
    ),
    ["aa:bb:cc:00:00:01"],
  );
});
