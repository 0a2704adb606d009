import { test } from "node:test";
import assert from "node:assert/strict";
import { flowShard } from "./flow-shard.ts";
import { buildPacket, Rng } from "../packet/test-support.ts";
import { VNET_HDR_LEN } from "../packet/vnet-header.ts";
import { parseIPv4 } from "../net/ipv4-address.ts";

const CLIENT = parseIPv4("198.51.100.2")!;
const VIP = parseIPv4("203.0.113.5")!;
const rng = new Rng(16);

function shardOf(packet: Uint8Array, shards: number): number {
  return flowShard(packet, VNET_HDR_LEN, packet.length, shards);
}

test("every packet of a flow takes one shard, whatever its payload", () => {
  for (let port = 1024; port < 1124; port++) {
    const first = buildPacket(rng, {
      proto: 6,
      payloadLen: 0,
      src: CLIENT,
      dst: VIP,
      sport: port,
      dport: 80,
    });
    const shard = shardOf(first, 4);
    for (let k = 0; k < 5; k++) {
      const later = buildPacket(rng, {
        proto: 6,
        payloadLen: 1 + k * 300,
        src: CLIENT,
        dst: VIP,
        sport: port,
        dport: 80,
      });
      assert.equal(shardOf(later, 4), shard, `port ${port}, packet ${k}`);
    }
  }
});

test("the flows of one client spread over the shards", () => {
  // 1,000 connections from one client (the bench's case): each of 2 and 4 shards gets a
  // fair part, so one address does not pin the load on one transmit thread.
  for (const shards of [2, 3, 4]) {
    const counts = new Array<number>(shards).fill(0);
    for (let port = 30000; port < 31000; port++) {
      counts[
        shardOf(
          buildPacket(rng, {
            proto: 17,
            payloadLen: 8,
            src: CLIENT,
            dst: VIP,
            sport: port,
            dport: 53,
          }),
          shards,
        )
      ]!++;
    }
    for (const count of counts) {
      assert.ok(count > 1000 / shards * 0.8, `${shards} shards: ${counts.join(", ")}`);
    }
  }
});

test("a datagram's fragments share a shard: the later ones have no ports to hash", () => {
  const ports = { src: CLIENT, dst: VIP, sport: 4000, dport: 53 };
  const moreFragments = 0x2000;
  const first = buildPacket(rng, { proto: 17, payloadLen: 200, ...ports, fragWord: moreFragments });
  const sameAddresses = new Set<number>();
  for (let offset = 1; offset < 40; offset++) {
    // A later fragment's first bytes are payload: random, standing where ports would be.
    const later = buildPacket(rng, { proto: 17, payloadLen: 200, ...ports, fragWord: offset });
    sameAddresses.add(shardOf(later, 8));
  }
  assert.deepEqual([...sameAddresses], [shardOf(first, 8)]);
});

test("one shard, a short packet or an unknown version: shard 0", () => {
  const packet = buildPacket(rng, {
    proto: 6,
    payloadLen: 0,
    src: CLIENT,
    dst: VIP,
    sport: 9,
    dport: 80,
  });
  assert.equal(shardOf(packet, 1), 0);
  assert.equal(flowShard(packet, VNET_HDR_LEN, VNET_HDR_LEN + 12, 4), 0);
  const garbage = packet.slice();
  garbage[VNET_HDR_LEN] = 0x55;
  assert.equal(shardOf(garbage, 4), 0);
});

test("IPv6: addresses and ports decide", () => {
  const packet = new Uint8Array(VNET_HDR_LEN + 40 + 8);
  const ip = packet.subarray(VNET_HDR_LEN);
  ip[0] = 0x60;
  ip[6] = 17;
  ip.fill(0x20, 8, 40);
  const seen = new Set<number>();
  for (let port = 0; port < 64; port++) {
    ip[40] = port;
    seen.add(shardOf(packet, 4));
    ip.fill(0xee, 44, 48); // the UDP length and checksum do not move it
    const again = shardOf(packet, 4);
    ip.fill(0, 44, 48);
    assert.equal(shardOf(packet, 4), again);
  }
  assert.equal(seen.size, 4);
});
