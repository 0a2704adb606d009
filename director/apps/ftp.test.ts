// The FTP helper on crafted control-connection packets: 227 rewritten to the VIP (growing
// and shrinking), 229 and PORT/EPRT expected, retransmissions, and what it must leave alone.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ConnTable } from "../engine/conn-table.ts";
import { AppHelpers, EXPECT_ACTIVE, NO_SLOT } from "./registry.ts";
import { FTP_MODE_ACTIVE, FTP_MODE_EPSV, FTP_MODE_PASV, registerFtp } from "./ftp.ts";
import { inspect, segment, viewOf } from "./test-support.ts";
import { parseIPv4 } from "../net/ipv4-address.ts";
import { TCP_S_ESTABLISHED, TCP_S_SYN_RECV } from "../protocols/tcp-state.ts";

const VIP = parseIPv4("203.0.113.5")!;
const CLIENT = parseIPv4("198.51.100.2")!;
const RS = parseIPv4("172.16.0.3")!;
// A pair whose rewrite shrinks: "172,16,0,100" (12 chars) → "192,0,2,1" (9 chars).
const VIP_SHORT = parseIPv4("192.0.2.1")!;
const RS_LONG = parseIPv4("172.16.0.100")!;

function setup(vip = VIP, rs = RS) {
  const conns = new ConnTable(64);
  const apps = new AppHelpers(conns, 64);
  const ftp = registerFtp(apps);
  const slot = conns.insert(6, CLIENT, 40000, vip, 21, rs, 21);
  conns.state[slot] = TCP_S_ESTABLISHED;
  apps.bind(slot);
  return { conns, apps, ftp, slot, vip, rs };
}

type Ctx = ReturnType<typeof setup>;

function clientSends(ctx: Ctx, seq: number, ack: number, payload: string): Uint8Array {
  const buf = segment({ src: CLIENT, dst: ctx.vip, sport: 40000, dport: 21, seq, ack, payload });
  assert.equal(ctx.apps.inbound(ctx.slot, viewOf(buf), 0), true);
  return buf;
}

function serverSends(ctx: Ctx, seq: number, ack: number, payload: string): Uint8Array {
  const buf = segment({ src: ctx.rs, dst: CLIENT, sport: 21, dport: 40000, seq, ack, payload });
  assert.equal(ctx.apps.outbound(ctx.slot, viewOf(buf), 0), true);
  return buf;
}

test("PASV, then 227 is rewritten to the VIP (one byte longer) and the data connection expected", () => {
  const ctx = setup();
  clientSends(ctx, 100, 1000, "PASV\r\n");
  assert.equal(ctx.ftp.mode[ctx.slot], FTP_MODE_PASV);
  const reply = "227 Entering Passive Mode (172,16,0,3,117,53).\r\n";
  const buf = serverSends(ctx, 1000, 106, reply);
  const seen = inspect(buf); // full checksum recomputation
  assert.equal(seen.payload, "227 Entering Passive Mode (203,0,113,5,117,53).\r\n");
  assert.equal(seen.length, 10 + 40 + reply.length + 1);
  const i = ctx.apps.findPassive(CLIENT, VIP, 30005, 0);
  assert.notEqual(i, NO_SLOT);
  assert.equal(ctx.apps.expDaddr[i], RS);
  assert.equal(ctx.apps.expDport[i], 30005);
  assert.equal(ctx.apps.expControl[i], ctx.slot);
  // The next reply moves by one; the client's ack of everything moves back.
  const next = serverSends(
    ctx,
    1000 + reply.length,
    106,
    "150 Here comes the directory listing.\r\n",
  );
  assert.equal(inspect(next).seq, 1000 + reply.length + 1);
  const ack = clientSends(ctx, 106, 1000 + reply.length + 1, "");
  assert.equal(inspect(ack).ack, 1000 + reply.length);
  assert.equal(ctx.ftp.counters.rewritten227, 1);
});

