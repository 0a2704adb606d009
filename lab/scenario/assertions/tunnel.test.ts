// The tunnel assertion's reading of the table: each real server's tunnel per service (type,
// GUE port, checksum present or absent), grouped into one check per tunnel, with the ports
// no service names (FTP data connections) under the persistent service's tunnel.
import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { REPO_ROOT } from "../../paths.ts";
import { loadScenario } from "../schema.ts";
import { tableTunnels, tunnelGroups } from "./tunnel.ts";

test("scenarios/tun.yaml: rs1 IPIP on :80 and GRE with checksum on :8080; rs2 GUE on :80 and :21, GRE without checksum on :8080", () => {
  const scenario = loadScenario(path.join(REPO_ROOT, "scenarios", "tun.yaml"));
  const tunnels = tableTunnels(scenario);
  assert.deepEqual([...tunnels.keys()].sort(), ["rs1", "rs2"]);
  const rs1 = tunnelGroups("rs1", tunnels.get("rs1")!);
  assert.deepEqual(rs1.map((g) => [g.want, g.ports, g.others]), [
    [{ type: "ipip" }, [80], true],
    [{ type: "gre", checksum: true }, [8080], false],
  ]);
  const rs2 = tunnelGroups("rs2", tunnels.get("rs2")!);
  assert.deepEqual(rs2.map((g) => [g.want, g.ports, g.others]), [
    [{ type: "gue", port: 6080, checksum: true }, [80, 21], true],
    [{ type: "gre", checksum: false }, [8080], false],
  ]);
  // An FTP data connection (VIP:20, a high port) is judged with rs2's GUE, 8080 with GRE.
  assert.deepEqual([20, 80, 21, 40123, 8080].map((p) => rs2[0]!.vport(p)), [
    true,
    true,
    true,
    true,
    false,
  ]);
  assert.equal(rs2[1]!.vport(8080), true);
  assert.equal(rs2[1]!.vport(80), false);
});
