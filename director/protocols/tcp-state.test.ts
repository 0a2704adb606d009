import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  applyActiveDelta,
  DIR_INPUT,
  DIR_INPUT_ONLY,
  DIR_OUTPUT,
  effectiveDirection,
  isActiveState,
  newTcpTransition,
  nextTcpState,
  setTcpState,
  TCP_ACK,
  TCP_DEFAULT_TIMEOUTS,
  TCP_FIN,
  TCP_RST,
  TCP_STATE_COUNT,
  TCP_STATES_NORMAL,
  TCP_STATES_SECURE,
  TCP_SYN,
  tcpFlagClass,
  TcpState,
  tcpStateFromName,
  tcpStateName,
  type TcpStateTable,
} from "./tcp-state.ts";

// The kernel's tables (net/netfilter/ipvs/ip_vs_proto_tcp.c, tcp_states and tcp_states_dos),
// transcribed with its abbreviations. Columns are the current state, rows the flag class.
const ABBREV: Record<string, string> = {
  sNO: "NONE",
  sES: "ESTABLISHED",
  sSS: "SYN_SENT",
  sSR: "SYN_RECV",
  sFW: "FIN_WAIT",
  sTW: "TIME_WAIT",
  sCL: "CLOSE",
  sCW: "CLOSE_WAIT",
  sLA: "LAST_ACK",
  sLI: "LISTEN",
  sSA: "SYNACK",
};

const KERNEL_NORMAL = `
INPUT
         sNO, sES, sSS, sSR, sFW, sTW, sCL, sCW, sLA, sLI, sSA
  syn    sSR, sES, sES, sSR, sSR, sSR, sSR, sSR, sSR, sSR, sSR
  fin    sCL, sCW, sSS, sTW, sTW, sTW, sCL, sCW, sLA, sLI, sTW
  ack    sES, sES, sSS, sES, sFW, sTW, sCL, sCW, sCL, sLI, sES
  rst    sCL, sCL, sCL, sSR, sCL, sCL, sCL, sCL, sLA, sLI, sSR
OUTPUT
         sNO, sES, sSS, sSR, sFW, sTW, sCL, sCW, sLA, sLI, sSA
  syn    sSS, sES, sSS, sSR, sSS, sSS, sSS, sSS, sSS, sLI, sSR
  fin    sTW, sFW, sSS, sTW, sFW, sTW, sCL, sTW, sLA, sLI, sTW
  ack    sES, sES, sSS, sES, sFW, sTW, sCL, sCW, sLA, sES, sES
  rst    sCL, sCL, sSS, sCL, sCL, sTW, sCL, sCL, sCL, sCL, sCL
INPUT-ONLY
         sNO, sES, sSS, sSR, sFW, sTW, sCL, sCW, sLA, sLI, sSA
  syn    sSR, sES, sES, sSR, sSR, sSR, sSR, sSR, sSR, sSR, sSR
  fin    sCL, sFW, sSS, sTW, sFW, sTW, sCL, sCW, sLA, sLI, sTW
  ack    sES, sES, sSS, sES, sFW, sTW, sCL, sCW, sCL, sLI, sES
  rst    sCL, sCL, sCL, sSR, sCL, sCL, sCL, sCL, sLA, sLI, sCL
`;

