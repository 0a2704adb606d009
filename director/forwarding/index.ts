// The forwarding method table: one entry per method, in FORWARD_METHOD_NAMES order, so a
// connection stores its method as an index (ConnTable.method) and the engine calls
// FORWARDING_METHODS[index] without knowing which method it is.
import type { ForwardingMethod } from "./method.ts";
import { FORWARD_METHOD_NAMES, type ForwardMethod } from "./method-names.ts";
import { MASQ } from "./masq.ts";
import { TUNNEL } from "./tunnel.ts";
import { ROUTE } from "./route.ts";

export type { ForwardingMethod } from "./method.ts";

export const FORWARDING_METHODS: readonly ForwardingMethod[] = Object.freeze(
  [MASQ, TUNNEL, ROUTE].map((method, i) => {
    if (method.name !== FORWARD_METHOD_NAMES[i]) {
      throw new Error(`forwarding table: ${method.name} is out of place`);
    }
    return method;
  }),
);

/** The table index of a method (once per new connection, never per packet). */
export function forwardingMethodIndex(name: ForwardMethod): number {
  for (let i = 0; i < FORWARDING_METHODS.length; i++) {
    if (FORWARDING_METHODS[i].name === name) return i;
  }
  throw new Error(`unknown forwarding method ${name}`);
}
