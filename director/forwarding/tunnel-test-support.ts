// What the VS/TUN tests share: an engine with one tunnel server behind a fake raw socket
// that keeps what it sends, and the route MTU word the control thread would keep.
import { DirectorEngine } from "../engine/engine.ts";
import { type PacketSender, TunnelTable } from "../net/tunnel-table.ts";
import { RAW_SLOT_SIZE } from "../net/raw-socket.ts";
import { CLIENT, RS1, tcpPacket, VIP } from "../engine/engine-test-support.ts";
import { IP, put16, refIpChecksum, Rng } from "../packet/test-support.ts";
import { parseIPv4 } from "../net/ipv4-address.ts";
import type { TunnelOptions } from "../service/tunnel-options.ts";

export const DIP = parseIPv4("172.16.1.254")!;

/** A raw socket that keeps what flush() sends: [destination, packet bytes]. */
export function fakeRawSocket(batch = 8): PacketSender & { sent: [number, Uint8Array][] } {
  const block = new Uint8Array(batch * RAW_SLOT_SIZE + 70_000);
  const queued: [number, number][] = [];
  const sent: [number, Uint8Array][] = [];
  const stats = { framesSent: 0, bytesSent: 0, sendErrors: 0, lastErrno: 0, calls: 0 };
  return {
    batch,
    block,
    stats,
    sent,
    loadScratch(src, length) {
      block.set(src.subarray(0, length), batch * RAW_SLOT_SIZE);
      return batch * RAW_SLOT_SIZE;
    },
    address(i, length, destination) {
      queued[i] = [length, destination];
    },
    flush(count) {
      for (let i = 0; i < count; i++) {
        const [length, destination] = queued[i]!;
        sent.push([destination, block.slice(i * RAW_SLOT_SIZE, i * RAW_SLOT_SIZE + length)]);
      }
      stats.framesSent += count;
      return count;
    },
    close() {},
  };
}

/** An engine with RS1 a tunnel server (`source`: the director's address on the route, 0 none). */
export function tunEngine(tunnel: TunnelOptions, mtu = 1500, source = DIP) {
  const socket = fakeRawSocket();
  const tunnels = new TunnelTable(() => socket);
  const engine = new DirectorEngine({ maxConnections: 64, nowMs: 0, tunnels });
  engine.services.addService({ protocol: "tcp", addr: VIP, port: 80, schedulerName: "rr" });
  engine.services.addDestination("tcp", VIP, 80, {
    addr: RS1,
    port: 80,
    weight: 1,
    method: "tunnel",
    tunnel,
  });
  const mtuWord = new Int32Array(new SharedArrayBuffer(4));
  mtuWord[0] = mtu;
  tunnels.configure([{ addr: RS1, source, mtu: mtuWord.buffer as SharedArrayBuffer }]);
  return { engine, socket, mtuWord };
}

/** A client segment to VIP:80 from port 4000 (DF, TTL 63 as the kernel hands it over). */
export function segment(flags: number, payloadLen = 0, tos = 0): Uint8Array {
  const buf = tcpPacket(new Rng(7 + flags), CLIENT, 4000, VIP, 80, flags, { payloadLen });
  buf[IP + 1] = tos;
  buf[IP + 8] = 63;
  put16(buf, IP + 10, refIpChecksum(buf));
  return buf;
}
