// Which TCP segments may open a connection (IPVS's tcp_conn_schedule in ip_vs_proto_tcp.c,
// and the SYN tests of ip_vs_core.c): IPVS schedules TCP only on a SYN; any other segment
// without a connection goes to the director's own stack, which answers it with a RST.
import { TCP_ACK, TCP_RST, TCP_SYN } from "../packet/tcp.ts";
import { REFUSE_PORT_CLOSED, REFUSE_SILENTLY } from "../replies/refusal.ts";

/**
 * 0 when a segment with these flags may be scheduled onto a real server; otherwise how to
 * refuse it (a REFUSE_* verdict): a RST is not answered, anything else gets one.
 */
export function tcpScheduleRefusal(tcpFlags: number): number {
  if ((tcpFlags & TCP_SYN) !== 0) return 0;
  return (tcpFlags & TCP_RST) === 0 ? REFUSE_PORT_CLOSED : REFUSE_SILENTLY;
}

/** A SYN without ACK or RST: a client opening a connection anew (conn_reuse_mode). */
export function isTcpFreshSyn(tcpFlags: number): boolean {
  return (tcpFlags & (TCP_SYN | TCP_ACK | TCP_RST)) === TCP_SYN;
}

/** A SYN without ACK: the first segment of a handshake (an expected data connection's). */
export function isTcpOpeningSyn(tcpFlags: number): boolean {
  return (tcpFlags & (TCP_SYN | TCP_ACK)) === TCP_SYN;
}
