// -S output must rebuild the same table through -R: format the fixture table, parse it
// back, apply the commands to a small model of the director's table and compare.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { IpvsadmCommand, TunnelOptions } from "./command.ts";
import { formatSave } from "./format.ts";
import { parseRestoreInput, schedFlagNames } from "./parse-args.ts";
import { BUILTIN_SERVICES as services } from "./service-names.ts";
import type { ListSnapshot } from "./snapshot-types.ts";
import { labSnapshot, tunnelSnapshot } from "./test-fixtures.ts";

interface ModelServer {
  method: string;
  weight: number;
  tunnel?: TunnelOptions;
}
interface ModelService {
  scheduler: string;
  flags: string[];
  persistent: number;
  netmask: number;
  onePacket: boolean;
  servers: Map<string, ModelServer>;
}
type Model = Map<string, ModelService>;

const svcKey = (s: { protocol: string; addr: number; port: number }) =>
  `${s.protocol} ${s.addr}:${s.port}`;
const FLAG_BIT: Record<string, number> = {
  "flag-1": 1,
  "flag-2": 2,
  "flag-3": 4,
  "sh-fallback": 1,
  "sh-port": 2,
  "mh-fallback": 1,
  "mh-port": 2,
};
const canonicalFlags = (scheduler: string, flags: string[]) =>
  schedFlagNames(scheduler, flags.reduce((b, f) => b | FLAG_BIT[f], 0));

/** What a director does with the commands -R produces (the subset -S emits). */
function apply(model: Model, cmd: IpvsadmCommand): void {
  switch (cmd.kind) {
    case "add-service":
      assert.ok(!model.has(svcKey(cmd.service)), "Service already exists");
      model.set(svcKey(cmd.service), {
        scheduler: cmd.scheduler,
        flags: cmd.schedFlags,
        persistent: cmd.persistent,
        netmask: cmd.persistent ? cmd.netmask : 0xffffffff,
        onePacket: cmd.onePacket,
        servers: new Map(),
      });
      return;
    case "add-server": {
      const svc = model.get(svcKey(cmd.service));
      assert.ok(svc, "Service not defined");
      svc.servers.set(`${cmd.server.addr}:${cmd.server.port}`, {
        method: cmd.method,
        weight: cmd.weight,
        ...(cmd.tunnel ? { tunnel: cmd.tunnel } : {}),
      });
      return;
    }
    default:
      assert.fail(`-S never emits ${cmd.kind}`);
  }
}

/** The table as -S can express it: "local" servers come back as -g (route). */
function modelOf(snapshot: ListSnapshot): Model {
  const model: Model = new Map();
  for (const row of snapshot.services) {
    model.set(svcKey(row), {
      scheduler: row.schedulerName,
      flags: canonicalFlags(row.schedulerName, row.schedulerFlags),
      persistent: row.persistTimeout,
      netmask: row.persistTimeout ? row.persistNetmask : 0xffffffff,
      onePacket: row.onePacket ?? false,
      servers: new Map(
        row.destinations.map((d) => [
          `${d.addr}:${d.port}`,
          {
            method: d.method === "local" ? "route" : d.method,
            weight: d.weight,
            ...(d.method === "tunnel" ? { tunnel: d.tunnel } : {}),
          },
        ]),
      ),
    });
  }
  return model;
}

function rebuild(text: string): Model {
  const model: Model = new Map();
  for (const cmd of parseRestoreInput(text, { services })) apply(model, cmd);
  return model;
}

describe("-S then -R", () => {
  for (const numeric of [true, false]) {
    it(`rebuilds the table (${numeric ? "-S -n" : "-S with port names"})`, () => {
      const snapshot = labSnapshot();
      const rebuilt = rebuild(formatSave(snapshot, numeric, services));
      assert.deepEqual(rebuilt, modelOf(snapshot));
      assert.equal(rebuilt.size, 5);
    });
  }
  it("rebuilds every tunnel type and checksum option (--tun-type, --tun-port, --tun-*csum)", () => {
    const snapshot = tunnelSnapshot();
    const text = formatSave(snapshot, true, services);
    assert.deepEqual(rebuild(text), modelOf(snapshot));
    assert.notDeepEqual(rebuild(text.replace("6081", "6083")), modelOf(snapshot));
    assert.notDeepEqual(
      rebuild(text.replace("gre --tun-csum", "gre --tun-nocsum")),
      modelOf(snapshot),
    );
  });
  it("notices a difference (the comparison is not vacuous)", () => {
    const snapshot = labSnapshot();
    const text = formatSave(snapshot, true, services).replace("-w 2", "-w 3");
    assert.notDeepEqual(rebuild(text), modelOf(snapshot));
  });
  it("drops thresholds, as ipvsadm 1.31's -S does", () => {
    const snapshot = labSnapshot();
    assert.ok(snapshot.services.some((s) => s.destinations.some((d) => d.upperThreshold > 0)));
    assert.doesNotMatch(formatSave(snapshot, true, services), / -x | -y /);
  });
});
