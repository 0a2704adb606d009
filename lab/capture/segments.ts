// Where a run is captured: every interface of the director (each sees all packets entering
// and leaving the director on its segment) plus its TUN device, where the userspace engine
// reads and writes packets.
import type { CaptureSegment } from "../backend.ts";
import type { Topology } from "../topology.ts";

/** The director's TUN device name (director/main.ts --tun default). */
export const TUN_DEVICE = "lvs0";
/** Segment name of the TUN device. */
export const TUN_SEGMENT = "tun";

/** One capture point per director interface (named after its network) and one for the TUN. */
export function captureSegments(
  topology: Topology,
  options: { tunDevice?: string } = {},
): CaptureSegment[] {
  const director = topology.hosts.find((h) => h.role === "director");
  if (!director) throw new Error("the topology has no director, so there is nothing to capture");
  return [
    ...director.interfaces.map((i) => ({
      segment: i.network,
      host: director.name,
      device: i.name,
    })),
    { segment: TUN_SEGMENT, host: director.name, device: options.tunDevice ?? TUN_DEVICE },
  ];
}
