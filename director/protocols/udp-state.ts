// IPVS's UDP "state machine" (net/netfilter/ipvs/ip_vs_proto_udp.c): UDP has no handshake,
// so every UDP connection sits in one state and each packet, either way, restarts its
// timeout (5 minutes unless ipvsadm --set changes it).

/** The only UDP state (IP_VS_UDP_S_NORMAL). */
export const UDP_STATE = 0;
/** Number of UDP states (IP_VS_UDP_S_LAST). */
export const UDP_STATE_COUNT = 1;
/** Default UDP timeout in seconds (udp_timeouts[IP_VS_UDP_S_NORMAL]). */
export const UDP_DEFAULT_TIMEOUT = 300;

/** Name of a UDP state as ipvsadm -L -c prints it: "UDP", or "ERR!" when out of range. */
export function udpStateName(state: number): string {
  return state === UDP_STATE ? "UDP" : "ERR!";
}
