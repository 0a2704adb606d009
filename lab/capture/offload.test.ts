import { test } from "node:test";
import assert from "node:assert/strict";
import type { LabBackend } from "../backend.ts";
import { disableChecksumOffload } from "./offload.ts";
import { defaultTopology } from "../topology.ts";

function backend(fail?: (host: string, dev: string) => string | null) {
  const calls: string[] = [];
  const b = {
    kind: "netns",
    name: "fake",
    exec(host: string, argv: string[]) {
      calls.push(`${host}: ${argv.join(" ")}`);
      const why = fail?.(host, argv[2]) ?? null;
      return Promise.resolve(
        why ? { code: 1, stdout: "", stderr: why } : { code: 0, stdout: "", stderr: "" },
      );
    },
  } as unknown as LabBackend;
  return { b, calls };
}

test("tx checksum offload and GRO go off on every interface of every host", async () => {
  const { b, calls } = backend();
  const changes = await disableChecksumOffload(b, defaultTopology());
  assert.deepEqual(calls.sort(), [
    "client: ethtool -K eth0 tx off gro off tso off gso off",
    "director: ethtool -K eth0 tx off gro off tso off gso off",
    "director: ethtool -K eth1 tx off gro off tso off gso off",
    "rs1: ethtool -K eth0 tx off gro off tso off gso off",
    "rs2: ethtool -K eth0 tx off gro off tso off gso off",
  ]);
  assert.equal(changes.length, 5);
});

test("a failure names the host and interface and says why it matters", async () => {
  const { b } = backend((
    host,
    dev,
  ) => (host === "rs2" ? `Cannot get device features of ${dev}` : null));
  await assert.rejects(
    disableChecksumOffload(b, defaultTopology()),
    /could not turn off checksum offload; captures would show partial checksums:\n {2}rs2 eth0: Cannot get device features of eth0/,
  );
});
