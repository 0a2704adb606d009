// The Compose lab (compose.yaml driven by lab/compose): brought up through the backend, 30
// HTTP requests from the client container to the VIP split 1:2 between rs1 and rs2 (the
// article's weights), the director's ipvsadm lists the service, and the teardown leaves no
// container, network or volume of the project. Needs root and a Docker engine: skipped with
// the reason on a developer's machine without them, a failure under CI=true.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import Docker from "dockerode";
import { ComposeBackend } from "../../lab/compose/compose-backend.ts";
import { composeTestBlocker } from "../../lab/compose/test-blocker.ts";
import { requireRoot } from "../../lab/testing/require-root.ts";
import { rootNamespaceSnapshot } from "../../lab/testing/root-snapshot.ts";
import { attributeResponse } from "../../clients/attribute-response.ts";

const PROJECT = "lvscmptest";
const VIP = "203.0.113.5";
const REQUESTS = 30;

const blocker = composeTestBlocker();
const backend = new ComposeBackend(PROJECT);
let rootBefore = "";
let upError: Error | null = null;

before(async () => {
  if (blocker !== null) return;
  await backend.down();
  rootBefore = rootNamespaceSnapshot();
  try {
    await backend.up({ log: (line) => console.error(`compose-lab: ${line}`) });
  } catch (err) {
    upError = err as Error;
  }
});

after(async () => {
  if (blocker !== null) return;
  await backend.down();
});

test("30 requests from the client container to the VIP split 1:2 between rs1 and rs2", async (t) => {
  if (!requireRoot(t, blocker)) return;
  if (upError) throw upError;
  // One exec: a bounded shell loop of curls, each page followed by a separator line.
  const r = await backend.exec("client", [
    "sh",
    "-c",
    `for i in $(seq ${REQUESTS}); do curl -s -m 5 http://${VIP}/ || echo "curl failed: $?"; ` +
    `echo "--- end of response"; done`,
  ], { timeoutMs: 120_000 });
  assert.equal(r.code, 0, r.stderr);
  const pages = r.stdout.split("--- end of response\n").filter((p) => p.trim() !== "");
  assert.equal(pages.length, REQUESTS, r.stdout.slice(0, 400));
  const byServer: Record<string, number> = {};
  for (const page of pages) {
    const who = attributeResponse(page);
    assert.ok(who, `a response that names no real server: ${page.slice(0, 200)}`);
    byServer[who.server] = (byServer[who.server] ?? 0) + 1;
    // The real server saw the client's own address (the director rewrites only the
    // destination), and curl got the page, which it takes only from the VIP it asked: the
    // reply's source was rewritten back.
    assert.match(page, /198\.51\.100\.2:\d+/);
  }
  assert.deepEqual(Object.keys(byServer).sort(), ["rs1", "rs2"], JSON.stringify(byServer));
  // wrr at weights 1:2 (lab/default-services.yaml): 10 and 20, give or take one.
  assert.ok(Math.abs(byServer.rs1 - REQUESTS / 3) <= 1, JSON.stringify(byServer));
  assert.ok(Math.abs(byServer.rs2 - (2 * REQUESTS) / 3) <= 1, JSON.stringify(byServer));
});

test("ipvsadm -L -n in the director container lists the article's service", async (t) => {
  if (!requireRoot(t, blocker)) return;
  if (upError) throw upError;
  const r = await backend.exec("director", ["ipvsadm", "-L", "-n"], { timeoutMs: 30_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^TCP {2}203\.0\.113\.5:80 wrr/m);
  assert.match(r.stdout, /-> 172\.16\.0\.2:80 +Masq +1 /);
  assert.match(r.stdout, /-> 172\.16\.0\.3:8000 +Masq +2 /);
  assert.match(r.stdout, /^TCP {2}203\.0\.113\.5:21 wlc/m);
});

test("the teardown leaves no container, network or volume of the project", async (t) => {
  if (!requireRoot(t, blocker)) return;
  await backend.down();
  // Asked of the engine directly, not of the backend that did the removing.
  const docker = new Docker();
  const filters = { label: [`com.docker.compose.project=${PROJECT}`] };
  const containers = await docker.listContainers({ all: true, filters });
  const networks = await docker.listNetworks({ filters });
  const volumes = (await docker.listVolumes({ filters })).Volumes ?? [];
  assert.deepEqual(containers.map((c) => c.Names[0]), []);
  assert.deepEqual(networks.map((n) => n.Name), []);
  assert.deepEqual(volumes.map((v) => v.Name), []);
  assert.equal(await backend.isUp(), false);
  // The machine's own network namespace is as it was (Docker's bridges went with the lab).
  assert.equal(rootNamespaceSnapshot(), rootBefore);
});
