// director/tun/: the TUN device and the system calls the packet loop makes on it (fd-io.ts,
// poll.ts).
//
// Opens a Linux TUN device with the virtio-net header, so the kernel hands the director
// 64 KB TCP super-packets (TSO) with partial checksums instead of 1500-byte frames: the
// per-byte cost vanishes and only per-packet cost counts (see DESIGN.md, hot path).
import fs from "node:fs";
import koffi from "koffi";
import { VNET_HDR_LEN } from "../packet/vnet-header.ts";

// From <linux/if_tun.h>.
const TUNSETIFF = 0x400454ca;
const TUNSETOFFLOAD = 0x400454d0;
const TUNSETVNETHDRSZ = 0x400454d8;
const IFF_TUN = 0x0001;
const IFF_NO_PI = 0x1000;
const IFF_MULTI_QUEUE = 0x0100;
const IFF_VNET_HDR = 0x4000;
export const TUN_F_CSUM = 0x01;
export const TUN_F_TSO4 = 0x02;

/** Largest read: a 64 KB super-packet plus the vnet header. */
export const TUN_READ_BUFFER_SIZE = 65535 + VNET_HDR_LEN;

const IFNAMSIZ = 16;
const IFREQ_SIZE = 40;

type IoctlFn = (fd: number, request: number, ...args: unknown[]) => number;
let ioctlFn: IoctlFn | null = null;
let errnoFn: (() => number) | null = null;

function libc(): { ioctl: IoctlFn; errno: () => number } {
  if (ioctlFn === null || errnoFn === null) {
    const lib = koffi.load("libc.so.6");
    ioctlFn = lib.func("int ioctl(int fd, unsigned long request, ...)") as IoctlFn;
    const location = lib.func("int *__errno_location(void)") as () => unknown;
    errnoFn = () => koffi.decode(location(), "int") as number;
  }
  return { ioctl: ioctlFn, errno: errnoFn };
}

export interface TunOptions {
  name: string;
  /** Ask the kernel for TSO super-packets and partial checksums (the fast path). */
  offload: boolean;
  /** Open the device with IFF_MULTI_QUEUE (one fd per queue). */
  multiQueue?: boolean;
  /**
   * Frame every packet with a virtio_net_hdr (default true: the director's fast path). The
   * real servers' decapsulator writes merged TCP segments with it too.
   */
  vnetHeader?: boolean;
}

export interface TunDevice {
  fd: number;
  name: string;
  offload: boolean;
}

/**
 * Creates (or attaches to) the TUN interface `name` in the caller's network namespace.
 * Throws an Error whose message says what failed and what to check.
 */
export function openTun(options: TunOptions): TunDevice {
  if (Buffer.byteLength(options.name) >= IFNAMSIZ) {
    throw new Error(`TUN name '${options.name}' is longer than 15 bytes; choose a shorter name`);
  }
  let fd: number;
  try {
    // Non-blocking: the packet loop sleeps in poll(2), where it can also be woken for control.
    fd = fs.openSync("/dev/net/tun", fs.constants.O_RDWR | fs.constants.O_NONBLOCK);
  } catch (err) {
    throw new Error(
      `cannot open /dev/net/tun (${
        (err as Error).message
      }); a TUN device needs root and the tun driver`,
    );
  }
  const { ioctl, errno } = libc();
  const ifr = Buffer.alloc(IFREQ_SIZE);
  ifr.write(options.name, 0, "latin1");
  const vnetHeader = options.vnetHeader ?? true;
  const flags = IFF_TUN | IFF_NO_PI | (vnetHeader ? IFF_VNET_HDR : 0) |
    (options.multiQueue ? IFF_MULTI_QUEUE : 0);
  ifr.writeUInt16LE(flags, IFNAMSIZ);
  const fail = (what: string): never => {
    const code = errno();
    fs.closeSync(fd);
    throw new Error(`${what} on ${options.name} failed (errno ${code})`);
  };
  if (ioctl(fd, TUNSETIFF, "void *", ifr) < 0) fail("TUNSETIFF");
  if (!vnetHeader) {
    return { fd, name: ifr.toString("latin1", 0, IFNAMSIZ).replace(/\0.*$/s, ""), offload: false };
  }
  const hdrSize = Buffer.alloc(4);
  hdrSize.writeInt32LE(VNET_HDR_LEN, 0);
  if (ioctl(fd, TUNSETVNETHDRSZ, "void *", hdrSize) < 0) fail("TUNSETVNETHDRSZ");
  const offloads = options.offload ? TUN_F_CSUM | TUN_F_TSO4 : 0;
  if (ioctl(fd, TUNSETOFFLOAD, "unsigned long", offloads) < 0) fail("TUNSETOFFLOAD");
  const name = ifr.toString("latin1", 0, IFNAMSIZ).replace(/\0.*$/s, "");
  return { fd, name, offload: options.offload };
}
