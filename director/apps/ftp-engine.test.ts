// FTP through DirectorEngine.process() with crafted packets: one control connection carrying
// many passive transfers (227 rewrites that grow or shrink the payload), retransmissions,
// SACK, NEEDS_CSUM packets, active mode from port 20, and data connections that hold their
// control connection. Every packet that leaves is checked by full checksum recomputation,
// and the sequence numbers both ends see are checked against a model of each end.
import { test } from "node:test";
import assert from "node:assert/strict";
import { DirectorEngine } from "../engine/engine.ts";
import { parseIPv4 } from "../net/ipv4-address.ts";
import { inspect, type Seen, segment, type SegmentOptions } from "./test-support.ts";
import { IP, u16 } from "../packet/test-support.ts";

const CLIENT = parseIPv4("198.51.100.2")!;
const SYN = 0x02;
const ACK = 0x10;
const FIN = 0x01;
const RST = 0x04;
const PSH_ACK = 0x18;

interface Pair {
  vip: number;
  rs: number;
  rsText: string;
  vipText: string;
}
// "172,16,0,3" → "203,0,113,5": +1 per rewrite. "172,16,0,100" → "192,0,2,1": -3.
const GROWS: Pair = {
  vip: parseIPv4("203.0.113.5")!,
  rs: parseIPv4("172.16.0.3")!,
  rsText: "172,16,0,3",
  vipText: "203,0,113,5",
};
const SHRINKS: Pair = {
  vip: parseIPv4("192.0.2.1")!,
  rs: parseIPv4("172.16.0.100")!,
  rsText: "172,16,0,100",
  vipText: "192,0,2,1",
};

function ftpEngine(pair: Pair): DirectorEngine {
  const engine = new DirectorEngine({ maxConnections: 256, nowMs: 0 });
  engine.services.addService({ protocol: "tcp", addr: pair.vip, port: 21, schedulerName: "wlc" });
  engine.services.addDestination("tcp", pair.vip, 21, {
    addr: pair.rs,
    port: 21,
    weight: 1,
    method: "masq",
  });
  return engine;
}

/** Runs one packet through the engine; returns what left (or null when dropped). */
function send(engine: DirectorEngine, o: SegmentOptions): Seen | null {
  const buf = segment(o);
  const n = engine.process(buf, IP + u16(buf, IP + 2));
  if (n === 0) return null;
  const seen = inspect(buf, n); // IP and TCP checksums verified by full recomputation
  assert.equal(seen.length, n, "the engine writes back exactly the packet");
  return seen;
}

/**
 * One FTP control connection through the engine, modelled from both ends: the client's and
 * the server's own sequence numbers, and what each end must see of the other's.
 */
class Control {
  clientSeq = 1_000;
  serverSeq = 0xfffff000; // wraps during the test
  /** Next server byte as the client sees it (after rewrites). */
  clientSeesServer = 0;
  sport = 40000;
  constructor(readonly engine: DirectorEngine, readonly pair: Pair) {}

  open(): void {
    const { engine, pair } = this;
    const syn = send(engine, {
      src: CLIENT,
      dst: pair.vip,
      sport: this.sport,
      dport: 21,
      seq: this.clientSeq,
      flags: SYN,
    })!;
    assert.equal(syn.dst, pair.rs);
    this.clientSeq++;
    const synAck = send(engine, {
      src: pair.rs,
      dst: CLIENT,
      sport: 21,
      dport: this.sport,
      seq: this.serverSeq,
      ack: this.clientSeq,
      flags: SYN | ACK,
    })!;
    assert.equal(synAck.src, pair.vip);
    this.serverSeq = (this.serverSeq + 1) >>> 0;
    this.clientSeesServer = this.serverSeq;
    this.clientAck();
    this.serverSays("220 (vsFTPd 3.0.3)\r\n");
  }

