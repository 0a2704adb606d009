import { test } from "node:test";
import assert from "node:assert/strict";
import {
  chooseDecapsulation,
  decapArgs,
  decapSummaries,
  kernelDecapArgs,
  kernelModules,
} from "./decapsulation.ts";
import type { TunnelEndpoint } from "./topology.ts";

const IPIP: TunnelEndpoint = { types: ["ipip"], directors: ["172.16.1.2"], vips: ["203.0.113.5"] };
const GUE: TunnelEndpoint = { ...IPIP, types: ["gue"], guePort: 6080 };
const GRE: TunnelEndpoint = { ...IPIP, types: ["gre"] };
const IPIP_GRE: TunnelEndpoint = { ...IPIP, types: ["ipip", "gre"] };
const GUE_GRE: TunnelEndpoint = { ...IPIP, types: ["gue", "gre"], guePort: 6080 };

test("userspace where the kernel lacks the modules, saying which", () => {
  const none = () => false;
  assert.deepEqual(chooseDecapsulation(IPIP, none), {
    mode: "userspace",
    summary: "userspace (lvslab-decap ipip), kernel has no ipip",
  });
  assert.deepEqual(chooseDecapsulation(GUE, (m) => m === "ipip"), {
    mode: "userspace",
    summary: "userspace (lvslab-decap gue port 6080), kernel has no fou",
  });
  assert.equal(
    chooseDecapsulation(GRE, none).summary,
    "userspace (lvslab-decap gre), kernel has no ip_gre",
  );
});

test("several types: the kernel's devices only when it has every module, else all userspace", () => {
  assert.deepEqual(chooseDecapsulation(IPIP_GRE, (m) => m === "ipip"), {
    mode: "userspace",
    summary: "userspace (lvslab-decap ipip, gre), kernel has no ip_gre",
  });
  assert.equal(
    chooseDecapsulation(GUE_GRE, () => false).summary,
    "userspace (lvslab-decap gue port 6080, gre), kernel has no fou, ipip, ip_gre",
  );
  assert.deepEqual(chooseDecapsulation(GUE_GRE, () => true), {
    mode: "kernel",
    summary: "kernel (fou port 6080 gue, tunl0, gre0 up)",
  });
  assert.deepEqual(decapSummaries(IPIP_GRE), {
    kernel: "kernel (tunl0, gre0 up)",
    userspace: "userspace (lvslab-decap ipip, gre)",
  });
  assert.deepEqual(kernelModules(GUE_GRE), ["fou", "ipip", "ip_gre"]);
  assert.deepEqual(decapArgs(GUE_GRE).slice(2, 6), ["--type", "gue,gre", "--gue-port", "6080"]);
  assert.deepEqual(kernelDecapArgs(GUE_GRE), ["gue", "6080", "gre"]);
  assert.deepEqual(kernelDecapArgs(IPIP_GRE), ["ipip", "gre"]);
});

test("the kernel's device where it has them", () => {
  const all = () => true;
  assert.deepEqual(chooseDecapsulation(IPIP, all), {
    mode: "kernel",
    summary: "kernel (tunl0 up)",
  });
  assert.equal(chooseDecapsulation(GUE, all).summary, "kernel (fou port 6080 gue, tunl0 up)");
  assert.equal(chooseDecapsulation(GRE, all).summary, "kernel (gre0 up)");
});

test("lvslab-decap's and the kernel recipe's arguments", () => {
  assert.deepEqual(decapArgs(GUE, "/run/x.json"), [
    "--director",
    "172.16.1.2",
    "--type",
    "gue",
    "--gue-port",
    "6080",
    "--vip",
    "203.0.113.5",
    "--stats-file",
    "/run/x.json",
  ]);
  assert.deepEqual(decapArgs(IPIP), [
    "--director",
    "172.16.1.2",
    "--type",
    "ipip",
    "--vip",
    "203.0.113.5",
  ]);
  assert.deepEqual(kernelDecapArgs(GUE), ["gue", "6080"]);
  assert.deepEqual(kernelDecapArgs(IPIP), ["ipip"]);
});