test("a retransmitted 227 is rewritten the same way and counted once", () => {
  const ctx = setup();
  clientSends(ctx, 100, 1000, "PASV\r\n");
  const reply = "227 Entering Passive Mode (172,16,0,3,117,53).\r\n";
  const first = inspect(serverSends(ctx, 1000, 106, reply));
  const again = inspect(serverSends(ctx, 1000, 106, reply));
  assert.deepEqual(again, first);
  assert.equal(ctx.apps.seq.outDelta[ctx.slot], 1);
  assert.equal(ctx.apps.pending, 1, "no second expectation");
});

test("two shrinking rewrites (12 → 9 characters), then retransmissions of both", () => {
  const ctx = setup(VIP_SHORT, RS_LONG);
  let c = 100;
  let s = 5000; // server's original sequence
  clientSends(ctx, c, s, "PASV\r\n");
  c += 6;
  const r1 = "227 Entering Passive Mode (172,16,0,100,117,48).\r\n";
  const b1 = inspect(serverSends(ctx, s, c, r1));
  assert.equal(b1.payload, "227 Entering Passive Mode (192,0,2,1,117,48).\r\n");
  assert.equal(b1.seq, 5000);
  s += r1.length;
  assert.equal(ctx.apps.seq.outDelta[ctx.slot], -3);
  // A second PASV: the reply starts 3 bytes earlier on the client side.
  clientSends(ctx, c, s - 3, "PASV\r\n");
  c += 6;
  const r2 = "227 Entering Passive Mode (172,16,0,100,117,49).\r\n";
  const b2 = inspect(serverSends(ctx, s, c, r2));
  assert.equal(b2.seq, s - 3);
  assert.equal(ctx.apps.seq.outDelta[ctx.slot], -6);
  assert.equal(ctx.apps.seq.outPrevious[ctx.slot], -3);
  // Retransmission of the second reply: same seq and text; of the first: the old seq.
  assert.deepEqual(inspect(serverSends(ctx, s, c, r2)), b2);
  assert.equal(inspect(serverSends(ctx, 5000, c, r1)).seq, 5000 - 3, "previous delta (-3)");
  s += r2.length;
  assert.equal(inspect(serverSends(ctx, s, c, "226 ok\r\n")).seq, s - 6);
  // The client's cumulative ack of it all, and a SACK of a later segment.
  const ack = segment({
    src: CLIENT,
    dst: VIP_SHORT,
    sport: 40000,
    dport: 21,
    seq: c,
    ack: s - 6,
    flags: 0x10,
    sack: [[s - 6 + 10, s - 6 + 20]],
  });
  ctx.apps.inbound(ctx.slot, viewOf(ack), 0);
  const seen = inspect(ack);
  assert.equal(seen.ack, s);
  assert.deepEqual(seen.sack, [[s + 10, s + 20]]);
});

test("227 without a PASV before it, or naming another address, is left alone", () => {
  const ctx = setup();
  const reply = "227 Entering Passive Mode (172,16,0,3,117,53).\r\n";
  assert.equal(inspect(serverSends(ctx, 1000, 1, reply)).payload, reply);
  clientSends(ctx, 1, 1000 + reply.length, "PASV\r\n");
  const other = "227 Entering Passive Mode (172,16,0,9,117,53).\r\n";
  assert.equal(inspect(serverSends(ctx, 1000 + reply.length, 7, other)).payload, other);
  assert.equal(ctx.apps.pending, 0);
  assert.equal(ctx.ftp.counters.ignored, 1);
});

test("a server that already names the VIP gets the expectation and keeps its text", () => {
  const ctx = setup();
  clientSends(ctx, 1, 1000, "PASV\r\n");
  const reply = "227 Entering Passive Mode (203,0,113,5,117,53).\r\n";
  assert.equal(inspect(serverSends(ctx, 1000, 7, reply)).payload, reply);
  assert.notEqual(ctx.apps.findPassive(CLIENT, VIP, 30005, 0), NO_SLOT);
});

