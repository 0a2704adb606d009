// The director outside the lab's own start-up: started by hand in a namespace with an empty
// table and configured with ipvsadm, the way an LVS-NAT tutorial does it with the kernel,
// VIP on the director's lo included (README, "The director on its own").
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { execIn } from "../../lab/netns/lab.ts";
import { requireRoot } from "../../lab/testing/require-root.ts";
import { useLab } from "../../lab/testing/lab-fixture.ts";
import { startInNamespace } from "../../lab/netns/processes.ts";
import { namespaceName } from "../../lab/topology.ts";
import { REPO_ROOT } from "../../lab/paths.ts";
import { READY_LINES } from "../../director/ready-lines.ts";

const LAB = "lvststand";
const VIP = "203.0.113.5";
const lab = useLab(LAB, { director: false });

async function inDirector(argv: string[]) {
  return await execIn("director", argv, { name: LAB, timeoutMs: 20_000 });
}

test("bin/lvslab-director starts with an empty table and takes a tutorial's ipvsadm commands", async (t) => {
  if (!requireRoot(t)) return;
  const vip = await inDirector(["ip", "addr", "add", `${VIP}/32`, "dev", "lo"]);
  assert.equal(vip.code, 0, vip.stderr);
  await startInNamespace({
    namespace: namespaceName(LAB, "director"),
    argv: [path.join(REPO_ROOT, "bin", "lvslab-director"), "--private-dev", "eth1"],
    cwd: REPO_ROOT,
    logFile: path.join(lab.workDir, "director.log"),
    readyText: READY_LINES.director,
    readyTimeoutMs: 15_000,
    what: "the director",
  });
  assert.match(fs.readFileSync(path.join(lab.workDir, "director.log"), "utf8"), /0 service\(s\)/);
  assert.equal((await inDirector(["ipvsadm", "-L", "-n"])).stdout.split("\n").length, 4);
  // Before any service exists the VIP is the director host's own address: refused.
  const early = await execIn(
    "client",
    ["curl", "-s", "-m", "2", `http://${VIP}/`],
    { name: LAB, timeoutMs: 10_000 },
  );
  assert.notEqual(early.code, 0);

  for (
    const argv of [
      ["-A", "-t", `${VIP}:80`, "-s", "rr"],
      ["-a", "-t", `${VIP}:80`, "-r", "172.16.0.2:80", "-m"],
      ["-a", "-t", `${VIP}:80`, "-r", "172.16.0.3:8000", "-m"],
    ]
  ) {
    const r = await inDirector(["ipvsadm", ...argv]);
    assert.equal(r.code, 0, r.stderr);
  }
  const answers: string[] = [];
  for (let i = 0; i < 6; i++) {
    const r = await execIn(
      "client",
      ["curl", "-s", "-m", "3", `http://${VIP}/`],
      { name: LAB, timeoutMs: 10_000 },
    );
    assert.equal(r.code, 0, r.stderr);
    answers.push(/lvslab-server" content="([^"]+)"/.exec(r.stdout)?.[1] ?? "?");
  }
  // rr alternates between the two servers.
  assert.deepEqual(answers.sort(), ["rs1", "rs1", "rs1", "rs2", "rs2", "rs2"]);
  const listing = await inDirector(["ipvsadm", "-L", "-n", "--stats"]);
  assert.match(listing.stdout, /TCP\s+203\.0\.113\.5:80\s+6\s/);
});
