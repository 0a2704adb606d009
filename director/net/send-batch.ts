// What the director's sending sockets share (./packet-socket.ts for VS/DR frames,
// ./raw-socket.ts for VS/TUN packets): the libc calls through koffi, and a batch of message
// slots in native memory (buffers, iovecs, mmsghdrs and one socket address per slot) that
// sendmmsg(2) sends in one call. Made once per socket: nothing is allocated per message.
// Errors are errno numbers, counted, never thrown per message.
import koffi from "koffi";

export const MSG_DONTWAIT = 0x40;

// struct iovec { void *base; size_t len; } and struct mmsghdr { struct msghdr (56 bytes:
// name, namelen, iov, iovlen, control, controllen, flags); unsigned msg_len; } on x86_64
// and aarch64.
const IOVEC_SIZE = 16;
const MMSGHDR_SIZE = 64;
/** Room for one socket address per slot (sockaddr_ll is 20 bytes, sockaddr_in 16). */
const ADDRESS_ROOM = 24;

type SocketFn = (domain: number, type: number, protocol: number) => number;
type BindFn = (fd: number, addr: Uint8Array, len: number) => number;
type SetsockoptFn = (
  fd: number,
  level: number,
  name: number,
  val: Int32Array,
  len: number,
) => number;
type SendmmsgFn = (fd: number, msgs: Uint8Array, vlen: number, flags: number) => number;
type SendtoFn = (
  fd: number,
  buf: Uint8Array,
  len: number,
  flags: number,
  addr: Uint8Array,
  addrLen: number,
) => number;
type CloseFn = (fd: number) => number;
type MemcpyFn = (dst: Uint8Array, src: Uint8Array, count: number) => unknown;

export interface SocketCalls {
  socket: SocketFn;
  bind: BindFn;
  setsockopt: SetsockoptFn;
  sendmmsg: SendmmsgFn;
  sendto: SendtoFn;
  close: CloseFn;
  memcpy: MemcpyFn;
}
let calls: SocketCalls | null = null;

/** libc's socket calls (bound on first use). */
export function socketCalls(): SocketCalls {
  if (calls === null) {
    const lib = koffi.load("libc.so.6");
    calls = {
      socket: lib.func("int socket(int domain, int type, int protocol)") as SocketFn,
      bind: lib.func("int bind(int fd, void *addr, uint32_t len)") as BindFn,
      setsockopt: lib.func(
        "int setsockopt(int fd, int level, int name, void *val, uint32_t len)",
      ) as SetsockoptFn,
      sendmmsg: lib.func(
        "int sendmmsg(int fd, void *msgs, unsigned int vlen, int flags)",
      ) as SendmmsgFn,
      sendto: lib.func(
        "long sendto(int fd, void *buf, unsigned long len, int flags, void *addr, uint32_t alen)",
      ) as SendtoFn,
      close: lib.func("int close(int fd)") as CloseFn,
      memcpy: lib.func("void *memcpy(void *dst, void *src, unsigned long n)") as MemcpyFn,
    };
  }
  return calls;
}

/** Counters of one socket (plain numbers; read them from the thread that sends). */
export interface SendStats {
  framesSent: number;
  bytesSent: number;
  /** Messages the kernel refused (each counted once, then skipped). */
  sendErrors: number;
  /** errno of the last refusal, 0 if none. */
  lastErrno: number;
  /** sendmmsg/sendto calls made. */
  calls: number;
}

export function newSendStats(): SendStats {
  return { framesSent: 0, bytesSent: 0, sendErrors: 0, lastErrno: 0, calls: 0 };
}

/**
 * `batch` message slots of `slotSize` bytes, each with its own socket address, and an
 * optional scratch area in the same native block (so copies between them are copyWithin on
 * one buffer: memmove speed, no view made per copy).
 */
export class SendBatch {
  readonly stats = newSendStats();
  /** The whole native block; slot i starts at i * slotSize, the scratch at scratchOffset. */
  readonly block: Uint8Array;
  readonly scratchOffset: number;
  /** The scratch area as a view (for memcpy into it). */
  readonly scratch: Uint8Array;
  readonly slots: Uint8Array[] = [];
  /** Slot i's socket address (addressLength bytes; fill it, or fill all with setAddress). */
  readonly addresses: Uint8Array[] = [];
  /** iov_len of each slot, as the low 32 bits of a size_t. */
  private readonly iovLen: Uint32Array;
  /** The mmsghdr array from slot i on, one view per i (made once, for retries). */
  private readonly msgsFrom: Uint8Array[] = [];
  private readonly memory: unknown;
  private freed = false;

