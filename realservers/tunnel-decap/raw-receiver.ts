// The decapsulator's receive side: a raw IPv4 socket for the tunnel's outer protocol (4
// IPIP, 17 UDP for GUE, 47 GRE). Its recvmmsg(2) returns whole packets, outer header first
// (research/wave2-forwarding.md §4.3), in batches over preallocated mmsghdr/iovec arrays and
// slot buffers in native memory: nothing is allocated per packet. While it is open the
// kernel no longer answers IPIP or GRE with "protocol unreachable".
//
// GUE needs two more things, both classic BPF filters (SO_ATTACH_FILTER) run by the kernel:
// the raw UDP socket sees only datagrams from a director or to the GUE port (the host's other
// UDP traffic stays out of the loop), and a UDP socket bound to the GUE port, which drops all
// it gets, so the kernel has a socket there and sends no "port unreachable" (fou's socket
// plays that part where the kernel has it).
import koffi from "koffi";
import { MERGE_AREA_SIZE } from "./tcp-merge.ts";

// From <linux/socket.h>, <netinet/in.h>, <asm-generic/socket.h>, <linux/filter.h>.
const AF_INET = 2;
const SOCK_RAW = 3;
const SOCK_DGRAM = 2;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SO_RCVBUFFORCE = 33;
const SO_ATTACH_FILTER = 26;
const MSG_DONTWAIT = 0x40;
const EADDRINUSE = 98;

// struct iovec (16 bytes) and struct mmsghdr (msghdr of 56 bytes, then msg_len) on x86_64
// and aarch64.
const IOVEC_SIZE = 16;
const MMSGHDR_SIZE = 64;
const MSG_LEN_AT = 56;
/** A slot holds the largest IPv4 packet (reassembled: the kernel defragments first). */
export const SLOT_SIZE = 65536;
export const DEFAULT_BATCH = 32;
/** The merge area after the slots, rounded up so the iovecs that follow stay aligned. */
const MERGE_AREA_BYTES = Math.ceil(MERGE_AREA_SIZE / 8) * 8;
/** Receive buffer asked for (as root, beyond rmem_max): room for bursts while JS runs. */
const RECEIVE_BUFFER = 4 << 20;

// Classic BPF instructions (struct sock_filter: u16 code, u8 jt, u8 jf, u32 k).
const BPF_LD_W_ABS = 0x20;
const BPF_LDX_B_MSH = 0xb1;
const BPF_LD_H_IND = 0x48;
const BPF_JEQ_K = 0x15;
const BPF_RET_K = 0x06;
const BPF_MAX_JUMP = 255;
const IPV4_SRC_AT = 12;

export type BpfInstruction = [code: number, jt: number, jf: number, k: number];

type Fn = (...args: never[]) => number;
interface Libc {
  socket: (domain: number, type: number, protocol: number) => number;
  bind: (fd: number, addr: Uint8Array, len: number) => number;
  setsockopt: (fd: number, level: number, name: number, val: Uint8Array, len: number) => number;
  recvmmsg: (fd: number, msgs: Uint8Array, vlen: number, flags: number, t: null) => number;
  close: (fd: number) => number;
}
let libc: Libc | null = null;

function bindLibc(): Libc {
  if (libc === null) {
    const lib = koffi.load("libc.so.6");
    const f = (proto: string) => lib.func(proto) as Fn;
    libc = {
      socket: f("int socket(int domain, int type, int protocol)"),
      bind: f("int bind(int fd, void *addr, uint32_t len)"),
      setsockopt: f("int setsockopt(int fd, int level, int name, void *val, uint32_t len)"),
      recvmmsg: f("int recvmmsg(int fd, void *msgs, unsigned int vlen, int flags, void *t)"),
      close: f("int close(int fd)"),
    } as unknown as Libc;
  }
  return libc;
}

/**
 * The raw UDP socket's filter: accept a datagram from one of the directors (a GUE packet to
 * the wrong port is then counted) or to the GUE port (one from a stranger is counted), drop
 * every other UDP datagram. Addresses are unsigned 32-bit numbers.
 */
export function gueRawFilter(directors: readonly number[], guePort: number): BpfInstruction[] {
  if (directors.length + 4 > BPF_MAX_JUMP) throw new Error("too many directors for one filter");
  const prog: BpfInstruction[] = [[BPF_LD_W_ABS, 0, 0, IPV4_SRC_AT]];
  const n = directors.length;
  // Director i sits at pc i + 1; "accept" is the last instruction, at pc n + 5.
  directors.forEach((d, i) => prog.push([BPF_JEQ_K, n + 3 - i, 0, d >>> 0]));
  prog.push([BPF_LDX_B_MSH, 0, 0, 0]); // X = 4 * IHL
  prog.push([BPF_LD_H_IND, 0, 0, 2]); // A = UDP destination port
  prog.push([BPF_JEQ_K, 1, 0, guePort]);
  prog.push([BPF_RET_K, 0, 0, 0]);
  prog.push([BPF_RET_K, 0, 0, 0xffffffff]);
  return prog;
}

/** Drop everything (the GUE port's placeholder socket). */
export const DROP_ALL: BpfInstruction[] = [[BPF_RET_K, 0, 0, 0]];

