// planRpFilter: the TUN device's rp_filter goes to 0 (written last, always); when `all` is
// above 0, the devices below it are raised to it first, so their effective filtering is
// unchanged, and only then `all` drops to 0.
import { test } from "node:test";
import assert from "node:assert/strict";
import { planRpFilter } from "./host-setup.ts";

const k = (dev: string) => `net.ipv4.conf.${dev}.rp_filter`;

test("all at 0: only the TUN device is written", () => {
  const plan = planRpFilter(
    new Map([["all", 0], ["default", 2], ["eth0", 1], ["tun0", 2]]),
    "tun0",
  );
  assert.deepEqual(plan, [{ key: k("tun0"), from: "2", to: "0" }]);
});

test("all at 1: devices below it raised, all lowered, the TUN device last", () => {
  const current = new Map([["all", 1], ["default", 0], ["lo", 0], ["eth0", 2], ["tun0", 0]]);
  assert.deepEqual(planRpFilter(current, "tun0"), [
    { key: k("default"), from: "0", to: "1" },
    { key: k("lo"), from: "0", to: "1" },
    { key: k("all"), from: "1", to: "0" },
    { key: k("tun0"), from: "0", to: "0" },
  ]);
});