  constructor(
    readonly batch: number,
    readonly slotSize: number,
    readonly addressLength: number,
    scratchBytes = 0,
  ) {
    // One native block: slots, the scratch area, then iovecs, mmsghdrs, socket addresses.
    this.scratchOffset = batch * slotSize;
    const slotsBytes = this.scratchOffset + scratchBytes;
    const iovAt = align(slotsBytes, 16);
    const msgAt = iovAt + batch * IOVEC_SIZE;
    const addrAt = msgAt + batch * MMSGHDR_SIZE;
    const total = addrAt + batch * ADDRESS_ROOM;
    this.memory = koffi.alloc("uint8_t", total);
    const bytes = new Uint8Array(koffi.view(this.memory, total));
    bytes.fill(0, slotsBytes);
    this.block = bytes;
    this.scratch = bytes.subarray(this.scratchOffset, slotsBytes);
    const base = koffi.address(this.memory) as bigint;
    const dv = new DataView(bytes.buffer, bytes.byteOffset, total);
    for (let i = 0; i < batch; i++) {
      this.slots.push(bytes.subarray(i * slotSize, (i + 1) * slotSize));
      const addr = addrAt + i * ADDRESS_ROOM;
      this.addresses.push(bytes.subarray(addr, addr + addressLength));
      const iov = iovAt + i * IOVEC_SIZE;
      dv.setBigUint64(iov, base + BigInt(i * slotSize), true);
      const msg = msgAt + i * MMSGHDR_SIZE;
      dv.setBigUint64(msg, base + BigInt(addr), true); // msg_name
      dv.setUint32(msg + 8, addressLength, true); // msg_namelen
      dv.setBigUint64(msg + 16, base + BigInt(iov), true); // msg_iov
      dv.setBigUint64(msg + 24, 1n, true); // msg_iovlen
      this.msgsFrom.push(bytes.subarray(msg, addrAt));
    }
    this.iovLen = new Uint32Array(bytes.buffer, bytes.byteOffset + iovAt, batch * 4);
  }

  /** Gives every slot the same socket address. */
  setAddress(address: Uint8Array): void {
    for (const a of this.addresses) a.set(address);
  }

  setLength(i: number, length: number): void {
    this.iovLen[i * 4 + 2] = length;
  }

  lengthOf(i: number): number {
    return this.iovLen[i * 4 + 2]!;
  }

  /**
   * Sends slots [0, count) on fd with sendmmsg. A message the kernel refuses is counted
   * and skipped; the rest are still sent. Returns how many the kernel took.
   */
  flush(fd: number, count: number): number {
    const c = calls!;
    let at = 0;
    let taken = 0;
    while (at < count) {
      this.stats.calls++;
      const n = c.sendmmsg(fd, this.msgsFrom[at]!, count - at, MSG_DONTWAIT);
      if (n < 0) {
        // Slot `at` was refused (sendmmsg reports the first message's error).
        this.refused(koffi.errno());
        at++;
        continue;
      }
      for (let i = at; i < at + n; i++) this.stats.bytesSent += this.lengthOf(i);
      taken += n;
      at += n;
    }
    this.stats.framesSent += taken;
    return taken;
  }

  /** Sends buf[0, length) alone with sendto(2) to slot i's address; bytes sent or -errno. */
  sendOne(fd: number, i: number, buf: Uint8Array, length: number): number {
    this.stats.calls++;
    const n = calls!.sendto(fd, buf, length, MSG_DONTWAIT, this.addresses[i]!, this.addressLength);
    if (n < 0) {
      const errno = koffi.errno();
      this.refused(errno);
      return -errno;
    }
    this.stats.framesSent++;
    this.stats.bytesSent += n;
    return n;
  }

  private refused(errno: number): void {
    this.stats.sendErrors++;
    this.stats.lastErrno = errno;
  }

  /** Frees the native memory: no slot view may be used after this. */
  free(): void {
    if (this.freed) return;
    this.freed = true;
    koffi.free(this.memory);
  }
}

function align(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}