/** Attaches a classic BPF program to fd; returns setsockopt's result (-1 on error). */
function attachFilter(c: Libc, fd: number, prog: BpfInstruction[]): number {
  const insns = koffi.alloc("uint8_t", prog.length * 8);
  const code = new DataView(koffi.view(insns, prog.length * 8));
  prog.forEach(([op, jt, jf, k], i) => {
    code.setUint16(i * 8, op, true);
    code.setUint8(i * 8 + 2, jt);
    code.setUint8(i * 8 + 3, jf);
    code.setUint32(i * 8 + 4, k >>> 0, true);
  });
  // struct sock_fprog { unsigned short len; struct sock_filter *filter; }: the kernel
  // copies the program, so the memory is freed right after.
  const fprog = new Uint8Array(16);
  const dv = new DataView(fprog.buffer);
  dv.setUint16(0, prog.length, true);
  dv.setBigUint64(8, koffi.address(insns) as bigint, true);
  const rc = c.setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, fprog, 16);
  koffi.free(insns);
  return rc;
}

export class RawReceiver {
  /** Packets received and recvmmsg calls that returned some. */
  packets = 0;
  batches = 0;
  private closed = false;

  private constructor(
    readonly fd: number,
    readonly batch: number,
    private readonly memory: unknown,
    private readonly slots: Uint8Array[],
    /** Where TcpMerger builds super-packets: in the slots' buffer, so payloads move by copyWithin. */
    readonly mergeArea: Uint8Array,
    private readonly msgs: Uint8Array,
    private readonly words: Uint32Array,
    private readonly msgLenAt: number,
  ) {}

  /**
   * Opens a raw socket for `protocol` (needs CAP_NET_RAW), with an optional kernel filter.
   * Throws a sentence when it cannot.
   */
  static open(protocol: number, filter?: BpfInstruction[], batch = DEFAULT_BATCH): RawReceiver {
    const c = bindLibc();
    const fd = c.socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, protocol);
    if (fd < 0) {
      throw new Error(
        `cannot open a raw socket for IP protocol ${protocol} (errno ${koffi.errno()}); run the decapsulator as root`,
      );
    }
    const size = Int32Array.of(RECEIVE_BUFFER);
    c.setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, new Uint8Array(size.buffer), 4);
    if (filter && attachFilter(c, fd, filter) < 0) {
      const errno = koffi.errno();
      c.close(fd);
      throw new Error(`cannot attach the socket filter (errno ${errno})`);
    }
    // One native block: slots, the merge area, then iovecs, then mmsghdrs (msg_name NULL:
    // the outer header carries the source).
    const mergeAt = batch * SLOT_SIZE;
    const iovAt = mergeAt + MERGE_AREA_BYTES;
    const msgAt = iovAt + batch * IOVEC_SIZE;
    const total = msgAt + batch * MMSGHDR_SIZE;
    const memory = koffi.alloc("uint8_t", total);
    const bytes = new Uint8Array(koffi.view(memory, total));
    bytes.fill(0, iovAt);
    const base = koffi.address(memory) as bigint;
    const dv = new DataView(bytes.buffer, 0, total);
    const slots: Uint8Array[] = [];
    for (let i = 0; i < batch; i++) {
      slots.push(bytes.subarray(i * SLOT_SIZE, (i + 1) * SLOT_SIZE));
      const iov = iovAt + i * IOVEC_SIZE;
      dv.setBigUint64(iov, base + BigInt(i * SLOT_SIZE), true);
      dv.setBigUint64(iov + 8, BigInt(SLOT_SIZE), true);
      const msg = msgAt + i * MMSGHDR_SIZE;
      dv.setBigUint64(msg + 16, base + BigInt(iov), true); // msg_iov
      dv.setBigUint64(msg + 24, 1n, true); // msg_iovlen
    }
    const words = new Uint32Array(bytes.buffer, 0, total / 4);
    return new RawReceiver(
      fd,
      batch,
      memory,
      slots,
      bytes.subarray(mergeAt, iovAt),
      bytes.subarray(msgAt, total),
      words,
      (msgAt + MSG_LEN_AT) / 4,
    );
  }

  /** Receives up to `batch` packets without waiting: the count (0 when none), or -errno. */
  receive(): number {
    const n = libc!.recvmmsg(this.fd, this.msgs, this.batch, MSG_DONTWAIT, null);
    if (n < 0) {
      const errno = koffi.errno();
      return errno === 11 ? 0 : -errno;
    }
    if (n > 0) {
      this.packets += n;
      this.batches++;
    }
    return n;
  }

  /** Slot i's buffer: packet i of the last receive() starts at 0. */
  slot(i: number): Uint8Array {
    return this.slots[i]!;
  }

  /** Length of packet i of the last receive(). */
  length(i: number): number {
    return this.words[this.msgLenAt + i * (MMSGHDR_SIZE / 4)]!;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    libc!.close(this.fd);
    koffi.free(this.memory);
  }
}

/**
 * A UDP socket bound to 0.0.0.0:port that drops everything it is given (DROP_ALL): the
 * kernel then sends no "port unreachable" for GUE packets. Returns its fd.
 */
export function openPortPlaceholder(port: number): number {
  const c = bindLibc();
  const fd = c.socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw new Error(`cannot open a UDP socket (errno ${koffi.errno()})`);
  if (attachFilter(c, fd, DROP_ALL) < 0) {
    const errno = koffi.errno();
    c.close(fd);
    throw new Error(`cannot attach a filter to the GUE port's socket (errno ${errno})`);
  }
  const addr = new Uint8Array(16);
  new DataView(addr.buffer).setUint16(0, AF_INET, true);
  new DataView(addr.buffer).setUint16(2, port, false);
  if (c.bind(fd, addr, 16) < 0) {
    const errno = koffi.errno();
    c.close(fd);
    throw new Error(
      errno === EADDRINUSE
        ? `UDP port ${port} is already in use (another decapsulator, or fou?); stop it or choose --gue-port`
        : `cannot bind UDP port ${port} (errno ${errno})`,
    );
  }
  return fd;
}

/** Closes an fd opened here (the placeholder). */
export function closeFd(fd: number): void {
  bindLibc().close(fd);
}
