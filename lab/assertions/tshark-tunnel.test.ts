// The tshark check on captures built here (tun-test-support.ts: the client's segments as the
// director got them, then its tunnel packets): right IPIP, GUE and GRE with and without
// checksum pass; a wrong GRE checksum, a C bit the table does not give, a TTL not lowered, a
// wrong GUE port, a wrong outer TTL, a tunnel type seen nowhere fail, each with tshark's own
// field named. Needs tshark (skipped with the reason where it is missing).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { LINKTYPE_ETHERNET } from "../analysis/decode.ts";
import { type PacketSpec, writePcap } from "../analysis/test-support.ts";
import {
  mergeTunCaptures,
  TUN_DIRECTOR,
  TUN_SERVERS,
  TUN_VIP,
  tunConnection,
  type TunConnectionSpec,
} from "../analysis/tun-test-support.ts";
import {
  judgeTsharkTunnels,
  runTshark,
  type TsharkExpectation,
  type TsharkRow,
} from "./tshark-tunnel.ts";
import type { TunnelExpectation } from "./tunnel.ts";

const skip = spawnSync("sh", ["-c", "command -v tshark"]).status === 0
  ? false
  : "tshark is not installed";

const IPIP: TunnelExpectation = { type: "ipip" };
const GUE: TunnelExpectation = { type: "gue", port: 6080, checksum: true };
const GRE_CSUM: TunnelExpectation = { type: "gre", checksum: true };
const GRE: TunnelExpectation = { type: "gre", checksum: false };

/** The TUN lab's table: on :80 rs1 IPIP, rs2 GUE with checksum; on :8080 GRE to both. */
const TABLE: Record<string, Record<number, TunnelExpectation>> = {
  rs1: { 80: IPIP, 8080: GRE_CSUM },
  rs2: { 80: GUE, 8080: GRE },
};

function expectation(groups = Object.entries(TABLE)): TsharkExpectation {
  return {
    director: TUN_DIRECTOR,
    servers: new Map(Object.entries(TUN_SERVERS).map(([h, a]) => [a, h])),
    vips: new Set([TUN_VIP]),
    // Ports no service names (here: none decoded) take :80's tunnel, as FTP's data would.
    tunnelFor: (host, vport) => TABLE[host]?.[vport] ?? TABLE[host]?.[80] ?? null,
    groups: groups.flatMap(([host, byPort]) =>
      Object.values(byPort).map((want) => ({ host, want }))
    ),
  };
}

type Faults = Partial<Record<"ipip" | "gue" | "greCsum" | "gre", Partial<TunConnectionSpec>>>;

