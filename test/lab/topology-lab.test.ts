// Any topology on every backend: the routed topology (lab/topologies/routed.ts: a router
// between a client network, a public LAN and two private networks, a host on each, an address
// on lo) brought up from its data alone on network namespaces and on Docker Compose; every
// host pings every address of every other host across the router, each HTTP server answers
// the client, and the teardown leaves no namespace, container or network. Needs root (and
// for Compose a Docker engine): skipped with the reason elsewhere, a failure under CI=true.
import { test } from "node:test";
import assert from "node:assert/strict";
import Docker from "dockerode";
import type { LabBackend } from "../../lab/backend.ts";
import { createBackend } from "../../lab/backends.ts";
import { labTestBlocker, requireRoot } from "../../lab/testing/require-root.ts";
import { composeTestBlocker } from "../../lab/compose/test-blocker.ts";
import { rootNamespaceSnapshot } from "../../lab/testing/root-snapshot.ts";
import { labNamespacesPresent } from "../../lab/netns/namespaces.ts";
import { routedTopology } from "../../lab/topologies/routed.ts";
import type { LoadSummary } from "../../clients/http-load.ts";

const topology = routedTopology();
/** Every address of the lab (interfaces and lo) with the host that holds it. */
const addresses = topology.hosts.flatMap((h) =>
  [...h.interfaces.map((i) => i.address), ...(h.loAddresses ?? [])].map((a) => ({
    host: h.name,
    address: a.split("/")[0],
  }))
);

/** Each host pings every other host's addresses in one exec; returns the failures. */
async function unreachable(backend: LabBackend): Promise<string[]> {
  const failures: string[] = [];
  for (const host of topology.hosts) {
    const targets = addresses.filter((a) => a.host !== host.name).map((a) => a.address);
    const script = `for a in ${targets.join(" ")}; do ` +
      `ping -c 1 -W 2 "$a" >/dev/null 2>&1 || echo "$a"; done`;
    const r = await backend.exec(host.name, ["sh", "-c", script], { timeoutMs: 60_000 });
    assert.equal(r.code, 0, r.stderr);
    failures.push(...r.stdout.split("\n").filter(Boolean).map((a) => `${host.name} → ${a}`));
  }
  return failures;
}

async function fetchFromClient(backend: LabBackend, url: string): Promise<LoadSummary> {
  const argv = backend.program("clients/http-client.ts", ["--url", url, "--count", "1", "--json"]);
  const r = await backend.exec("client", argv, { timeoutMs: 30_000 });
  assert.ok(r.stdout.trim(), `the client printed no summary; stderr: ${r.stderr}`);
  return JSON.parse(r.stdout) as LoadSummary;
}

/** What of the lab is left, asked of the system itself rather than of the backend. */
async function leftovers(backend: LabBackend): Promise<string[]> {
  if (backend.kind === "netns") return labNamespacesPresent(backend.name);
  const docker = new Docker();
  const filters = { label: [`com.docker.compose.project=${backend.name}`] };
  const containers = await docker.listContainers({ all: true, filters });
  const networks = await docker.listNetworks({ filters });
  return [...containers.map((c) => c.Names[0]), ...networks.map((n) => n.Name)];
}

for (
  const [kind, name, blocker] of [
    ["netns", "lvstopo", labTestBlocker()],
    ["compose", "lvstopoc", composeTestBlocker()],
  ] as const
) {
  test(`the routed topology on ${kind}: everything reaches everything, down leaves nothing`, {
    timeout: 600_000,
  }, async (t) => {
    if (!requireRoot(t, blocker)) return;
    const backend = createBackend(kind, name, topology);
    await backend.down();
    const rootBefore = rootNamespaceSnapshot();
    try {
      await backend.up({ log: (line) => console.error(`${kind}: ${line}`) });
      assert.deepEqual(await unreachable(backend), []);
      for (
        const [url, server] of [
          ["http://203.0.113.10/", "web"],
          ["http://172.16.1.2/", "rs1"],
          ["http://172.16.2.2/", "rs2"],
          ["http://172.16.2.100/", "rs2"],
        ]
      ) {
        const summary = await fetchFromClient(backend, url);
        assert.deepEqual(summary.byServer, { [server]: 1 }, `${url}: ${JSON.stringify(summary)}`);
      }
      assert.equal(rootNamespaceSnapshot(), rootBefore, "the root namespace is untouched");
    } finally {
      const report = await backend.teardown();
      assert.deepEqual(report.remaining, []);
    }
    assert.deepEqual(await leftovers(backend), []);
    assert.equal(await backend.isUp(), false);
  });
}
