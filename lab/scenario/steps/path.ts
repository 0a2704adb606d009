// The path step: changes the path between the lab's hosts while a scenario runs (VS/TUN's
// path MTU and unreachable server checks), or looks at what a host's kernel learnt about it.
// `mtu` with `network` sets the host's MTU on that network; `reject` adds a route of type
// `as` (unreachable, prohibit) for a prefix, `as: none` removes it; `show` reads the host's
// route to an address (`ip route get`), and with `expectMtu` fails unless its cached path MTU
// is that. A scenario restores what it changed with later path steps.
import { z } from "zod";
import {
  addressOn,
  REJECT_ROUTES,
  routeTowards,
  setLinkMtu,
  setRejectRoute,
} from "../../path-change.ts";
import { ipv4 } from "../fields.ts";
import { scenarioTopology } from "../topology.ts";
import type { StepKindDef } from "./types.ts";

const prefix = z.string().regex(/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/, {
  message: "a prefix like 172.16.3.2/32",
});

const schema = z.strictObject({
  host: z.string().regex(/^[a-z][a-z0-9]{0,11}$/, { message: "a host name like router" }),
  network: z.string().min(1).optional(),
  mtu: z.number().int().min(576).max(9000).optional(),
  reject: prefix.optional(),
  as: z.enum([...REJECT_ROUTES, "none"]).optional(),
  show: ipv4.optional(),
  expectMtu: z.number().int().min(68).max(9000).optional(),
});

export type PathStep = z.infer<typeof schema> & { kind: "path" };

export const pathStep: StepKindDef<PathStep> = {
  kind: "path",
  description: "sets a host's MTU on a network or a reject route; reads its route to an " +
    "address (ip route get) and the path MTU it learnt",
  schema,
  check(step, ctx, where, problems) {
    if ((step.mtu === undefined) !== (step.network === undefined)) {
      problems.push(`${where}: mtu and network go together (network: lan3, mtu: 1400)`);
    }
    if ((step.reject === undefined) !== (step.as === undefined)) {
      problems.push(`${where}: reject and as go together (reject: 172.16.3.2/32, as: unreachable)`);
    }
    if (step.expectMtu !== undefined && step.show === undefined) {
      problems.push(`${where}: expectMtu checks the route that show reads; add show: <address>`);
    }
    if (step.mtu === undefined && step.reject === undefined && step.show === undefined) {
      problems.push(`${where}: give mtu (with network), reject (with as), show, or some of them`);
    }
    try {
      const topology = scenarioTopology(ctx.scenario);
      if (!topology.hosts.some((h) => h.name === step.host)) {
        problems.push(`${where}: no host '${step.host}' in the ${topology.name} lab`);
      } else if (step.network !== undefined) addressOn(topology, step.host, step.network);
    } catch (err) {
      problems.push(`${where}: ${(err as Error).message}`);
    }
  },
  async run(step, ctx) {
    const said: string[] = [];
    if (step.mtu !== undefined && step.network !== undefined) {
      const topology = scenarioTopology(ctx.scenario);
      const device = await setLinkMtu(ctx.backend, topology, step.host, step.network, step.mtu);
      said.push(`${step.host}'s ${device} (${step.network}) MTU ${step.mtu}`);
    }
    if (step.reject !== undefined && step.as !== undefined) {
      await setRejectRoute(
        ctx.backend,
        step.host,
        step.reject,
        step.as === "none" ? null : step.as,
      );
      said.push(
        step.as === "none"
          ? `${step.host} routes ${step.reject} again`
          : `${step.host} rejects ${step.reject} (${step.as})`,
      );
    }
    if (step.show !== undefined) {
      const route = await routeTowards(ctx.backend, step.host, step.show);
      const line = route.text.replace(/\s+/g, " ");
      if (step.expectMtu !== undefined && route.mtu !== step.expectMtu) {
        throw new Error(
          `${step.host}'s route to ${step.show} has ${
            route.mtu === null ? "no path MTU" : `path MTU ${route.mtu}`
          }, not ${step.expectMtu}: ${line}`,
        );
      }
      said.push(`${step.host}: ip route get ${step.show}: ${line}`);
    }
    return said.join("; ");
  },
};