const KERNEL_SECURE = `
INPUT
         sNO, sES, sSS, sSR, sFW, sTW, sCL, sCW, sLA, sLI, sSA
  syn    sSR, sES, sES, sSR, sSR, sSR, sSR, sSR, sSR, sSR, sSA
  fin    sCL, sCW, sSS, sTW, sTW, sTW, sCL, sCW, sLA, sLI, sSA
  ack    sES, sES, sSS, sSR, sFW, sTW, sCL, sCW, sCL, sLI, sSA
  rst    sCL, sCL, sCL, sSR, sCL, sCL, sCL, sCL, sLA, sLI, sCL
OUTPUT
         sNO, sES, sSS, sSR, sFW, sTW, sCL, sCW, sLA, sLI, sSA
  syn    sSS, sES, sSS, sSA, sSS, sSS, sSS, sSS, sSS, sLI, sSA
  fin    sTW, sFW, sSS, sTW, sFW, sTW, sCL, sTW, sLA, sLI, sTW
  ack    sES, sES, sSS, sES, sFW, sTW, sCL, sCW, sLA, sES, sES
  rst    sCL, sCL, sSS, sCL, sCL, sTW, sCL, sCL, sCL, sCL, sCL
INPUT-ONLY
         sNO, sES, sSS, sSR, sFW, sTW, sCL, sCW, sLA, sLI, sSA
  syn    sSA, sES, sES, sSR, sSA, sSA, sSA, sSA, sSA, sSA, sSA
  fin    sCL, sFW, sSS, sTW, sFW, sTW, sCL, sCW, sLA, sLI, sTW
  ack    sES, sES, sSS, sES, sFW, sTW, sCL, sCW, sCL, sLI, sES
  rst    sCL, sCL, sCL, sSR, sCL, sCL, sCL, sCL, sLA, sLI, sCL
`;

const DIRECTIONS: Record<string, number> = {
  INPUT: DIR_INPUT,
  OUTPUT: DIR_OUTPUT,
  "INPUT-ONLY": DIR_INPUT_ONLY,
};
/** A packet carrying exactly one flag of each class. */
const FLAG_BITS: Record<string, number> = {
  syn: TCP_SYN,
  fin: TCP_FIN,
  ack: TCP_ACK,
  rst: TCP_RST,
};

interface Case {
  direction: string;
  flag: string;
  from: string;
  to: string;
}

function parseMatrix(text: string): Case[] {
  const cases: Case[] = [];
  let direction = "";
  let columns: string[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "") continue;
    if (line in DIRECTIONS) {
      direction = line;
      continue;
    }
    const cells = line.split(/[\s,]+/);
    if (cells[0] === "sNO") {
      columns = cells.map((c) => ABBREV[c]);
      continue;
    }
    const [flag, ...targets] = cells;
    assert.equal(targets.length, 11, `row ${direction} ${flag} must have 11 cells`);
    targets.forEach((t, i) => {
      assert.ok(t in ABBREV, `unknown abbreviation ${t}`);
      cases.push({ direction, flag, from: columns[i], to: ABBREV[t] });
    });
  }
  return cases;
}

function checkTable(table: TcpStateTable, matrix: string): void {
  const cases = parseMatrix(matrix);
  assert.equal(cases.length, 3 * 4 * 11);
  for (const c of cases) {
    const from = tcpStateFromName(c.from);
    const got = nextTcpState(table, from, DIRECTIONS[c.direction], FLAG_BITS[c.flag]);
    assert.equal(
      tcpStateName(got),
      c.to,
      `${table.name}: ${c.direction} ${c.flag} from ${c.from} should go to ${c.to}`,
    );
  }
}

describe("tcp state names and timeouts", () => {
  it("numbers the states as the kernel does and names them as ipvsadm prints them", () => {
    const names = Object.values(ABBREV);
    assert.equal(TCP_STATE_COUNT, names.length);
    names.forEach((name, i) => {
      assert.equal(tcpStateName(i), name);
      assert.equal(TcpState[name as keyof typeof TcpState], i);
      assert.equal(tcpStateFromName(name), i);
    });
    assert.equal(tcpStateName(11), "ERR!");
    assert.equal(tcpStateName(-1), "ERR!");
    assert.equal(tcpStateFromName("established"), -1);
  });

  it("has the kernel's default timeouts", () => {
    const expected: Record<string, number> = {
      NONE: 2,
      ESTABLISHED: 900,
      SYN_SENT: 120,
      SYN_RECV: 60,
      FIN_WAIT: 120,
      TIME_WAIT: 120,
      CLOSE: 10,
      CLOSE_WAIT: 60,
      LAST_ACK: 30,
      LISTEN: 120,
      SYNACK: 120,
    };
    for (const [name, seconds] of Object.entries(expected)) {
      assert.equal(TCP_DEFAULT_TIMEOUTS[tcpStateFromName(name)], seconds, name);
    }
  });
});

