// The "state" column of ipvsadm -L -c for any connection: the kernel asks the connection's
// protocol handler for the name (ip_vs_state_name()).
import { IPPROTO_TCP, IPPROTO_UDP } from "../packet/ipv4.ts";
import { tcpStateName } from "./tcp-state.ts";
import { udpStateName } from "./udp-state.ts";

/** State name for a connection of IP protocol `proto`; "ERR!" for a protocol IPVS lacks. */
export function connStateName(proto: number, state: number): string {
  if (proto === IPPROTO_TCP) return tcpStateName(state);
  if (proto === IPPROTO_UDP) return udpStateName(state);
  return "ERR!";
}
