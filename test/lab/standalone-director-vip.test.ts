// The LVS-NAT recipe with the VIP on the director itself (`ip addr add VIP/32 dev lo`, or on
// its client-facing interface): without the director the director host's own kernel refuses
// the client; with it, HTTP through the VIP reaches the real servers; the director's own
// packets to the VIP stay local; and once the last service goes, or the director stops,
// its rules and routes are gone (the namespace's `ip rule`/`ip route` as they were).
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { execIn } from "../../lab/netns/lab.ts";
import { requireRoot } from "../../lab/testing/require-root.ts";
import { useLab } from "../../lab/testing/lab-fixture.ts";
import { spawnInNamespace, waitUntilReady } from "../../lab/netns/processes.ts";
import { namespaceName } from "../../lab/topology.ts";
import { REPO_ROOT } from "../../lab/paths.ts";
import { READY_LINES } from "../../director/ready-lines.ts";

const LAB = "lvsdrnvip";
const VIP = "203.0.113.5";
const lab = useLab(LAB, { director: false });

async function inHost(host: string, argv: string[]) {
  return await execIn(host, argv, { name: LAB, timeoutMs: 20_000 });
}

/** The settings the director changes on its host (and must put back). */
const HOST_SETTINGS = [
  "net.ipv4.ip_forward",
  "net.ipv4.conf.all.rp_filter",
  "net.ipv4.conf.default.rp_filter",
  "net.ipv4.conf.eth1.rp_filter",
];

/** The director host's rules and routes of every table and its settings, as text. */
async function routing(): Promise<string> {
  const rules = await inHost("director", ["ip", "rule"]);
  const routes = await inHost("director", ["ip", "route", "show", "table", "all"]);
  const settings = await inHost("director", ["sysctl", ...HOST_SETTINGS]);
  return `${rules.stdout}\n${routes.stdout}\n${settings.stdout}`;
}

async function curl(host: string, timeoutS = 3) {
  return await inHost(host, ["curl", "-s", "-S", "-m", String(timeoutS), `http://${VIP}/`]);
}

for (const dev of ["lo", "eth0"]) {
  test(`VS/NAT with the VIP on the director's ${dev}: served, and undone when it stops`, async (t) => {
    if (!requireRoot(t)) return;
    const addr = await inHost("director", ["ip", "addr", "add", `${VIP}/32`, "dev", dev]);
    assert.equal(addr.code, 0, addr.stderr);
    // Strict reverse-path filtering, which the director turns off while it runs.
    const strict = HOST_SETTINGS.slice(1).map((k) => `${k}=1`);
    assert.equal((await inHost("director", ["sysctl", "-qw", ...strict])).code, 0);
    try {
      const before = await routing();
      // Without the director, the director host's kernel takes the VIP's packets itself.
      const refused = await curl("client");
      assert.notEqual(refused.code, 0);
      assert.match(refused.stderr, /refused|Couldn't connect/i);

      const director = spawnInNamespace({
        namespace: namespaceName(LAB, "director"),
        argv: [path.join(REPO_ROOT, "bin", "lvslab-director"), "--private-dev", "eth1"],
        cwd: REPO_ROOT,
        logFile: path.join(lab.workDir, `director-${dev}.log`),
      });
      try {
        await waitUntilReady(
          director,
          () => fs.readFileSync(director.logFile, "utf8").includes(READY_LINES.director),
          15_000,
          "the director",
          "print its ready line",
        );
        for (
          const argv of [
            ["-A", "-t", `${VIP}:80`, "-s", "rr"],
            ["-a", "-t", `${VIP}:80`, "-r", "172.16.0.2:80", "-m"],
            ["-a", "-t", `${VIP}:80`, "-r", "172.16.0.3:8000", "-m"],
          ]
        ) {
          const r = await inHost("director", ["ipvsadm", ...argv]);
          assert.equal(r.code, 0, r.stderr);
        }
        const answers: string[] = [];
        for (let i = 0; i < 4; i++) {
          const r = await curl("client");
          assert.equal(r.code, 0, r.stderr);
          answers.push(/lvslab-server" content="([^"]+)"/.exec(r.stdout)?.[1] ?? "?");
        }
        assert.deepEqual(answers.sort(), ["rs1", "rs1", "rs2", "rs2"]);
        // The director's own connection to the VIP is delivered locally (nothing listens
        // there: refused at once), not sent round the TUN device.
        const own = await curl("director", 2);
        assert.match(own.stderr, /refused|Couldn't connect/i);

        // The VIP's last service goes: its rules go, the local table's rule is back at 0.
        const del = await inHost("director", ["ipvsadm", "-D", "-t", `${VIP}:80`]);
        assert.equal(del.code, 0, del.stderr);
        const rules = (await inHost("director", ["ip", "rule"])).stdout;
        assert.match(rules, /^0:\s+from all lookup local/m);
        assert.doesNotMatch(rules, new RegExp(`^(9|10|50):`, "m"));
        assert.notEqual((await curl("client", 2)).code, 0);
        // A service again, then the director stops with it in place.
        const again = await inHost("director", ["ipvsadm", "-A", "-t", `${VIP}:80`]);
        assert.equal(again.code, 0, again.stderr);
        assert.match((await inHost("director", ["ip", "rule"])).stdout, /^10:.*203\.0\.113\.5/m);
      } finally {
        await director.stop();
      }
      assert.equal(director.endedHow(), "exited with 0");
      assert.equal(await routing(), before);
    } finally {
      await inHost("director", ["ip", "addr", "del", `${VIP}/32`, "dev", dev]);
    }
  });
}
