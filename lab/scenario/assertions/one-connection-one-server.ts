// The one-connection-one-server assertion: on the private network, each client connection
// reached a single real server.
import { z } from "zod";
import { assertOneServerPerConnection } from "../../assertions/connections.ts";
import { privatePacketsOf } from "./capture-context.ts";
import type { AssertionKindDef } from "./types.ts";

export type OneServerSpec = { kind: "one-connection-one-server" };

export const oneServerAssertion: AssertionKindDef<OneServerSpec> = {
  kind: "one-connection-one-server",
  description: "on the private network, each client connection reached a single real server",
  schema: z.strictObject({}).nullable().default({}),
  judgeCapture: (_spec, { used, privateConns, publicConns }) =>
    used.map((s) =>
      assertOneServerPerConnection(privatePacketsOf(privateConns, publicConns, s), s)
    ),
};
