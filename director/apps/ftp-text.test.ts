// FTP command and reply parsing straight from bytes, and the host-port formatter.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  AddrPort,
  formatHostPort,
  lineEnd,
  nextLine,
  parse227Reply,
  parse229Reply,
  parseEprtCommand,
  parsePortCommand,
  startsWithWord,
} from "./ftp-text.ts";
import { formatIPv4, parseIPv4 } from "../net/ipv4-address.ts";

const enc = new TextEncoder();

function bytes(text: string): Uint8Array {
  // Put the text at an offset, as in a packet, with junk after the limit.
  const b = new Uint8Array(text.length + 13).fill(0x39);
  b.set(enc.encode(text), 5);
  return b;
}

function parseWith(
  fn: (buf: Uint8Array, at: number, limit: number, out: AddrPort) => boolean,
  text: string,
): AddrPort | null {
  const b = bytes(text);
  const out = new AddrPort();
  const limit = lineEnd(b, 5, 5 + text.length);
  return fn(b, 5, limit, out) ? out : null;
}

test("227 replies: address, port and the span to rewrite", () => {
  const text = "227 Entering Passive Mode (172,16,0,3,117,50).\r\n";
  const r = parseWith(parse227Reply, text)!;
  assert.ok(r);
  assert.equal(formatIPv4(r.addr), "172.16.0.3");
  assert.equal(r.port, 117 * 256 + 50);
  assert.equal(text.slice(r.start - 5, r.end - 5), "172,16,0,3,117,50");
  // Without parentheses (RFC 1123 scanning).
  const bare = parseWith(parse227Reply, "227 =172,16,0,3,1,2\r\n")!;
  assert.equal(bare.port, 258);
});

test("malformed 227 replies are refused", () => {
  for (
    const text of [
      "227 Entering Passive Mode (172,16,0,3,117)\r\n", // five numbers
      "227 Entering Passive Mode (172,16,0,300,1,2)\r\n", // 300 > 255
      "227 Entering Passive Mode (172,16,0,3,1,2\r\n", // no ')'
      "227 Entering Passive Mode (172,16,0,3,0,0)\r\n", // port 0
      "2270 Entering Passive Mode (172,16,0,3,1,2)\r\n",
      "226 Transfer complete (172,16,0,3,1,2)\r\n",
      "227 Entering Passive Mode (1721,16,0,3,1,2)\r\n",
    ]
  ) {
    assert.equal(parseWith(parse227Reply, text), null, text);
  }
});

test("229 replies give the port", () => {
  const r = parseWith(parse229Reply, "229 Entering Extended Passive Mode (|||30012|)\r\n")!;
  assert.equal(r.port, 30012);
  assert.equal(r.addr, 0);
  const other = parseWith(parse229Reply, "229 EPSV ok (!!!6446!)\r\n")!;
  assert.equal(other.port, 6446);
  assert.equal(parseWith(parse229Reply, "229 Entering (|||70000|)\r\n"), null);
  assert.equal(parseWith(parse229Reply, "229 Entering (||30012|)\r\n"), null);
});

test("PORT and EPRT commands", () => {
  const port = parseWith(parsePortCommand, "PORT 198,51,100,2,156,64\r\n")!;
  assert.equal(formatIPv4(port.addr), "198.51.100.2");
  assert.equal(port.port, 156 * 256 + 64);
  const lower = parseWith(parsePortCommand, "port 198,51,100,2,0,21\r\n")!;
  assert.equal(lower.port, 21);
  const eprt = parseWith(parseEprtCommand, "EPRT |1|198.51.100.2|40001|\r\n")!;
  assert.equal(formatIPv4(eprt.addr), "198.51.100.2");
  assert.equal(eprt.port, 40001);
  assert.equal(parseWith(parseEprtCommand, "EPRT |2|2001:db8::1|40001|\r\n"), null, "IPv6");
  assert.equal(parseWith(parseEprtCommand, "EPRT |1|198.51.100|40001|\r\n"), null);
  assert.equal(parseWith(parsePortCommand, "PORTS 198,51,100,2,0,21\r\n"), null);
  assert.equal(parseWith(parsePortCommand, "PORT 198,51,100,2,0\r\n"), null);
});

test("words and lines", () => {
  const b = bytes("PASV\r\nEPSV ALL\r\nPASVX\r\n");
  const limit = 5 + 23;
  assert.equal(startsWithWord(b, 5, limit, "PASV"), true);
  const second = nextLine(b, 5, limit);
  assert.equal(second, 11);
  assert.equal(startsWithWord(b, second, limit, "EPSV"), true);
  const third = nextLine(b, second, limit);
  assert.equal(startsWithWord(b, third, limit, "PASV"), false);
  assert.equal(nextLine(b, nextLine(b, third, limit), limit), limit);
});

test("formatHostPort writes the dotted-comma form for every byte width", () => {
  const out = new Uint8Array(24);
  for (
    const [addr, port, want] of [
      ["203.0.113.5", 30005, "203,0,113,5,117,53"],
      ["172.16.0.3", 256, "172,16,0,3,1,0"],
      ["255.255.255.255", 65535, "255,255,255,255,255,255"],
      ["1.2.3.4", 5, "1,2,3,4,0,5"],
    ] as const
  ) {
    const n = formatHostPort(parseIPv4(addr)!, port, out);
    assert.equal(new TextDecoder().decode(out.subarray(0, n)), want);
    // And it parses back.
    const back = new AddrPort();
    assert.ok(
      parsePortCommand(enc.encode(`PORT ${want}`), 0, 5 + n, back),
      `parses back: ${want}`,
    );
    assert.equal(back.addr, parseIPv4(addr));
    assert.equal(back.port, port);
  }
});
