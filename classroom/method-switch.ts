// The page's method control: one switch at a time, the pages told when it starts ("rebuilding
// the lab for VS/DR…"), ends (they load the new view) or fails (a sentence; the server goes on
// serving the old recording), and the other buttons refused meanwhile. The rebuild itself is
// start.ts's (the lab down, the other one up, a new session).
import type { ClassroomSession } from "./session.ts";
import { METHOD_TOPOLOGIES } from "../lab/topologies/index.ts";

/** Rebuilds the lab for a method of METHOD_TOPOLOGIES; the new session. */
export type MethodSwitch = (method: string) => Promise<ClassroomSession>;

/** What the pages get over SSE, as event "method". */
export type MethodNews =
  | { state: "rebuilding"; method: string }
  | { state: "ready"; method: string }
  | { state: "failed"; method: string; text: string };

export function methodLabel(method: string): string {
  return method.toUpperCase();
}

export function methodSwitcher(
  current: () => ClassroomSession,
  rebuild: MethodSwitch | undefined,
  tell: (type: "method", news: MethodNews) => void,
  switched: (next: ClassroomSession) => void,
) {
  /** The last rebuild failed: no lab is up, whatever the old recording shows. */
  let broken = false;
  const self = {
    /** "DR" while the lab is being rebuilt for VS/DR, else null. */
    rebuilding: null as string | null,

    /** The sentence refusing a control while the lab is rebuilt, as a rejected promise. */
    refuseWhileRebuilding(pathname: string): Promise<never> | undefined {
      if (self.rebuilding === null || pathname === "/api/method") return undefined;
      return Promise.reject(
        new Error(`the lab is being rebuilt for VS/${self.rebuilding}; wait until it is up`),
      );
    },

    async switchTo(method: string): Promise<string> {
      const names = Object.keys(METHOD_TOPOLOGIES);
      if (!rebuild) throw new Error("this classroom cannot switch the method");
      if (!Object.hasOwn(METHOD_TOPOLOGIES, method)) {
        throw new Error(`'${method}' is no method with a lab; pick one of ${names.join(", ")}`);
      }
      const label = methodLabel(method);
      if (self.rebuilding !== null) {
        throw new Error(`the lab is already being rebuilt for VS/${self.rebuilding}; wait for it`);
      }
      if (!broken && current().topologyView().name === METHOD_TOPOLOGIES[method]) {
        return `the lab already shows VS/${label}`;
      }
      self.rebuilding = label;
      tell("method", { state: "rebuilding", method: label });
      try {
        const next = await rebuild(method);
        self.rebuilding = null;
        broken = false;
        tell("method", { state: "ready", method: label });
        switched(next);
        return `the lab is rebuilt for VS/${label}`;
      } catch (err) {
        self.rebuilding = null;
        broken = true;
        const text = `the lab could not be rebuilt for VS/${label}: ${(err as Error).message}` +
          " (pick a method to try again)";
        tell("method", { state: "failed", method: label, text });
        throw new Error(text);
      }
    },
  };
  return self;
}