test("EPSV then 229: the port is expected, nothing rewritten", () => {
  const ctx = setup();
  clientSends(ctx, 1, 1000, "EPSV\r\n");
  assert.equal(ctx.ftp.mode[ctx.slot], FTP_MODE_EPSV);
  const reply = "229 Entering Extended Passive Mode (|||30077|)\r\n";
  assert.equal(inspect(serverSends(ctx, 1000, 7, reply)).payload, reply);
  const i = ctx.apps.findPassive(CLIENT, VIP, 30077, 0);
  assert.notEqual(i, NO_SLOT);
  assert.equal(ctx.apps.expDaddr[i], RS);
  assert.equal(ctx.apps.seq.flags[ctx.slot], 0, "no length change, no correction");
});

test("PORT and EPRT: the real server's connection from port 20 is expected", () => {
  const ctx = setup();
  clientSends(ctx, 1, 1000, "PORT 198,51,100,2,156,64\r\n");
  assert.equal(ctx.ftp.mode[ctx.slot], FTP_MODE_ACTIVE);
  let i = ctx.apps.findActive(CLIENT, 156 * 256 + 64, RS, 20, 0);
  assert.notEqual(i, NO_SLOT);
  assert.equal(ctx.apps.expKind[i], EXPECT_ACTIVE);
  assert.equal(ctx.apps.expVaddr[i], VIP);
  assert.equal(ctx.apps.expVport[i], 20);
  clientSends(ctx, 27, 1000, "EPRT |1|198.51.100.2|40123|\r\n");
  i = ctx.apps.findActive(CLIENT, 40123, RS, 20, 0);
  assert.notEqual(i, NO_SLOT);
  // A PORT naming a third host (FTP bounce) is not expected.
  clientSends(ctx, 60, 1000, "PORT 198,51,100,9,156,65\r\n");
  assert.equal(ctx.apps.findActive(parseIPv4("198.51.100.9")!, 156 * 256 + 65, RS, 20, 0), NO_SLOT);
  assert.equal(ctx.ftp.counters.ignored, 1);
  // After PORT, a 227-looking reply is not touched.
  const reply = "227 Entering Passive Mode (172,16,0,3,117,53).\r\n";
  assert.equal(inspect(serverSends(ctx, 1000, 7, reply)).payload, reply);
});

test("connections not yet established, and corrupt segments, are not rewritten", () => {
  const ctx = setup();
  clientSends(ctx, 1, 1000, "PASV\r\n");
  ctx.conns.state[ctx.slot] = TCP_S_SYN_RECV;
  const reply = "227 Entering Passive Mode (172,16,0,3,117,53).\r\n";
  assert.equal(inspect(serverSends(ctx, 1000, 7, reply)).payload, reply);
  ctx.conns.state[ctx.slot] = TCP_S_ESTABLISHED;
  const bad = segment({
    src: RS,
    dst: CLIENT,
    sport: 21,
    dport: 40000,
    seq: 1000,
    ack: 7,
    payload: reply,
  });
  bad[10 + 40 + 6] ^= 0x20; // corrupt a letter of the text before the address
  assert.equal(ctx.apps.outbound(ctx.slot, viewOf(bad), 0), false, "dropped");
});

test("a growing rewrite with no room in the buffer drops the packet", () => {
  const ctx = setup();
  clientSends(ctx, 1, 1000, "PASV\r\n");
  const reply = "227 Entering Passive Mode (172,16,0,3,117,53).\r\n";
  const buf = segment({
    src: RS,
    dst: CLIENT,
    sport: 21,
    dport: 40000,
    seq: 1000,
    ack: 7,
    payload: reply,
    room: 0,
  });
  assert.equal(ctx.apps.outbound(ctx.slot, viewOf(buf), 0), false);
  assert.equal(ctx.apps.counters.dropped, 1);
});
