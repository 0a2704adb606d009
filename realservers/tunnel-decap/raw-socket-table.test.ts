// /proc/net/raw rows: protocol from the local address's port field, inode, drops.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseProcNetRaw } from "./raw-socket-table.ts";

test("protocol, inode and drops of each row", () => {
  const text =
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n" +
    " 129: 00000000:0004 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 4226747 2 00000000d4fcc3be 0\n" +
    "  17: 00000000:0011 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 4226750 2 00000000d4fcc3bf 12\n";
  assert.deepEqual(parseProcNetRaw(text), [
    { protocol: 4, inode: 4226747, drops: 0 },
    { protocol: 17, inode: 4226750, drops: 12 },
  ]);
});
