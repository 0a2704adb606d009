// What TCP and UDP headers share: the source and destination ports in their first four
// bytes, the segment length the IP header gives, and binding without validation (to the
// first 8 bytes of a header quoted inside an ICMP error).
import { NetView } from "./net-view.ts";

/** The bytes the two ports take at the start of a TCP or UDP header. */
export const PORTS_LEN = 4;

export class PortsView extends NetView {
  /** L4 bytes (header + payload) as the IP header gives them. */
  length = 0;

  /** Binds without validation: the caller reads only fields within the bytes present. */
  attach(buf: Uint8Array, off: number, available: number): void {
    this.buf = buf;
    this.off = off;
    this.length = available;
  }

  get srcPort(): number {
    return this.u16(0);
  }
  set srcPort(v: number) {
    this.setU16(0, v);
  }
  get dstPort(): number {
    return this.u16(2);
  }
  set dstPort(v: number) {
    this.setU16(2, v);
  }
}
