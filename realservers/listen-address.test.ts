import { test } from "node:test";
import assert from "node:assert/strict";
import { parseListen } from "./listen-address.ts";

test("parseListen splits address and port", () => {
  assert.deepEqual(parseListen("172.16.0.2:80"), { host: "172.16.0.2", port: 80 });
  assert.deepEqual(parseListen("[::1]:8000"), { host: "::1", port: 8000 });
});

test("parseListen rejects what is not address:port", () => {
  for (const bad of ["172.16.0.2", ":80", "172.16.0.2:0", "172.16.0.2:65536", "host:80"]) {
    assert.throws(() => parseListen(bad), /is not address:port/, bad);
  }
});
