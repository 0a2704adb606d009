// The packets the page shows, as one pcap (Ethernet link type, so DR's MACs survive): each
// IPv4 packet in a frame with its captured MACs, or zero MACs where it was captured without
// an Ethernet header (the director's TUN device).
import type { Packet } from "../lab/analysis/packet.ts";

const ETHERNET_HEADER = 14;
const LINKTYPE_ETHERNET = 1;

function macBytes(mac: string | null, into: Buffer, at: number): void {
  const parts = (mac ?? "00:00:00:00:00:00").split(":");
  for (let i = 0; i < 6; i++) into[at + i] = parseInt(parts[i], 16) || 0;
}

export function writePcap(packets: readonly Packet[]): Buffer {
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(65535, 16);
  header.writeUInt32LE(LINKTYPE_ETHERNET, 20);
  const parts: Buffer[] = [header];
  for (const p of [...packets].sort((a, b) => a.time - b.time)) {
    const len = ETHERNET_HEADER + p.ipBytes.length;
    const rec = Buffer.alloc(16 + len);
    const seconds = Math.floor(p.time);
    rec.writeUInt32LE(seconds, 0);
    rec.writeUInt32LE(Math.round((p.time - seconds) * 1e6) % 1_000_000, 4);
    rec.writeUInt32LE(len, 8);
    rec.writeUInt32LE(len + (p.originalLength - p.capturedLength), 12);
    macBytes(p.dstMac, rec, 16);
    macBytes(p.srcMac, rec, 22);
    rec.writeUInt16BE(0x0800, 28);
    rec.set(p.ipBytes, 30);
    parts.push(rec);
  }
  return Buffer.concat(parts);
}