describe("tcp transition tables", () => {
  it("tcp_states: every state x direction x flag class matches the kernel", () => {
    checkTable(TCP_STATES_NORMAL, KERNEL_NORMAL);
  });

  it("tcp_states_dos (secure_tcp): every cell matches the kernel", () => {
    checkTable(TCP_STATES_SECURE, KERNEL_SECURE);
  });

  it("the two tables differ exactly where the kernel's do", () => {
    const normal = parseMatrix(KERNEL_NORMAL);
    const secure = parseMatrix(KERNEL_SECURE);
    let differing = 0;
    normal.forEach((c, i) => {
      const a = nextTcpState(
        TCP_STATES_NORMAL,
        tcpStateFromName(c.from),
        DIRECTIONS[c.direction],
        FLAG_BITS[c.flag],
      );
      const b = nextTcpState(
        TCP_STATES_SECURE,
        tcpStateFromName(c.from),
        DIRECTIONS[c.direction],
        FLAG_BITS[c.flag],
      );
      assert.equal(a !== b, c.to !== secure[i].to);
      if (a !== b) differing++;
    });
    assert.ok(differing > 0);
  });

  it("a packet with none of SYN/FIN/ACK/RST closes the connection", () => {
    for (let s = 0; s < TCP_STATE_COUNT; s++) {
      assert.equal(nextTcpState(TCP_STATES_NORMAL, s, DIR_INPUT, 0), TcpState.CLOSE);
      assert.equal(nextTcpState(TCP_STATES_NORMAL, s, DIR_OUTPUT, 0x08 /* PSH */), TcpState.CLOSE);
    }
  });
});

describe("flag priority (tcp_state_idx)", () => {
  it("RST beats SYN beats FIN beats ACK", () => {
    const RST = 3, SYN = 0, FIN = 1, ACK = 2;
    assert.equal(tcpFlagClass(TCP_RST | TCP_SYN | TCP_FIN | TCP_ACK), RST);
    assert.equal(tcpFlagClass(TCP_SYN | TCP_FIN | TCP_ACK), SYN);
    assert.equal(tcpFlagClass(TCP_FIN | TCP_ACK), FIN);
    assert.equal(tcpFlagClass(TCP_ACK), ACK);
    assert.equal(tcpFlagClass(TCP_RST | TCP_ACK), RST);
    assert.equal(tcpFlagClass(TCP_SYN | TCP_ACK), SYN);
    assert.equal(tcpFlagClass(0x08 | 0x20 | 0x40 | 0x80), -1);
  });

  it("SYN+ACK from the server is a syn, FIN+ACK a fin, RST+ACK a rst", () => {
    const t = TCP_STATES_NORMAL;
    // OUTPUT syn from SYN_RECV stays SYN_RECV; an ack would make it ESTABLISHED.
    assert.equal(
      nextTcpState(t, TcpState.SYN_RECV, DIR_OUTPUT, TCP_SYN | TCP_ACK),
      TcpState.SYN_RECV,
    );
    assert.equal(nextTcpState(t, TcpState.SYN_RECV, DIR_OUTPUT, TCP_ACK), TcpState.ESTABLISHED);
    // INPUT fin from ESTABLISHED is CLOSE_WAIT; ack would stay ESTABLISHED.
    assert.equal(
      nextTcpState(t, TcpState.ESTABLISHED, DIR_INPUT, TCP_FIN | TCP_ACK),
      TcpState.CLOSE_WAIT,
    );
    // INPUT rst from SYN_SENT closes even with SYN set.
    assert.equal(nextTcpState(t, TcpState.SYN_SENT, DIR_INPUT, TCP_RST | TCP_SYN), TcpState.CLOSE);
  });
});