/** Four connections, one per tunnel of the table, each changed as `faults` says. */
function judge(
  faults: Faults = {},
  e = expectation(),
  change: (rows: TsharkRow[]) => void = () => {},
) {
  const spec = (
    key: keyof Faults,
    server: "rs1" | "rs2",
    vport: number,
    want: TunnelExpectation,
    t0: number,
  ): TunConnectionSpec => ({
    clientPort: 40000 + t0,
    server,
    vport,
    t0,
    ipId: 100 * t0,
    tunnel: { type: want.type, port: want.port, checksum: want.checksum },
    ...faults[key],
  });
  const c = mergeTunCaptures([
    tunConnection(spec("ipip", "rs1", 80, IPIP, 1)),
    tunConnection(spec("gue", "rs2", 80, GUE, 2)),
    tunConnection(spec("greCsum", "rs1", 8080, GRE_CSUM, 3)),
    tunConnection(spec("gre", "rs2", 8080, GRE, 4)),
  ]);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lvs-tshark-"));
  try {
    const file = path.join(dir, "dirnet.pcap");
    writePcap(file, LINKTYPE_ETHERNET, c.director);
    const run = runTshark(file, [6080]);
    if ("error" in run) throw new Error(run.error);
    change(run.rows);
    return judgeTsharkTunnels(run.rows, e);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test(
  "IPIP, GUE with UDP checksum, GRE with and without checksum: all decoded and right",
  { skip },
  () => {
    const r = judge();
    assert.ok(r.passed, `${r.line}\n${r.details.join("\n")}`);
    assert.equal(r.data.tunnels, 20);
    assert.equal(r.data.compared, 20);
    assert.deepEqual(r.details, [
      "rs1 GRE with checksum: 5 packets",
      "rs1 IPIP: 5 packets",
      "rs2 GRE without checksum: 5 packets",
      "rs2 GUE (UDP 6080) with UDP checksum: 5 packets",
    ]);
  },
);

const flipLast = (b: Uint8Array) => {
  b[b.length - 1] ^= 0xff;
};

function fails(faults: Faults, pattern: RegExp, e?: TsharkExpectation): void {
  const r = judge(faults, e);
  assert.equal(r.passed, false, r.line);
  assert.match(r.line, pattern);
}

test("a wrong GRE checksum fails", { skip }, () => {
  fails(
    { greCsum: { tunnel: { type: "gre", checksum: true, mangle: flipLast } } },
    /to rs1 \(inner port 8080\): gre\.checksum\.status bad/,
  );
});

test("a GRE C bit the table does not give, or one missing, fails", { skip }, () => {
  fails(
    { gre: { tunnel: { type: "gre", checksum: true } } },
    /to rs2 \(inner port 8080\): gre\.flags\.checksum 1, the table says nocsum/,
  );
  fails(
    { greCsum: { tunnel: { type: "gre" } } },
    /to rs1 \(inner port 8080\): gre\.flags\.checksum 0, the table says csum/,
  );
});

test("another tunnel type than the table gives fails", { skip }, () => {
  fails({ greCsum: { tunnel: { type: "ipip" } } }, /outer protocol 4, not 47/);
});

test("a TTL not lowered, or an outer TTL other than the inner, fails", { skip }, () => {
  fails(
    { ipip: { tamperInner: (ip) => ({ ...ip, ttl: 63 }) } },
    /inner ip\.ttl 63, the client's 63 at the director/,
  );
  fails({ gre: { tamperOuter: (t) => ({ ...t, ttl: 64 }) } }, /outer ip\.ttl 64, inner 62/);
});

test("a wrong GUE port and a bad UDP checksum fail", { skip }, () => {
  fails(
    { gue: { tunnel: { type: "gue", port: 6081, checksum: true } } },
    /frame \d+ to rs2: udp\.dstport 6081, not the --tun-port 6080/,
  );
  fails(
    { gue: { tunnel: { type: "gue", port: 6080, checksum: true, mangle: flipLast } } },
    /udp\.checksum\.status bad/,
  );
});

test("a tunnel of the table seen nowhere fails", { skip }, () => {
  const e = expectation();
  const extra = { ...e, groups: [...e.groups, { host: "rs2", want: IPIP }] };
  const r = judge({}, extra);
  assert.equal(r.passed, false);
  assert.match(r.line, /no IPIP packet to rs2 was decoded/);
});

test(
  "an inner TCP checksum the director broke fails; the client's own, kept, passes",
  { skip },
  () => {
    const broken = {
      greCsum: { tamperInner: (ip: PacketSpec) => ({ ...ip, badL4Checksum: true }) },
    };
    fails(
      broken,
      /to rs1 \(inner port 8080\): inner tcp\.checksum 0x[0-9a-f]+ status bad, not the client's/,
    );
    // The same, had the client sent those checksums itself: the arrived segments carry them.
    const r = judge(broken, expectation(), (rows) => {
      const tunnelled = rows.filter((x) =>
        x["ip.src"].length === 2 && x["tcp.dstport"][0] === "8080" &&
        x["ip.dst"][0] === TUN_SERVERS.rs1
      );
      for (const t of tunnelled) {
        const twin = rows.find((x) =>
          x["ip.src"].length === 1 && x["ip.id"][0] === t["ip.id"][1] &&
          x["tcp.dstport"][0] === "8080"
        )!;
        twin["tcp.checksum"] = t["tcp.checksum"];
      }
    });
    assert.ok(r.passed, r.line);
    assert.equal(r.data.kept, 5);
    assert.match(r.line, /5 inner TCP checksums tshark calls bad the client's own, kept/);
  },
);
