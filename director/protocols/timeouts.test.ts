import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  applyTimeoutSet,
  CONN_INITIAL_TIMEOUT_S,
  defaultTimeouts,
  formatTimeouts,
  MAX_TIMEOUT_S,
  parseSetArguments,
  parseTimeoutValue,
  timeoutSecondsForState,
  timeoutSet,
} from "./timeouts.ts";
import { TCP_STATE_COUNT, tcpStateFromName } from "./tcp-state.ts";
import { UDP_DEFAULT_TIMEOUT, UDP_STATE, udpStateName } from "./udp-state.ts";
import { connStateName } from "./state-name.ts";

describe("timeouts", () => {
  it("defaults are the kernel's, for every TCP state and UDP", () => {
    const t = defaultTimeouts();
    const expected: [string, number][] = [
      ["NONE", 2],
      ["ESTABLISHED", 900],
      ["SYN_SENT", 120],
      ["SYN_RECV", 60],
      ["FIN_WAIT", 120],
      ["TIME_WAIT", 120],
      ["CLOSE", 10],
      ["CLOSE_WAIT", 60],
      ["LAST_ACK", 30],
      ["LISTEN", 120],
      ["SYNACK", 120],
    ];
    for (const [name, seconds] of expected) {
      assert.equal(timeoutSecondsForState(t, tcpStateFromName(name)), seconds, name);
    }
    assert.equal(t.udp, 300);
    assert.equal(UDP_DEFAULT_TIMEOUT, 300);
    assert.equal(CONN_INITIAL_TIMEOUT_S, 3);
    assert.equal(formatTimeouts(t), "Timeout (tcp tcpfin udp): 900 120 300");
  });

  it("defaultTimeouts returns an independent copy each time", () => {
    const a = defaultTimeouts();
    a.tcp = 5;
    assert.equal(defaultTimeouts().tcp, 900);
  });

  it("states out of range fall back to the NONE timeout", () => {
    const t = defaultTimeouts();
    t.none = 7;
    assert.equal(timeoutSecondsForState(t, TCP_STATE_COUNT), 7);
    assert.equal(timeoutSecondsForState(t, 15), 7);
  });

  it("--set changes ESTABLISHED, FIN_WAIT and UDP; 0 leaves a value unchanged", () => {
    const t = defaultTimeouts();
    applyTimeoutSet(t, { tcp: 60, tcpfin: 0, udp: 15 });
    assert.deepEqual(timeoutSet(t), { tcp: 60, tcpfin: 120, udp: 15 });
    assert.equal(timeoutSecondsForState(t, tcpStateFromName("ESTABLISHED")), 60);
    applyTimeoutSet(t, { tcp: 0, tcpfin: 30, udp: 0 });
    assert.equal(timeoutSecondsForState(t, tcpStateFromName("FIN_WAIT")), 30);
    assert.equal(formatTimeouts(t), "Timeout (tcp tcpfin udp): 60 30 15");
    // Other states keep their defaults.
    assert.equal(timeoutSecondsForState(t, tcpStateFromName("TIME_WAIT")), 120);
  });

  it("--set rejects bad values without changing anything", () => {
    const t = defaultTimeouts();
    assert.throws(() => applyTimeoutSet(t, { tcp: 10, tcpfin: 10, udp: -1 }), /udp/);
    assert.throws(() => applyTimeoutSet(t, { tcp: 1.5, tcpfin: 10, udp: 1 }), /tcp/);
    assert.throws(() => applyTimeoutSet(t, { tcp: MAX_TIMEOUT_S + 1, tcpfin: 0, udp: 0 }), /0 to/);
    assert.deepEqual(timeoutSet(t), { tcp: 900, tcpfin: 120, udp: 300 });
  });

  it("parses ipvsadm --set arguments", () => {
    assert.deepEqual(parseSetArguments(["900", "120", "300"]), { tcp: 900, tcpfin: 120, udp: 300 });
    assert.deepEqual(parseSetArguments(["0", "0", "10"]), { tcp: 0, tcpfin: 0, udp: 10 });
    assert.equal(parseTimeoutValue(String(MAX_TIMEOUT_S)), MAX_TIMEOUT_S);
    assert.throws(() => parseSetArguments(["900", "120"]), /requires 3 timeout values/);
    assert.throws(() => parseTimeoutValue(String(MAX_TIMEOUT_S + 1)), /invalid timeout value/);
    for (const bad of ["", "-1", "1.5", "10s", "abc", "1e3"]) {
      assert.throws(() => parseTimeoutValue(bad), /invalid timeout value/, bad);
    }
  });
});

describe("state names", () => {
  it("UDP has one state, printed as UDP", () => {
    assert.equal(udpStateName(UDP_STATE), "UDP");
    assert.equal(udpStateName(1), "ERR!");
    assert.equal(connStateName(17, UDP_STATE), "UDP");
    assert.equal(connStateName(6, 1), "ESTABLISHED");
    assert.equal(connStateName(6, 5), "TIME_WAIT");
    assert.equal(connStateName(1, 0), "ERR!");
  });
});
