// The path step: its cross-checks (sentences naming what is missing), and what it runs in the
// hosts on a fake backend: the device found by address, ip link/route commands, the route's
// learnt MTU checked against expectMtu.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseScenario, ScenarioError } from "./schema.ts";
import type { LabBackend } from "../backend.ts";
import type { CommandResult } from "../netns/command.ts";
import { fakeExecBackend } from "../testing/fake-backend.ts";
import { tunTopology } from "../topologies/tun.ts";
import { routeTowards, setLinkMtu, setRejectRoute } from "../path-change.ts";

const HEAD = `
topology: tun
services:
  services:
    - protocol: tcp
      address: 203.0.113.5
      port: 80
      servers: [{ address: 172.16.3.2, port: 80, method: tunnel, tunType: gue, tunPort: 6080 }]
assertions:
  - tunnel: {}
`;

function problems(steps: string): string {
  try {
    parseScenario(`${HEAD}steps:\n${steps}`, "/x/path.yaml");
    return "";
  } catch (err) {
    assert.ok(err instanceof ScenarioError, String(err));
    return (err as Error).message;
  }
}

test("the path step: mtu with network, reject with as, expectMtu with show, a host and its network", () => {
  assert.equal(
    problems(
      "  - path: { host: router, network: lan3, mtu: 1400 }\n" +
        "  - path: { host: router, reject: 172.16.3.2/32, as: unreachable }\n" +
        "  - path: { host: client, show: 203.0.113.5, expectMtu: 1368 }\n",
    ),
    "",
  );
  assert.match(problems("  - path: { host: router, mtu: 1400 }\n"), /mtu and network go together/);
  assert.match(
    problems("  - path: { host: router, reject: 172.16.3.2/32 }\n"),
    /reject and as go together/,
  );
  assert.match(
    problems("  - path: { host: client, expectMtu: 1368 }\n"),
    /expectMtu checks the route that show reads/,
  );
  assert.match(problems("  - path: { host: router }\n"), /give mtu \(with network\), reject/);
  assert.match(
    problems("  - path: { host: router9, show: 203.0.113.5 }\n"),
    /no host 'router9' in the tun lab/,
  );
  assert.match(
    problems("  - path: { host: rs2, network: lan2, mtu: 1400 }\n"),
    /rs2 has no interface on 'lan2' \(it is on lan3\)/,
  );
  assert.match(
    problems("  - path: { host: router, reject: 172.16.3.2, as: prohibit }\n"),
    /prefix/,
  );
});

function fakeLab(calls: string[], route = ""): LabBackend {
  const ok = (stdout: string): Promise<CommandResult> =>
    Promise.resolve({ code: 0, stdout, stderr: "" } as CommandResult);
  return fakeExecBackend((host, argv) => {
    const line = argv.join(" ");
    calls.push(`${host}: ${line}`);
    if (line === "ip -j -4 addr show") {
      return ok(JSON.stringify([
        { ifname: "lo", addr_info: [{ local: "127.0.0.1" }] },
        { ifname: "eth2", addr_info: [{ local: "172.16.2.254" }] },
        { ifname: "eth3", addr_info: [{ local: "172.16.3.254" }] },
      ]));
    }
    if (line.startsWith("ip -4 route get")) return ok(route);
    return ok("");
  });
}

test("the path step's commands: by address to the device, reject routes, the learnt MTU", async () => {
  const calls: string[] = [];
  const lab = fakeLab(
    calls,
    "203.0.113.5 via 198.51.100.254 dev eth0 src 198.51.100.2 uid 0 \n    cache expires 596sec mtu 1368\n",
  );
  assert.equal(await setLinkMtu(lab, tunTopology(), "router", "lan3", 1400), "eth3");
  await setRejectRoute(lab, "router", "172.16.3.2/32", "unreachable");
  await setRejectRoute(lab, "router", "172.16.3.2/32", null);
  assert.equal((await routeTowards(lab, "client", "203.0.113.5")).mtu, 1368);
  assert.deepEqual(calls, [
    "router: ip -j -4 addr show",
    "router: ip link set dev eth3 mtu 1400",
    "router: ip -4 route replace unreachable 172.16.3.2/32",
    "router: ip -4 route del 172.16.3.2/32",
    "client: ip -4 route get 203.0.113.5",
  ]);
});
