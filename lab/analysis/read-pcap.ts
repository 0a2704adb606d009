// lab/analysis/: pcap decoding and what the assertions build on (connections, twins across the
// director, formatting); start here.
//
// Reads a pcap (libpcap 2.4) file with the pcap-parser package and decodes every frame.
import { parse, type PcapGlobalHeader, type PcapPacket } from "pcap-parser";
import { decodeFrame, SUPPORTED_LINK_TYPES } from "./decode.ts";
import type { Packet } from "./packet.ts";

export interface Capture {
  path: string;
  linkType: number;
  /** Number of frames in the file. */
  frames: number;
  /** IPv4 packets, in file order; `index` is the frame number. */
  packets: Packet[];
  /** Frames that are not IPv4 packets (ARP, IPv6, malformed), with the reason. */
  skipped: { index: number; reason: string }[];
}

/** Reads and decodes `path`; rejects with a sentence when it is not a readable pcap file. */
export function readPcap(path: string): Promise<Capture> {
  return new Promise((resolve, reject) => {
    const capture: Capture = { path, linkType: -1, frames: 0, packets: [], skipped: [] };
    let failed = false;
    const parser = parse(path);
    parser.on("globalHeader", (header: PcapGlobalHeader) => {
      capture.linkType = header.linkLayerType;
      if (!SUPPORTED_LINK_TYPES.includes(header.linkLayerType)) {
        failed = true;
        reject(
          new Error(
            `${path}: link type ${header.linkLayerType} is not supported ` +
              `(Ethernet, raw IPv4 and Linux cooked captures are)`,
          ),
        );
      }
    });
    parser.on("packet", (raw: PcapPacket) => {
      if (failed) return;
      capture.frames++;
      const meta = {
        index: capture.frames,
        time: raw.header.timestampSeconds + raw.header.timestampMicroseconds / 1e6,
        originalLength: raw.header.originalLength,
      };
      const data = new Uint8Array(raw.data.buffer, raw.data.byteOffset, raw.data.length);
      const r = decodeFrame(capture.linkType, data, meta);
      if ("packet" in r) capture.packets.push(r.packet);
      else capture.skipped.push({ index: meta.index, reason: r.skipped });
    });
    parser.on("error", (err: Error) => {
      if (failed) return;
      failed = true;
      reject(new Error(`${path} is not a readable pcap file: ${err.message}`));
    });
    parser.on("end", () => {
      if (failed) return;
      if (capture.linkType === -1) {
        reject(new Error(`${path} is not a pcap file (it is shorter than a pcap header)`));
      } else resolve(capture);
    });
  });
}
