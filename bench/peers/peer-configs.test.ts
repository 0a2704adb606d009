// The peers' generated configurations describe the same services: HTTP balanced over both
// real servers, iperf3 (TCP, and UDP where the peer can) to rs1; lvslab's in VS/NAT, VS/DR
// and VS/TUN, whose decapsulators expect what the director sends.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseDirectorConfig } from "../../director/config/service-config.ts";
import { BENCH_GUE_PORT, lvslabServices } from "./lvslab-director.ts";
import { decapArgv, tunLabel } from "./lvslab-tun.ts";
import { haproxyConfig } from "./haproxy.ts";
import { nftDnatRuleset } from "./nft-dnat.ts";
import { nginxConfig } from "../realservers.ts";
import { benchTopology, DIRECTOR_PRIVATE, RS1, RS2, VIP } from "../config.ts";

test("lvslab's table is a valid director config with the bench's services", () => {
  const config = parseDirectorConfig(lvslabServices(), "bench");
  const byKey = new Map(config.services.map((s) => [`${s.protocol}:${s.port}`, s]));
  assert.deepEqual(byKey.get("tcp:80")!.servers.map((s) => s.address), [RS1, RS2]);
  assert.deepEqual(byKey.get("tcp:5201")!.servers.map((s) => s.address), [RS1]);
  assert.deepEqual(byKey.get("udp:5201")!.servers.map((s) => s.address), [RS1]);
  for (const s of config.services) assert.equal(s.address, VIP);
  for (const s of config.services) assert.ok(s.servers.every((r) => r.method === "masq"));
});

test("lvslab DR's table is the same services with method route on the services' ports", () => {
  const nat = parseDirectorConfig(lvslabServices(), "bench");
  const dr = parseDirectorConfig(lvslabServices("route"), "bench-dr");
  assert.equal(dr.services.length, nat.services.length);
  for (const [i, s] of dr.services.entries()) {
    assert.deepEqual(
      { ...s, servers: s.servers.map((r) => ({ ...r, method: "masq" })) },
      nat.services[i],
    );
    for (const r of s.servers) {
      assert.equal(r.method, "route");
      assert.equal(r.port, s.port);
    }
  }
});

test("lvslab TUN's table: the same services with method tunnel and the chosen encapsulation", () => {
  const nat = parseDirectorConfig(lvslabServices(), "bench");
  for (const type of ["ipip", "gue", "gre"] as const) {
    const tun = parseDirectorConfig(lvslabServices("tunnel", type), `bench-tun-${type}`);
    assert.equal(tun.services.length, nat.services.length);
    for (const s of tun.services) {
      for (const r of s.servers) {
        assert.equal(r.method, "tunnel");
        assert.equal(r.tunType, type);
        assert.equal(r.tunPort, type === "gue" ? BENCH_GUE_PORT : undefined);
        assert.equal(r.port, s.port);
      }
    }
  }
});

test("lvslab-decap expects the director's private address, the tunnel type and the VIP", () => {
  // The outer source is the director host's address on the real servers' LAN.
  const director = benchTopology().hosts.find((h) => h.name === "director")!;
  const rs1 = benchTopology().hosts.find((h) => h.name === "rs1")!;
  const lan = director.interfaces.find((i) => i.network === rs1.interfaces[0]!.network)!;
  assert.equal(lan.address, `${DIRECTOR_PRIVATE}/24`);
  const argv = decapArgv("gue", "/tmp/w/rs1-decap.json");
  const after = (flag: string) => argv[argv.indexOf(flag) + 1];
  assert.equal(after("--director"), DIRECTOR_PRIVATE);
  assert.equal(after("--type"), "gue");
  assert.equal(after("--gue-port"), String(BENCH_GUE_PORT));
  assert.equal(after("--vip"), VIP);
  assert.equal(after("--stats-file"), "/tmp/w/rs1-decap.json");
  assert.ok(argv.some((a) => a.endsWith("realservers/tunnel-decap.ts")));
  assert.ok(!argv.includes("--cpu-prof"));
  const ipip = decapArgv("ipip", "/tmp/s.json", "/tmp/prof");
  assert.ok(!ipip.includes("--gue-port"));
  assert.equal(ipip[ipip.indexOf("--cpu-prof-dir") + 1], "/tmp/prof");
  assert.equal(tunLabel("ipip"), "lvslab TUN");
  assert.equal(tunLabel("gre"), "lvslab TUN (GRE)");
});

test("nftables DNAT alternates HTTP over both servers and sends iperf3 to rs1", () => {
  const rules = nftDnatRuleset();
  assert.match(
    rules,
    new RegExp(`tcp dport 80 dnat to numgen inc mod 2 map \\{ 0 : ${RS1}, 1 : ${RS2} \\}`),
  );
  assert.match(rules, new RegExp(`tcp dport 5201 dnat to ${RS1}`));
  assert.match(rules, new RegExp(`udp dport 5201 dnat to ${RS1}`));
  assert.match(rules, /hook prerouting priority dstnat/);
});

test("HAProxy binds the VIP in TCP mode with both HTTP servers", () => {
  const cfg = haproxyConfig(1234);
  assert.match(cfg, /mode tcp/);
  assert.match(cfg, /maxconn 1234/);
  assert.match(cfg, new RegExp(`bind ${VIP}:80`));
  assert.match(cfg, new RegExp(`server rs2 ${RS2}:80`));
  assert.match(cfg, new RegExp(`bind ${VIP}:5201`));
});

test("nginx listens on its own address and the VIP, keeps its files in the work directory", () => {
  const cfg = nginxConfig("rs2", RS2, "/tmp/w");
  assert.match(cfg, new RegExp(`listen ${RS2}:80`));
  assert.match(cfg, new RegExp(`listen ${VIP}:80`));
  assert.match(cfg, /daemon off;/);
  assert.match(cfg, /pid \/tmp\/w\/nginx-rs2-pid;/);
  assert.doesNotMatch(cfg, /\/var\//);
});

test("nginx can listen on more ports of its own address (the scaling bench's servers)", () => {
  const cfg = nginxConfig("rs1", RS1, "/tmp/w", [8001, 8002]);
  const listens = [...cfg.matchAll(/listen (\S+) backlog/g)].map((m) => m[1]);
  assert.deepEqual(listens, [`${RS1}:80`, `${VIP}:80`, `${RS1}:8001`, `${RS1}:8002`]);
});