describe("direction selection (set_tcp_state)", () => {
  it("output uses OUTPUT; input uses INPUT-ONLY while no reply was seen, INPUT after", () => {
    assert.equal(effectiveDirection(DIR_OUTPUT, true), DIR_OUTPUT);
    assert.equal(effectiveDirection(DIR_OUTPUT, false), DIR_OUTPUT);
    assert.equal(effectiveDirection(DIR_INPUT, true), DIR_INPUT_ONLY);
    assert.equal(effectiveDirection(DIR_INPUT, false), DIR_INPUT);
    assert.equal(effectiveDirection(DIR_INPUT_ONLY, false), DIR_INPUT_ONLY);
  });

  it("noOutput turns an input packet into an input-only one", () => {
    // INPUT fin from ESTABLISHED -> CLOSE_WAIT, INPUT-ONLY -> FIN_WAIT.
    const t = TCP_STATES_NORMAL;
    assert.equal(
      nextTcpState(t, TcpState.ESTABLISHED, DIR_INPUT, TCP_FIN, false),
      TcpState.CLOSE_WAIT,
    );
    assert.equal(
      nextTcpState(t, TcpState.ESTABLISHED, DIR_INPUT, TCP_FIN, true),
      TcpState.FIN_WAIT,
    );
    // noOutput does not matter for output packets: OUTPUT fin from ESTABLISHED -> FIN_WAIT,
    // OUTPUT ack from LISTEN -> ESTABLISHED (INPUT-ONLY would keep LISTEN).
    assert.equal(nextTcpState(t, TcpState.LISTEN, DIR_OUTPUT, TCP_ACK, true), TcpState.ESTABLISHED);
  });

  it("the first reply clears noOutput for good", () => {
    const out = newTcpTransition();
    // Client SYN on a connection that has seen no reply yet.
    setTcpState(TCP_STATES_SECURE, TcpState.NONE, true, true, DIR_INPUT, TCP_SYN, out);
    assert.equal(out.noOutput, true);
    assert.equal(tcpStateName(out.newState), "SYNACK"); // INPUT-ONLY syn in secure_tcp
    // The server's SYN+ACK comes back through the director.
    setTcpState(
      TCP_STATES_SECURE,
      out.newState,
      out.inactive,
      out.noOutput,
      DIR_OUTPUT,
      TCP_SYN | TCP_ACK,
      out,
    );
    assert.equal(out.noOutput, false);
    assert.equal(tcpStateName(out.newState), "SYNACK");
    // The client's ACK now goes through INPUT, where SYNACK + ack stays SYNACK in secure_tcp
    // (INPUT-ONLY would have said ESTABLISHED).
    setTcpState(
      TCP_STATES_SECURE,
      out.newState,
      out.inactive,
      out.noOutput,
      DIR_INPUT,
      TCP_ACK,
      out,
    );
    assert.equal(out.noOutput, false);
    assert.equal(tcpStateName(out.newState), "SYNACK");
  });
});

describe("lifecycles", () => {
  function run(
    table: TcpStateTable,
    noOutput: boolean,
    packets: [number, number][],
  ): string[] {
    const out = newTcpTransition();
    let state: number = TcpState.NONE;
    let inactive = true;
    let no = noOutput;
    const seen: string[] = [];
    for (const [dir, flags] of packets) {
      setTcpState(table, state, inactive, no, dir, flags, out);
      state = out.newState;
      inactive = out.inactive;
      no = out.noOutput;
      seen.push(tcpStateName(state));
    }
    return seen;
  }

  it("NAT: handshake, client closes first, ends in TIME_WAIT", () => {
    const seen = run(TCP_STATES_NORMAL, false, [
      [DIR_INPUT, TCP_SYN],
      [DIR_OUTPUT, TCP_SYN | TCP_ACK],
      [DIR_INPUT, TCP_ACK],
      [DIR_INPUT, TCP_ACK],
      [DIR_OUTPUT, TCP_ACK],
      [DIR_INPUT, TCP_FIN | TCP_ACK],
      [DIR_OUTPUT, TCP_FIN | TCP_ACK],
      [DIR_INPUT, TCP_ACK],
    ]);
    assert.deepEqual(seen, [
      "SYN_RECV",
      "SYN_RECV",
      "ESTABLISHED",
      "ESTABLISHED",
      "ESTABLISHED",
      "CLOSE_WAIT",
      "TIME_WAIT",
      "TIME_WAIT",
    ]);
  });

  it("DR/TUN (no output): the client's FIN leads to FIN_WAIT", () => {
    const seen = run(TCP_STATES_NORMAL, true, [
      [DIR_INPUT, TCP_SYN],
      [DIR_INPUT, TCP_ACK],
      [DIR_INPUT, TCP_FIN | TCP_ACK],
      [DIR_INPUT, TCP_ACK],
    ]);
    assert.deepEqual(seen, ["SYN_RECV", "ESTABLISHED", "FIN_WAIT", "FIN_WAIT"]);
  });

  it("a reset closes an established connection", () => {
    const seen = run(TCP_STATES_NORMAL, false, [
      [DIR_INPUT, TCP_SYN],
      [DIR_OUTPUT, TCP_SYN | TCP_ACK],
      [DIR_INPUT, TCP_ACK],
      [DIR_OUTPUT, TCP_RST],
    ]);
    assert.deepEqual(seen, ["SYN_RECV", "SYN_RECV", "ESTABLISHED", "CLOSE"]);
  });
});