  /** The client sends a command; the server must see it unchanged with a coherent ack. */
  clientSays(text: string): Seen {
    const seen = send(this.engine, {
      src: CLIENT,
      dst: this.pair.vip,
      sport: this.sport,
      dport: 21,
      seq: this.clientSeq,
      ack: this.clientSeesServer,
      payload: text,
    })!;
    assert.equal(seen.payload, text);
    assert.equal(seen.seq, this.clientSeq);
    assert.equal(seen.ack, this.serverSeq, "the server sees an ack of its own bytes");
    this.clientSeq = (this.clientSeq + text.length) >>> 0;
    return seen;
  }

  /** The client acknowledges everything, optionally with SACK blocks (client-side space). */
  clientAck(sack?: [number, number][], ack = this.clientSeesServer): Seen {
    const seen = send(this.engine, {
      src: CLIENT,
      dst: this.pair.vip,
      sport: this.sport,
      dport: 21,
      seq: this.clientSeq,
      ack,
      flags: ACK,
      sack,
    })!;
    return seen;
  }

  /**
   * The server sends a reply; the client must see it at the next byte it expects. Returns
   * what the client saw. `at` sends from an earlier sequence (a retransmission).
   */
  serverSays(text: string, options: { at?: number; partial?: boolean } = {}): Seen {
    const seq = options.at ?? this.serverSeq;
    const seen = send(this.engine, {
      src: this.pair.rs,
      dst: CLIENT,
      sport: 21,
      dport: this.sport,
      seq,
      ack: this.clientSeq,
      payload: text,
      partial: options.partial,
    })!;
    assert.equal(seen.src, this.pair.vip);
    assert.equal(seen.ack, this.clientSeq);
    if (options.at === undefined) {
      assert.equal(seen.seq, this.clientSeesServer, "the client sees the next byte it expects");
      this.serverSeq = (this.serverSeq + text.length) >>> 0;
      this.clientSeesServer = (this.clientSeesServer + seen.payload.length) >>> 0;
    }
    return seen;
  }
}

function passiveTransfers(pair: Pair, count: number): void {
  const engine = ftpEngine(pair);
  const ctl = new Control(engine, pair);
  ctl.open();
  ctl.clientSays("USER anonymous\r\n");
  ctl.serverSays("331 Please specify the password.\r\n");
  ctl.clientSays("PASS ftp@\r\n");
  ctl.serverSays("230 Login successful.\r\n");
  const diff = pair.vipText.length - pair.rsText.length;
  let last226At = -1;
  let last226Text = "";
  let last226Seen: Seen | null = null;
  for (let k = 0; k < count; k++) {
    const port = 30000 + k;
    const p = `${port >> 8},${port & 0xff}`;
    ctl.clientSays("PASV\r\n");
    const reply = `227 Entering Passive Mode (${pair.rsText},${p}).\r\n`;
    const at = ctl.serverSeq;
    // Every third reply comes as a NEEDS_CSUM packet (the kernel finishes its checksum).
    const seen = ctl.serverSays(reply, { partial: k % 3 === 1 });
    assert.equal(seen.payload, `227 Entering Passive Mode (${pair.vipText},${p}).\r\n`);
    assert.equal(seen.payload.length, reply.length + diff);
    if (k === 5) {
      // The reply is retransmitted: same place, same rewritten text.
      const again = ctl.serverSays(reply, { at });
      assert.equal(again.seq, seen.seq);
      assert.equal(again.payload, seen.payload);
      // So is the 226 of the previous transfer (between the last two rewrites).
      const old = ctl.serverSays(last226Text, { at: last226At });
      assert.equal(old.seq, last226Seen!.seq);
    }
    // The data connection the client opens to VIP:port goes to the real server's port.
    const dport = 50000 + k;
    const dataSyn = send(engine, {
      src: CLIENT,
      dst: pair.vip,
      sport: dport,
      dport: port,
      seq: 7,
      flags: SYN,
    })!;
    assert.equal(dataSyn.dst, pair.rs, `data connection ${k} to the real server`);
    assert.equal(dataSyn.dport, port);
    const dataSynAck = send(engine, {
      src: pair.rs,
      dst: CLIENT,
      sport: port,
      dport,
      seq: 9,
      ack: 8,
      flags: SYN | ACK,
    })!;
    assert.equal(dataSynAck.src, pair.vip);
    assert.equal(dataSynAck.sport, port);
    ctl.clientSays(`RETR file${k}\r\n`);
    ctl.serverSays(`150 Opening BINARY mode data connection for file${k} (1024 bytes).\r\n`);
    const text226 = "226 Transfer complete.\r\n";
    last226At = ctl.serverSeq;
    last226Text = text226;
    last226Seen = ctl.serverSays(text226, { partial: k % 4 === 0 });
    if (k % 2 === 0) {
      ctl.clientAck();
    } else {
      // The client missed the 150's last byte but got the 226: it acks less and SACKs the 226.
      const sacked: [number, number] = [
        last226Seen.seq,
        (last226Seen.seq + last226Seen.payload.length) >>> 0,
      ];
      const seen = ctl.clientAck([sacked], (last226Seen.seq - 1) >>> 0);
      // The server sees the SACK in its own numbering: the 226 as it sent it.
      assert.deepEqual(seen.sack, [[last226At, (last226At + text226.length) >>> 0]]);
      assert.equal(seen.ack, (last226At - 1) >>> 0);
      ctl.clientAck();
    }
    // The server's view of the client's final ack is its own sequence.
    const check = ctl.clientAck();
    assert.equal(check.ack, ctl.serverSeq, `after transfer ${k}`);
  }
  const helper = engine.apps;
  assert.equal(helper.counters.expectedUsed, count);
  assert.equal(helper.counters.rewrites, count + 1, "every 227 and the retransmission");
  const slot = engine.conns.findInbound(6, CLIENT, ctl.sport, pair.vip, 21);
  assert.equal(helper.seq.outDelta[slot], count * diff, "each rewrite counted once");
  ctl.clientSays("QUIT\r\n");
  ctl.serverSays("221 Goodbye.\r\n");
}

