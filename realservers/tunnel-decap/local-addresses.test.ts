// Inner destinations: the host's IPv4 addresses from `ip -j addr` (no 127/8, no IPv6),
// narrowed to --vip when given; VIPs the host does not hold are named in a warning.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseIPv4 } from "../../director/net/ipv4-address.ts";
import { innerDestinations, missingVips, parseIpAddrJson } from "./local-addresses.ts";

const a = (t: string) => parseIPv4(t)!;
const IP_J = JSON.stringify([
  {
    ifname: "lo",
    addr_info: [{ family: "inet", local: "127.0.0.1" }, { family: "inet", local: "203.0.113.5" }],
  },
  {
    ifname: "eth0",
    addr_info: [{ family: "inet", local: "172.16.1.2" }, { family: "inet6", local: "fe80::1" }],
  },
  { ifname: "eth1" },
]);

test("ip -j addr: IPv4 only, loopback range left out, sorted", () => {
  assert.deepEqual(parseIpAddrJson(IP_J), [a("172.16.1.2"), a("203.0.113.5")]);
});

test("with --vip only those, as signed 32-bit numbers; missing VIPs named", () => {
  const local = parseIpAddrJson(IP_J);
  assert.deepEqual([...innerDestinations(local, [])], [a("172.16.1.2") | 0, a("203.0.113.5") | 0]);
  assert.deepEqual([...innerDestinations(local, [a("203.0.113.5"), a("203.0.113.6")])], [
    a("203.0.113.5") | 0,
  ]);
  const warnings = missingVips(local, [a("203.0.113.5"), a("203.0.113.6")]);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /203\.0\.113\.6 .*ip addr add 203\.0\.113\.6\/32 dev lo/);
});
