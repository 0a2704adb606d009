// Shared synthetic captures for the assertion tests: three NAT'ed HTTP connections to
// VIP:80 (one to rs1, two to rs2), optionally tampered with to inject one fault.
import type { Packet } from "../analysis/packet.ts";
import {
  decodeRecords,
  mergeConversations,
  natConnection,
  type PacketSpec,
  type Segment,
} from "../analysis/test-support.ts";
import type { ServiceSpec } from "./service.ts";

export const SERVICE: ServiceSpec = {
  protocol: "tcp",
  vip: "203.0.113.5",
  port: 80,
  servers: ["172.16.0.2:80", "172.16.0.3:8000"],
};

export type Tamper = (spec: PacketSpec, segment: Segment, index: number) => PacketSpec;

/** Public and private packets of three connections; `tamper` applies to the second one. */
export function threeConnections(tamper?: Tamper): { public: Packet[]; private: Packet[] } {
  const base = { client: "198.51.100.2", vip: "203.0.113.5", vport: 80 };
  const conv = mergeConversations([
    natConnection({ ...base, clientPort: 40001, t0: 1, server: "172.16.0.2", serverPort: 80 }),
    natConnection({
      ...base,
      clientPort: 40002,
      t0: 1.0003,
      server: "172.16.0.3",
      serverPort: 8000,
      tamper,
    }),
    natConnection({ ...base, clientPort: 40003, t0: 2, server: "172.16.0.3", serverPort: 8000 }),
  ]);
  return { public: decodeRecords(conv.public), private: decodeRecords(conv.private) };
}