test("25 passive transfers on one control connection, each 227 one byte longer (203,0,113,5)", () => {
  passiveTransfers(GROWS, 25);
});

test("25 passive transfers where each 227 is three bytes shorter (192,0,2,1 for 172,16,0,100)", () => {
  passiveTransfers(SHRINKS, 25);
});

test("active mode: PORT and EPRT let the real server's SYN from :20 out as VIP:20", () => {
  const pair = GROWS;
  const engine = ftpEngine(pair);
  const ctl = new Control(engine, pair);
  ctl.open();
  // Without a PORT, the server's connection to the client is not let out.
  assert.equal(
    send(engine, { src: pair.rs, dst: CLIENT, sport: 20, dport: 45000, seq: 1, flags: SYN }),
    null,
  );
  for (
    const [cmd, cport] of [
      ["PORT 198,51,100,2,175,200\r\n", 175 * 256 + 200],
      ["EPRT |1|198.51.100.2|45001|\r\n", 45001],
    ] as const
  ) {
    ctl.clientSays(cmd);
    ctl.serverSays("200 PORT command successful. Consider using PASV.\r\n");
    ctl.clientSays("LIST\r\n");
    const syn = send(engine, {
      src: pair.rs,
      dst: CLIENT,
      sport: 20,
      dport: cport,
      seq: 100,
      flags: SYN,
    })!;
    assert.ok(syn, "the server's data SYN leaves");
    assert.equal(syn.src, pair.vip);
    assert.equal(syn.sport, 20);
    assert.equal(syn.dst, CLIENT);
    assert.equal(syn.dport, cport);
    const synAck = send(engine, {
      src: CLIENT,
      dst: pair.vip,
      sport: cport,
      dport: 20,
      seq: 500,
      ack: 101,
      flags: SYN | ACK,
    })!;
    assert.equal(synAck.dst, pair.rs);
    assert.equal(synAck.dport, 20);
    ctl.serverSays("150 Here comes the directory listing.\r\n");
    ctl.serverSays("226 Directory send OK.\r\n");
  }
  // A PORT naming another host does not open the way to it.
  ctl.clientSays("PORT 198,51,100,9,175,201\r\n");
  assert.equal(
    send(engine, {
      src: pair.rs,
      dst: parseIPv4("198.51.100.9")!,
      sport: 20,
      dport: 175 * 256 + 201,
      seq: 1,
      flags: SYN,
    }),
    null,
  );
  assert.equal(engine.apps.counters.expectedUsed, 2);
});

