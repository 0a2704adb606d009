import { test } from "node:test";
import assert from "node:assert/strict";
import { parseIperf3Tcp, parseIperf3Udp } from "./iperf3.ts";

// Trimmed from real `iperf3 -J` 3.12 output on the lab.
const TCP = JSON.stringify({
  start: { connected: [] },
  end: {
    sum_sent: {
      seconds: 2.000335,
      bytes: 1336803328,
      bits_per_second: 5346317803.77,
      retransmits: 823,
    },
    sum_received: { seconds: 2.000577, bytes: 1316019584, bits_per_second: 5262560087.41 },
  },
});

const UDP = JSON.stringify({
  end: {
    sum: { seconds: 2.000146, bytes: 7142592, packets: 111603, lost_packets: 11840 },
    sum_sent: { seconds: 2.000024, bytes: 7142592, packets: 111603, lost_packets: 0 },
    sum_received: { seconds: 2.000146, bytes: 6384832, packets: 111603, lost_packets: 11840 },
  },
});

test("TCP: the receiver's rate and the sender's retransmits", () => {
  const r = parseIperf3Tcp(TCP);
  assert.equal(r.bitsPerSecond, 5262560087.41);
  assert.equal(r.bytes, 1316019584);
  assert.equal(r.retransmits, 823);
});

test("UDP: delivered is sent minus lost, per second of the server's run", () => {
  const r = parseIperf3Udp(UDP);
  assert.equal(r.sent, 111603);
  assert.equal(r.delivered, 111603 - 11840);
  assert.ok(Math.abs(r.deliveredPerSecond - (111603 - 11840) / 2.000146) < 1e-6);
  // 64-byte datagrams: what arrived is the received bytes / 64.
  assert.equal(r.delivered, 6384832 / 64);
});

test("UDP output of iperf3 versions without sum_received uses end.sum", () => {
  const old = JSON.stringify({
    end: { sum: { seconds: 4, packets: 1000, lost_packets: 200 } },
  });
  const r = parseIperf3Udp(old);
  assert.equal(r.delivered, 800);
  assert.equal(r.deliveredPerSecond, 200);
});

test("iperf3's own error and non-JSON output become sentences", () => {
  assert.throws(
    () =>
      parseIperf3Tcp(JSON.stringify({ error: "unable to connect to server: Connection refused" })),
    /iperf3: unable to connect to server/,
  );
  assert.throws(() => parseIperf3Tcp("iperf3: error - unable to connect"), /did not print JSON/);
  assert.throws(() => parseIperf3Tcp(JSON.stringify({ end: {} })), /end.sum_received/);
});
