import { test } from "node:test";
import assert from "node:assert/strict";
import { COUNTER_FIELDS, countersOf, formatCounters } from "./format.ts";
import type { EngineSnapshot } from "../control/snapshot.ts";

test("totals in /proc/net/ip_vs_stats's layout, then the director's own counters", () => {
  const text = formatCounters({
    connections: 12,
    maxConnections: 1_048_576,
    totals: { conns: 3000, inpkts: 21_345, outpkts: 18_002, inbytes: 1_234_567, outbytes: 5e9 },
    totalRates: { cps: 150, inpps: 1067, outpps: 900, inbps: 61_728, outbps: 250_000_000 },
    drops: { "tcp-not-syn": 1, "no-service": 4, "bad-ip-checksum": 2 },
    refusalsSent: 4,
    reclaimedHalfOpen: 0,
    writeErrors: 0,
    packetsRead: 40_123,
    packetThreadId: 4711,
    transmitThreadIds: [],
    sentByTransmitThread: [],
    superPacketsRead: 310,
    writtenByPacketThread: 20_000,
    writtenByTransmitWorker: 1_345,
    framesSent: 64,
    framesSentByTransmitWorker: 24,
    frameSendErrors: 1,
    frameSendCalls: 5,
    tunnelPacketsSent: 7,
    tunnelSendErrors: 0,
    natFramesQueued: 40,
    natFallbacks: { noNextHop: 3, neighbour: 2, tooBig: 1 },
    tunnelHops: [
      {
        server: "172.16.3.2",
        tunnel: "gue 6080 csum",
        source: "172.16.1.2",
        routeMtu: 1500,
        pmtu: 1400,
        pmtuExpiresSeconds: 597,
      },
      {
        server: "172.16.2.2",
        tunnel: "ipip",
        source: null,
        routeMtu: 0,
        pmtu: 0,
        pmtuExpiresSeconds: 0,
      },
    ],
    tunnelIcmp: { received: 3, translated: 2, pmtuUpdates: 2 },
    nextHops: [
      { server: "172.16.0.2", ifname: "eth1", mac: "02:00:00:00:00:02", status: "RESOLVED" },
      { server: "172.16.9.9", ifname: null, mac: null, status: "not-on-link" },
    ],
  });
  assert.equal(
    text,
    "   Total Incoming Outgoing         Incoming         Outgoing\n" +
      "   Conns  Packets  Packets            Bytes            Bytes\n" +
      "     BB8     5361     4652           12D687        12A05F200\n" +
      "\n" +
      " Conns/s   Pkts/s   Pkts/s          Bytes/s          Bytes/s\n" +
      "      96      42B      384             F120          EE6B280\n" +
      "\n" +
      "Connection entries: 12 (limit 1048576)\n" +
      "Dropped packets: 7\n" +
      "  bad-ip-checksum                  2\n" +
      "  no-service                       4\n" +
      "  tcp-not-syn                      1\n" +
      "Refusals sent (TCP reset or ICMP port unreachable): 4\n" +
      "Half-open entries reclaimed (SYN-flood defence): 0\n" +
      "Packets read from the TUN device: 40123\n" +
      "Threads (Linux thread ids, as perf names them): packet 4711, transmit -\n" +
      "Super-packets read (TSO offload): 310\n" +
      "Packets written by the packet thread: 20000\n" +
      "Packets written by the transmit thread: 1345\n" +
      "Failed writes to the TUN device: 0\n" +
      "Frames sent (packet sockets, VS/DR and VS/NAT): 64 in 5 sendmmsg calls, 24 of them by " +
      "the transmit thread\n" +
      "Frames the kernel refused: 1\n" +
      "VS/NAT packets sent as frames: 40; written to the TUN device instead: 3 (no next hop), " +
      "2 (MAC unresolved), 1 (too big)\n" +
      "VS/TUN packets sent (raw socket): 7, refused: 0\n" +
      "VS/TUN ICMP errors about tunnel packets: 3, sent on to the client: 2, path MTU updates: 2\n" +
      "VS/TUN next hops (server, tunnel, outer source, route MTU, learnt path MTU):\n" +
      "  172.16.3.2      gue 6080 csum   172.16.1.2      1500  1400 (expires in 597 s)\n" +
      "  172.16.2.2      ipip            no-route        0     -\n" +
      "VS/DR next hops (server, interface, MAC, neighbour state):\n" +
      "  172.16.0.2      eth1            02:00:00:00:00:02 RESOLVED\n" +
      "  172.16.9.9      -               -                 not-on-link\n",
  );
});

test("lvs-stats --json carries the counters of a snapshot and nothing else of it", () => {
  const snapshot = {
    connTableSize: 4096,
    services: [{ port: 80 }],
    connections: 1,
    maxConnections: 16,
    totals: { conns: 1, inpkts: 2, outpkts: 3, inbytes: 4, outbytes: 5 },
    totalRates: { cps: 0, inpps: 0, outpps: 0, inbps: 0, outbps: 0 },
    drops: {},
    refusalsSent: 0,
    reclaimedHalfOpen: 0,
    writeErrors: 0,
    superPacketsRead: 7,
    writtenByPacketThread: 8,
    writtenByTransmitWorker: 9,
    framesSent: 10,
    frameSendErrors: 0,
    frameSendCalls: 1,
    tunnelPacketsSent: 0,
    tunnelSendErrors: 0,
    tunnelHops: [],
    tunnelIcmp: { received: 0, translated: 0, pmtuUpdates: 0 },
    nextHops: [],
  } as unknown as EngineSnapshot;
  const counters = countersOf(snapshot);
  assert.deepEqual(Object.keys(counters), [...COUNTER_FIELDS]);
  assert.equal(counters.writtenByTransmitWorker, 9);
  assert.equal("services" in counters, false);
});
