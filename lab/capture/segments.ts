// Where a run is captured: every interface of the director (each sees all packets entering
// and leaving the director on its segment) plus its TUN device, where the userspace engine
// reads and writes packets. Where replies bypass the director (VS/DR: the director is not on
// the client's network), also the router's interface on the client's network (what the
// client sends and gets) and each real server's own interface, named after its switch port
// (what reached that server and what it answered).
import type { CaptureSegment } from "../backend.ts";
import type { Host, Topology } from "../topology.ts";

/** The director's TUN device name (director/main.ts --tun default). */
export const TUN_DEVICE = "lvs0";
/** Segment name of the TUN device. */
export const TUN_SEGMENT = "tun";

/** The client's network, or null in a topology without a client. */
function clientNetwork(topology: Topology): string | null {
  return topology.hosts.find((h) => h.role === "client")?.interfaces[0]?.network ?? null;
}

/** True when the director has no interface on the client's network (DR, TUN). */
export function repliesBypassDirector(topology: Topology): boolean {
  const director = topology.hosts.find((h) => h.role === "director");
  const net = clientNetwork(topology);
  return !!director && net !== null && !director.interfaces.some((i) => i.network === net);
}

/**
 * True when the director shares no network with any real server (VS/TUN): it reaches them
 * only through a router, inside tunnel packets.
 */
export function tunnelsToServers(topology: Topology): boolean {
  const director = topology.hosts.find((h) => h.role === "director");
  const nets = new Set(director?.interfaces.map((i) => i.network) ?? []);
  const servers = topology.hosts.filter((h) => h.role === "realserver");
  return !!director && servers.length > 0 &&
    !servers.some((h) => h.interfaces.some((i) => nets.has(i.network)));
}

/** The network the director's packets are judged on: the real servers' (NAT, DR) or its own. */
export function directorSegment(topology: Topology): string {
  const director = topology.hosts.find((h) => h.role === "director");
  if (!director) throw new Error("the topology has no director");
  if (tunnelsToServers(topology)) return director.interfaces[0].network;
  const server = topology.hosts.find((h) => h.role === "realserver");
  const shared = director.interfaces.find((i) =>
    server?.interfaces.some((s) => s.network === i.network)
  );
  if (!shared) throw new Error("the director has no interface on the real servers' network");
  return shared.network;
}

function onHost(host: Host, device: string, segment: string): CaptureSegment {
  return { segment, host: host.name, device };
}

/** The router's client-side interface and every real server's interfaces. */
function bypassSegments(topology: Topology): CaptureSegment[] {
  const net = clientNetwork(topology)!;
  const router = topology.hosts.find((h) =>
    h.role === "router" && h.interfaces.some((i) => i.network === net)
  );
  const routerSide = router
    ? router.interfaces.filter((i) => i.network === net).map((i) => onHost(router, i.name, net))
    : [];
  const servers = topology.hosts.filter((h) => h.role === "realserver").flatMap((h) =>
    h.interfaces.map((i) => onHost(h, i.name, i.switchPort))
  );
  return [...routerSide, ...servers];
}

/** One capture point per director interface (named after its network) and one for the TUN. */
export function captureSegments(
  topology: Topology,
  options: { tunDevice?: string } = {},
): CaptureSegment[] {
  const director = topology.hosts.find((h) => h.role === "director");
  if (!director) throw new Error("the topology has no director, so there is nothing to capture");
  return [
    ...director.interfaces.map((i) => onHost(director, i.name, i.network)),
    ...(repliesBypassDirector(topology) ? bypassSegments(topology) : []),
    onHost(director, options.tunDevice ?? TUN_DEVICE, TUN_SEGMENT),
  ];
}
