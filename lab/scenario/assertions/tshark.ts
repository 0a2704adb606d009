// The tshark assertion (VS/TUN): the director's tunnel packets decoded by Wireshark's own
// dissectors (lab/assertions/tshark-tunnel.ts), not by the lab's analysis: each has the
// outer and tunnel header the table gives its server for the connection's port (GRE's C bit
// and checksum, GUE's port and UDP checksum) around the client's packet, TTL one less.
import { z } from "zod";
import { verdict } from "../../assertions/result.ts";
import { judgeTsharkTunnels, runTshark } from "../../assertions/tshark-tunnel.ts";
import { tunnelsToServers } from "../../capture/segments.ts";
import { scenarioTopology } from "../topology.ts";
import { tableTunnels, tunnelGroups } from "./tunnel.ts";
import type { AssertionKindDef } from "./types.ts";

export type TsharkSpec = { kind: "tshark" };

export const tsharkAssertion: AssertionKindDef<TsharkSpec> = {
  kind: "tshark",
  description:
    "VS/TUN: tshark's dissectors decode every tunnel packet from the director as the tunnel " +
    "the table gives its server, checksums good, the client's packet inside",
  schema: z.strictObject({}).nullable().default({}).transform(() => ({})),
  check(_spec, ctx, where, problems) {
    if (!tunnelsToServers(scenarioTopology(ctx.scenario))) {
      problems.push(
        `${where}: topology '${ctx.scenario.topology}' has no tunnels to decode; tshark needs ` +
          "a TUN lab (topology: tun)",
      );
    }
  },
  judgeCapture(_spec, ctx) {
    const name = "tshark's dissectors: every tunnel packet from the director";
    if (!ctx.tun) return [verdict(name, false, "the captures hold no TUN path to judge")];
    const groups = [...tableTunnels(ctx.scenario)].flatMap(([h, t]) => tunnelGroups(h, t));
    const guePorts = [
      ...new Set(groups.flatMap((g) => (g.want.type === "gue" ? [g.want.port!] : []))),
    ];
    const run = runTshark(ctx.directorPcap, guePorts);
    if ("error" in run) return [verdict(name, false, run.error)];
    return [judgeTsharkTunnels(run.rows, {
      director: ctx.tun.roles.director,
      servers: ctx.tun.roles.servers,
      vips: ctx.tun.vips,
      tunnelFor: (host, vport) =>
        groups.find((g) => g.host === host && g.vport(vport))?.want ?? null,
      groups,
    })];
  },
};
