// The part of the untyped npm package pcap-parser (0.2.x) that read-pcap.ts uses.
declare module "pcap-parser" {
  import type { EventEmitter } from "node:events";
  import type { Readable } from "node:stream";

  export interface PcapGlobalHeader {
    magicNumber: number;
    majorVersion: number;
    minorVersion: number;
    gmtOffset: number;
    timestampAccuracy: number;
    snapshotLength: number;
    linkLayerType: number;
  }

  export interface PcapPacketHeader {
    timestampSeconds: number;
    timestampMicroseconds: number;
    capturedLength: number;
    originalLength: number;
  }

  export interface PcapPacket {
    header: PcapPacketHeader;
    data: Buffer;
  }

  /** Emits "globalHeader", "packet", "error" and "end". */
  export function parse(input: string | Readable): EventEmitter;
}
