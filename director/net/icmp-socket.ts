// A raw ICMP socket on which the director hears the ICMP errors addressed to its own
// addresses (IPVS sees them in ip_vs_in_icmp at LOCAL_IN): a router beyond the director
// that cannot forward one of its VS/TUN packets tells the packet's source, the director,
// not the client. The kernel hands every raw IPPROTO_ICMP socket a copy of each ICMP it
// delivers locally; ICMP_FILTER keeps only the error types IPVS looks at, so the packet
// worker is not woken for pings. Non-blocking: an empty queue is -1/EAGAIN, read on the
// packet loop into one reusable buffer (nothing allocated per packet).
import koffi from "koffi";
import { socketCalls } from "./send-batch.ts";
import { ICMP_DEST_UNREACH, ICMP_SOURCE_QUENCH, ICMP_TIME_EXCEEDED } from "../packet/icmp.ts";

// From <linux/socket.h>, <linux/in.h>, <linux/icmp.h>.
const AF_INET = 2;
const SOCK_RAW = 3;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const IPPROTO_ICMP = 1;
const SOL_RAW = 255;
const ICMP_FILTER = 1;

/** The ICMP_FILTER mask: a set bit filters its type out; the three error types pass. */
export const ICMP_ERROR_FILTER =
  ~((1 << ICMP_DEST_UNREACH) | (1 << ICMP_SOURCE_QUENCH) | (1 << ICMP_TIME_EXCEEDED)) | 0;

/** What the tunnel table needs of the socket (tests give it none). */
export interface IcmpReceiver {
  readonly fd: number;
  close(): void;
}

export class IcmpSocket implements IcmpReceiver {
  private closed = false;

  private constructor(readonly fd: number) {}

  /** Opens the socket (needs CAP_NET_RAW); throws a sentence when it cannot. */
  static open(): IcmpSocket {
    const c = socketCalls();
    const fd = c.socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMP);
    if (fd < 0) {
      throw new Error(
        `cannot open a raw ICMP socket (errno ${koffi.errno()}); the director needs root ` +
          "(CAP_NET_RAW) to hear ICMP errors about its VS/TUN packets",
      );
    }
    const mask = new Int32Array([ICMP_ERROR_FILTER]);
    if (c.setsockopt(fd, SOL_RAW, ICMP_FILTER, mask, 4) !== 0) {
      const errno = koffi.errno();
      c.close(fd);
      throw new Error(`cannot set ICMP_FILTER on the raw ICMP socket (errno ${errno})`);
    }
    return new IcmpSocket(fd);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    socketCalls().close(this.fd);
  }
}
