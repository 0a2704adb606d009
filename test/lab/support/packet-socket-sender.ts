// Run inside a lab namespace by test/lab/packet-socket.test.ts: opens a PacketSocket on an
// interface and sends either a batch of small UDP frames (sendmmsg, plus one single send)
// or one TCP GSO super-packet (vnet header: GSO_TCPV4, NEEDS_CSUM), then prints the
// socket's counters as JSON. Arguments: one JSON object (see Args).
import {
  FRAME_IP_OFFSET,
  PacketSocket,
  parseMac,
  writeEthernetHeader,
} from "../../../director/net/packet-socket.ts";
import {
  VIRTIO_NET_HDR_F_NEEDS_CSUM,
  VIRTIO_NET_HDR_GSO_TCPV4,
  VnetHeaderView,
} from "../../../director/packet/vnet-header.ts";
import { foldSum, internetChecksum, pseudoHeaderSum } from "../../../director/packet/checksum.ts";
import { parseIPv4 } from "../../../director/net/ipv4-address.ts";
import { PerformanceObserver } from "node:perf_hooks";

interface Args {
  ifname: string;
  dstMac: string;
  src: string;
  dst: string;
  mode: "udp-batch" | "tcp-gso" | "refused" | "steady";
  /** udp-batch: frames in all (the last one goes out with the single send). */
  count?: number;
  batch?: number;
  /** tcp-gso: payload bytes and segment size. */
  payload?: number;
  mss?: number;
  /** tcp-gso: a wrong partial checksum (to show the peer's check would catch one). */
  corrupt?: boolean;
}

const args = JSON.parse(process.argv[2]!) as Args;
const sock = PacketSocket.open(args.ifname, { batch: args.batch ?? 32 });
const dstMac = parseMac(args.dstMac);
const src = parseIPv4(args.src)!;
const dst = parseIPv4(args.dst)!;
const vnet = new VnetHeaderView();
const IP = FRAME_IP_OFFSET;

function put16(b: Uint8Array, at: number, v: number): void {
  b[at] = v >>> 8;
  b[at + 1] = v & 0xff;
}
function put32(b: Uint8Array, at: number, v: number): void {
  put16(b, at, v >>> 16);
  put16(b, at + 2, v & 0xffff);
}

/** vnet header (cleared), Ethernet header and a 20-byte IPv4 header; returns the L4 offset. */
function frame(buf: Uint8Array, proto: number, ipLen: number, id: number): number {
  vnet.bind(buf, 0);
  vnet.clear();
  writeEthernetHeader(buf, 10, dstMac, 0, sock.mac, 0);
  buf.fill(0, IP, IP + 20);
  buf[IP] = 0x45;
  put16(buf, IP + 2, ipLen);
  put16(buf, IP + 4, id);
  put16(buf, IP + 6, 0x4000);
  buf[IP + 8] = 64;
  buf[IP + 9] = proto;
  put32(buf, IP + 12, src);
  put32(buf, IP + 16, dst);
  put16(buf, IP + 10, internetChecksum(buf, IP, 20));
  return IP + 20;
}

function udpFrame(buf: Uint8Array, i: number): number {
  const payload = 32;
  const l4 = frame(buf, 17, 20 + 8 + payload, i);
  put16(buf, l4, 40000 + i);
  put16(buf, l4 + 2, 9); // discard: nothing listens, so the peer counts UdpNoPorts
  put16(buf, l4 + 4, 8 + payload);
  put16(buf, l4 + 6, 0);
  for (let k = 0; k < payload; k++) buf[l4 + 8 + k] = (i + k) & 0xff;
  let c = internetChecksum(buf, l4, 8 + payload, pseudoHeaderSum(src, dst, 17, 8 + payload));
  if (c === 0) c = 0xffff;
  put16(buf, l4 + 6, c);
  return l4 + 8 + payload;
}

let result: Record<string, unknown>;
if (args.mode === "udp-batch") {
  const count = args.count ?? 100;
  let left = count - 1;
  let flushed = 0;
  while (left > 0) {
    const n = Math.min(left, sock.batch);
    for (let i = 0; i < n; i++) sock.setLength(i, udpFrame(sock.slot(i), count - left + i));
    flushed += sock.flush(n);
    left -= n;
  }
  sock.setLength(0, udpFrame(sock.slot(0), count));
  const single = sock.sendSlot(0);
  result = { flushed, single };
} else if (args.mode === "steady") {
  // Full batches again and again, each slot refilled: heap growth and collections tell
  // whether the send path allocates per frame.
  const flushes = args.count ?? 10_000;
  const run = (times: number) => {
    let taken = 0;
    for (let f = 0; f < times; f++) {
      for (let i = 0; i < sock.batch; i++) sock.setLength(i, udpFrame(sock.slot(i), i));
      taken += sock.flush(sock.batch);
    }
    return taken;
  };
  run(1000); // warm up: compile the path
  let collections = 0;
  const observer = new PerformanceObserver((list) => (collections += list.getEntries().length));
  observer.observe({ entryTypes: ["gc"] });
  const heapBefore = process.memoryUsage().heapUsed;
  const started = performance.now();
  const taken = run(flushes);
  const seconds = (performance.now() - started) / 1000;
  const growth = process.memoryUsage().heapUsed - heapBefore;
  await new Promise((resolve) => setTimeout(resolve, 20));
  observer.disconnect();
  result = { flushed: taken, growth, collections, framesPerSecond: Math.round(taken / seconds) };
} else if (args.mode === "refused") {
  // Slots 0 and 2 are shorter than a vnet header: refused, counted, the others still go.
  for (let i = 0; i < 4; i++) sock.setLength(i, i % 2 === 0 ? 5 : udpFrame(sock.slot(i), i));
  result = { flushed: sock.flush(4), single: sock.send(sock.slot(0), 5) };
} else {
  const payload = args.payload ?? 14480;
  const mss = args.mss ?? 1448;
  const buf = sock.slot(0);
  const l4len = 20 + payload;
  const l4 = frame(buf, 6, 20 + l4len, 1);
  buf.fill(0, l4, l4 + 20);
  put16(buf, l4, 40000);
  put16(buf, l4 + 2, 9); // closed port: the peer's TCP answers with a RST
  put32(buf, l4 + 4, 1000);
  put32(buf, l4 + 8, 2000);
  buf[l4 + 12] = 5 << 4;
  buf[l4 + 13] = 0x18; // PSH, ACK
  put16(buf, l4 + 14, 65535);
  for (let k = 0; k < payload; k++) buf[l4 + 20 + k] = k & 0xff;
  // NEEDS_CSUM: the field holds the folded pseudo-header sum, the kernel finishes it.
  const partial = foldSum(pseudoHeaderSum(src, dst, 6, l4len));
  put16(buf, l4 + 16, args.corrupt ? partial ^ 0x1234 : partial);
  vnet.bind(buf, 0);
  vnet.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
  vnet.gsoType = VIRTIO_NET_HDR_GSO_TCPV4;
  vnet.hdrLen = 14 + 20 + 20;
  vnet.gsoSize = mss;
  vnet.csumStart = 14 + 20; // from the start of the frame (the Ethernet header)
  vnet.csumOffset = 16;
  const frameLen = l4 + l4len;
  sock.setLength(0, frameLen);
  result = { flushed: sock.flush(1), frameBytes: frameLen - 10 };
}
console.log(JSON.stringify({ ...result, stats: sock.stats }));
sock.close();