test("data connections hold their control connection; unused expectations die with it", () => {
  const pair = GROWS;
  const engine = ftpEngine(pair);
  const ctl = new Control(engine, pair);
  ctl.open();
  ctl.clientSays("PASV\r\n");
  ctl.serverSays(`227 Entering Passive Mode (${pair.rsText},117,48).\r\n`);
  const syn = { src: CLIENT, dst: pair.vip, sport: 50000, dport: 30000, seq: 7, flags: SYN };
  assert.equal(send(engine, syn)!.dst, pair.rs);
  send(engine, {
    src: pair.rs,
    dst: CLIENT,
    sport: 30000,
    dport: 50000,
    seq: 9,
    ack: 8,
    flags: SYN | ACK,
  });
  send(engine, {
    src: CLIENT,
    dst: pair.vip,
    sport: 50000,
    dport: 30000,
    seq: 8,
    ack: 10,
    flags: ACK,
  });
  assert.equal(engine.conns.size, 2);
  // The client resets the control connection (CLOSE: 10 s) while the transfer goes on.
  send(engine, {
    src: CLIENT,
    dst: pair.vip,
    sport: ctl.sport,
    dport: 21,
    seq: ctl.clientSeq,
    ack: ctl.clientSeesServer,
    flags: RST | ACK,
  });
  for (let t = 5_000; t <= 60_000; t += 5_000) {
    engine.tick(t);
    send(engine, {
      src: pair.rs,
      dst: CLIENT,
      sport: 30000,
      dport: 50000,
      seq: 10,
      ack: 8,
      flags: PSH_ACK,
      payload: "data",
    });
  }
  assert.equal(engine.conns.size, 2, "the control entry stays while its data connection lives");
  // The transfer ends: both go.
  send(engine, {
    src: pair.rs,
    dst: CLIENT,
    sport: 30000,
    dport: 50000,
    seq: 14,
    ack: 8,
    flags: RST,
  });
  engine.tick(200_000);
  engine.tick(400_000);
  assert.equal(engine.conns.size, 0);

  // A second control connection announces a passive port and goes away unused.
  const ctl2 = new Control(engine, pair);
  ctl2.sport = 40001;
  ctl2.open();
  ctl2.clientSays("PASV\r\n");
  ctl2.serverSays(`227 Entering Passive Mode (${pair.rsText},117,49).\r\n`);
  assert.equal(engine.apps.pending, 1);
  send(engine, {
    src: CLIENT,
    dst: pair.vip,
    sport: ctl2.sport,
    dport: 21,
    seq: ctl2.clientSeq,
    ack: ctl2.clientSeesServer,
    flags: FIN | ACK,
  });
  send(engine, {
    src: pair.rs,
    dst: CLIENT,
    sport: 21,
    dport: ctl2.sport,
    seq: ctl2.serverSeq,
    ack: ctl2.clientSeq + 1,
    flags: RST,
  });
  engine.tick(1_000_000);
  assert.equal(engine.conns.size, 0);
  assert.equal(engine.apps.pending, 0, "the expectation died with its control connection");
  // Now a SYN to that port is refused like any port without a service (a RST back).
  const refused = send(engine, {
    src: CLIENT,
    dst: pair.vip,
    sport: 50001,
    dport: 30001,
    seq: 1,
    flags: SYN,
  })!;
  assert.equal(refused.dst, CLIENT, "answered, not forwarded");
});
