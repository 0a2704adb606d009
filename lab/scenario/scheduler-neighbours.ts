// The scheduler scenarios' promise, as one table: for each of the 14 schedulers, the
// neighbouring schedulers its checks in scenarios/schedulers-*.yaml must fail. The unit
// test beside this file replays each file (simulate.ts) with every scheduler swapped for each
// of its neighbours and sees an assertion on that scheduler's services fail; the files'
// descriptions name the same neighbours.
export const SCHEDULER_NEIGHBOURS: Readonly<Record<string, readonly string[]>> = {
  // schedulers-basic.yaml
  rr: ["wrr"], // weights 1:3, split 10:10; wrr gives 5:15
  wrr: ["rr"],
  sh: ["rr", "wrr", "mh", "dh"], // three in a row per source, each on its hash's server
  mh: ["rr", "wrr", "sh", "dh"],
  dh: ["rr", "fo", "ovf", "lblc", "lblcr"], // held past its weight on the VIP's hash server
  fo: ["rr", "wrr", "ovf"], // five held on the highest weight (3), where ovf overflows
  ovf: ["fo", "wrr"],
  // schedulers-least.yaml
  lc: ["wlc", "rr"],
  wlc: ["lc", "rr"],
  sed: ["lc", "wlc"], // inactive entries do not count
  nq: ["sed"], // an idle server first
  twos: ["rr", "lc", "wlc", "sed", "nq"], // the busy server gets a few (1 in 16), not none
  // schedulers-locality.yaml
  lblc: ["lblcr", "wlc", "dh"],
  lblcr: ["lblc", "wlc", "dh"],
};

/** The files that hold the scheduler checks, in scenarios/. */
export const SCHEDULER_SCENARIOS: readonly string[] = [
  "schedulers-basic.yaml",
  "schedulers-least.yaml",
  "schedulers-locality.yaml",
];
