// (a) Plain kernel forwarding through the director host to one real server's own address,
// no load balancing: the limit every load balancer is measured against. The director host
// forwards already (the lab sets ip_forward), so there is nothing to set up.
import type { Peer } from "./peer.ts";
import { RS1 } from "../config.ts";

export function kernelForwardingPeer(): Peer {
  return {
    id: "kernel",
    label: "kernel forwarding",
    targets: { tcp: RS1, http: `http://${RS1}/`, udp: RS1 },
    setup: () => Promise.resolve(),
    teardown: () => Promise.resolve(),
    directorPid: () => null,
  };
}