describe("active/inactive counting", () => {
  it("counts ESTABLISHED and the pre-established states as active (tcp_state_active_table)", () => {
    const active = ["ESTABLISHED", "SYN_SENT", "SYN_RECV", "SYNACK"];
    for (let s = 0; s < TCP_STATE_COUNT; s++) {
      assert.equal(isActiveState(s), active.includes(tcpStateName(s)), tcpStateName(s));
    }
    assert.equal(isActiveState(99), false);
  });

  it("moves one count between the server's counters on entering/leaving the active states", () => {
    const dest = { activeConns: 0, inactiveConns: 1 }; // a new conn counts as inactive
    const out = newTcpTransition();
    let state: number = TcpState.NONE;
    let inactive = true;
    const step = (dir: number, flags: number) => {
      setTcpState(TCP_STATES_NORMAL, state, inactive, false, dir, flags, out);
      applyActiveDelta(dest, out.activeDelta);
      state = out.newState;
      inactive = out.inactive;
      return out.activeDelta;
    };
    assert.equal(step(DIR_INPUT, TCP_SYN), 1); // NONE -> SYN_RECV: active
    assert.deepEqual(dest, { activeConns: 1, inactiveConns: 0 });
    assert.equal(inactive, false);
    assert.equal(step(DIR_OUTPUT, TCP_SYN | TCP_ACK), 0); // stays SYN_RECV
    assert.equal(step(DIR_INPUT, TCP_ACK), 0); // SYN_RECV -> ESTABLISHED: both active
    assert.deepEqual(dest, { activeConns: 1, inactiveConns: 0 });
    assert.equal(step(DIR_INPUT, TCP_FIN), -1); // -> CLOSE_WAIT: inactive
    assert.deepEqual(dest, { activeConns: 0, inactiveConns: 1 });
    assert.equal(inactive, true);
    assert.equal(step(DIR_OUTPUT, TCP_FIN), 0); // -> TIME_WAIT: still inactive
    assert.deepEqual(dest, { activeConns: 0, inactiveConns: 1 });
    assert.equal(step(DIR_INPUT, TCP_SYN), 1); // TIME_WAIT + syn -> SYN_RECV: active again
    assert.deepEqual(dest, { activeConns: 1, inactiveConns: 0 });
  });

  it("changes no counter when the state does not change", () => {
    const out = newTcpTransition();
    // An active connection in ESTABLISHED receiving an ack: nothing moves.
    setTcpState(TCP_STATES_NORMAL, TcpState.ESTABLISHED, false, false, DIR_INPUT, TCP_ACK, out);
    assert.equal(out.activeDelta, 0);
    assert.equal(out.inactive, false);
    // Same state with a mismatched mark (the kernel only looks on a change): still nothing.
    setTcpState(TCP_STATES_NORMAL, TcpState.ESTABLISHED, true, false, DIR_INPUT, TCP_ACK, out);
    assert.equal(out.activeDelta, 0);
    assert.equal(out.inactive, true);
  });
});
