import { test } from "node:test";
import assert from "node:assert/strict";
import { parseSysctlArgs } from "./main.ts";

test("sysctl-style arguments: show by name, -w NAME=VALUE, short names accepted", () => {
  assert.deepEqual(parseSysctlArgs([]), { show: [], set: {} });
  assert.deepEqual(parseSysctlArgs(["expire_nodest_conn"]), {
    show: ["net.ipv4.vs.expire_nodest_conn"],
    set: {},
  });
  assert.deepEqual(parseSysctlArgs(["-w", "net.ipv4.vs.expire_nodest_conn=1"]), {
    show: [],
    set: { "net.ipv4.vs.expire_nodest_conn": "1" },
  });
  assert.equal(parseSysctlArgs(["-h"]), "help");
});

test("bad arguments are refused with a sentence", () => {
  assert.throws(() => parseSysctlArgs(["net.ipv4.vs.nope"]), /unknown setting 'net.ipv4.vs.nope'/);
  assert.throws(() => parseSysctlArgs(["expire_nodest_conn=1"]), /use -w expire_nodest_conn=1/);
  assert.throws(() => parseSysctlArgs(["-w", "expire_nodest_conn"]), /-w needs NAME=VALUE/);
  assert.throws(() => parseSysctlArgs(["-x"]), /unknown option '-x'/);
});
