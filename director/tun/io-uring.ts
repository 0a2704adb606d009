// A minimal io_uring through koffi (io_uring_setup/io_uring_enter by syscall(2), the rings
// mmapped and viewed as typed arrays), for the packet loop: several reads of the TUN device
// submitted, and their completions collected, in one system call. Only read and write are
// prepared; buffers are given by address (native memory or a SharedArrayBuffer: neither moves),
// so preparing, submitting and reaping allocate nothing.
//
// Memory ordering: without SQPOLL the kernel reads the SQ tail inside io_uring_enter, so the
// syscall orders our SQE stores before it; the tail is still stored with Atomics.store. The
// kernel publishes CQEs with a store-release of the CQ tail: it is read with Atomics.load
// (ldar on aarch64; a compiler barrier on x86) before the CQEs, and the CQ head is stored
// with Atomics.store after they are read, so the kernel never reuses a CQE still being read.
import koffi from "koffi";

/** syscall(2) numbers, the same on x86_64 and aarch64 (new syscalls share one table). */
const SYS_IO_URING_SETUP = 425;
const SYS_IO_URING_ENTER = 426;

const IORING_OP_READ = 22;
const IORING_OP_WRITE = 23;
const IORING_ENTER_GETEVENTS = 1;
/**
 * A read's rw_flags: with nothing to read, complete at once with -EAGAIN. Without it the
 * kernel (6.18) ignores the fd's O_NONBLOCK and leaves the read armed until data comes.
 */
const RWF_NOWAIT = 0x8;
const IORING_FEAT_SINGLE_MMAP = 1;
const IORING_OFF_SQ_RING = 0;
const IORING_OFF_CQ_RING = 0x8000000;
const IORING_OFF_SQES = 0x10000000;

const PROT_READ_WRITE = 0x1 | 0x2;
const MAP_SHARED_POPULATE = 0x01 | 0x8000;

/** struct io_uring_params: 10 u32, then io_sqring_offsets and io_cqring_offsets (40 bytes each). */
const PARAMS_SIZE = 120;
const SQ_OFF = 40 / 4; // index of sq_off in the params as u32
const CQ_OFF = 80 / 4;
const SQE_SIZE = 64;
const CQE_SIZE = 16;

export const ECANCELED = 125;

type SetupFn = (nr: number, entries: number, params: Uint32Array) => number;
type EnterFn = (
  nr: number,
  fd: number,
  toSubmit: number,
  minComplete: number,
  flags: number,
  sig: null,
  sigSize: number,
) => number;
type MmapFn = (
  addr: null,
  len: number,
  prot: number,
  flags: number,
  fd: number,
  off: number,
) => unknown;
type MunmapFn = (addr: unknown, len: number) => number;
type CloseFn = (fd: number) => number;
type AddressFn = (dst: ArrayBufferView | ArrayBuffer, src: null, n: number) => number;

interface Calls {
  setup: SetupFn;
  enter: EnterFn;
  mmap: MmapFn;
  munmap: MunmapFn;
  close: CloseFn;
  address: AddressFn;
}
let calls: Calls | null = null;

function bind(): Calls {
  if (calls === null) {
    const libc = koffi.load("libc.so.6");
    // syscall(2) is variadic in C, but glibc's only moves registers: a fixed prototype per
    // use is safe on x86_64 and aarch64, and spares koffi's per-call variadic type parsing.
    calls = {
      setup: libc.func("long syscall(long nr, unsigned int entries, void *params)") as SetupFn,
      enter: libc.func(
        "long syscall(long nr, int fd, unsigned int to_submit, unsigned int min_complete, " +
          "unsigned int flags, void *sig, unsigned long sz)",
      ) as EnterFn,
      mmap: libc.func(
        "void *mmap(void *addr, unsigned long len, int prot, int flags, int fd, long off)",
      ) as MmapFn,
      munmap: libc.func("int munmap(void *addr, unsigned long len)") as MunmapFn,
      close: libc.func("int close(int fd)") as CloseFn,
      // memmove(dst, NULL, 0) returns dst: the native address of a buffer koffi passes in.
      address: libc.func("uintptr_t memmove(void *dst, void *src, unsigned long n)") as AddressFn,
    };
  }
  return calls;
}

/** The native address of a SharedArrayBuffer's (or an ArrayBuffer's) bytes: they never move. */
export function bufferAddress(buffer: ArrayBufferLike): number {
  const view = new Uint8Array(buffer, 0, 1);
  return Number(bind().address(view, null, 0));
}

interface Mapping {
  pointer: unknown;
  length: number;
}

function map(fd: number, length: number, offset: number): Mapping {
  const pointer = bind().mmap(null, length, PROT_READ_WRITE, MAP_SHARED_POPULATE, fd, offset);
  if (pointer === null || BigInt(koffi.address(pointer)) === 0xffffffffffffffffn) {
    throw new Error(`mmap of the io_uring rings failed (errno ${koffi.errno()})`);
  }
  return { pointer, length };
}

/**
 * One io_uring instance. Prepare with read()/write() (false when the SQ is full), then
 * submit(); completions are read with the cqe* getters between peek() and advance().
 */
export class IoUring {
  readonly fd: number;
  readonly sqEntries: number;
  readonly cqEntries: number;
  private readonly maps: Mapping[] = [];
  private readonly sqHead: Uint32Array; // [0]: the kernel's consumer index
  private readonly sqTail: Uint32Array;
  private readonly sqMask: number;
  private readonly sqes8: Uint8Array;
  private readonly sqes32: Int32Array;
  private readonly cqHead: Uint32Array;
  private readonly cqTail: Uint32Array;
  private readonly cqMask: number;
  private readonly cqes32: Int32Array;
  /** SQEs prepared and not yet submitted. */
  private pending = 0;
  private localTail = 0;
  private cqPos = 0;
  private closed = false;

  constructor(entries: number) {
    const c = bind();
    const params = new Uint32Array(PARAMS_SIZE / 4);
    const fd = c.setup(SYS_IO_URING_SETUP, entries, params);
    if (fd < 0) {
      const errno = koffi.errno();
      throw new Error(
        `io_uring_setup failed (errno ${errno}${
          errno === 1 ? ": /proc/sys/kernel/io_uring_disabled forbids it" : ""
        }); run the director with --tun-read read`,
      );
    }
    this.fd = fd;
    this.sqEntries = params[0];
    this.cqEntries = params[1];
    const features = params[5];
    const sqRingBytes = params[SQ_OFF + 6] + this.sqEntries * 4;
    const cqRingBytes = params[CQ_OFF + 5] + this.cqEntries * CQE_SIZE;
    try {
      const single = (features & IORING_FEAT_SINGLE_MMAP) !== 0;
      const sqLen = single ? Math.max(sqRingBytes, cqRingBytes) : sqRingBytes;
      const sqMap = map(fd, sqLen, IORING_OFF_SQ_RING);
      this.maps.push(sqMap);
      const cqMap = single ? sqMap : map(fd, cqRingBytes, IORING_OFF_CQ_RING);
      if (!single) this.maps.push(cqMap);
      const sqesMap = map(fd, this.sqEntries * SQE_SIZE, IORING_OFF_SQES);
      this.maps.push(sqesMap);
      const sqRing = koffi.view(sqMap.pointer, sqMap.length);
      const cqRing = koffi.view(cqMap.pointer, cqMap.length);
      this.sqHead = new Uint32Array(sqRing, params[SQ_OFF + 0], 1);
      this.sqTail = new Uint32Array(sqRing, params[SQ_OFF + 1], 1);
      this.sqMask = new Uint32Array(sqRing, params[SQ_OFF + 2], 1)[0];
      // The SQ index array maps ring positions to SQEs: identity, written once.
      const array = new Uint32Array(sqRing, params[SQ_OFF + 6], this.sqEntries);
      for (let i = 0; i < this.sqEntries; i++) array[i] = i;
      const sqes = koffi.view(sqesMap.pointer, sqesMap.length);
      this.sqes8 = new Uint8Array(sqes);
      this.sqes32 = new Int32Array(sqes);
      this.cqHead = new Uint32Array(cqRing, params[CQ_OFF + 0], 1);
      this.cqTail = new Uint32Array(cqRing, params[CQ_OFF + 1], 1);
      this.cqMask = new Uint32Array(cqRing, params[CQ_OFF + 2], 1)[0];
      this.cqes32 = new Int32Array(cqRing, params[CQ_OFF + 5], this.cqEntries * CQE_SIZE / 4);
      this.localTail = this.sqTail[0];
      this.cqPos = this.cqHead[0];
    } catch (err) {
      this.close();
      throw err;
    }
  }

  /** Queues read(fd, address, length); userData (a uint32) comes back in the completion. */
  read(fd: number, address: number, length: number, userData: number): boolean {
    return this.prepare(IORING_OP_READ, fd, address, length, userData, RWF_NOWAIT);
  }

  /** Queues write(fd, address, length). */
  write(fd: number, address: number, length: number, userData: number): boolean {
    return this.prepare(IORING_OP_WRITE, fd, address, length, userData, 0);
  }

  /** SQEs that can still be prepared before the next submit. */
  get sqSpace(): number {
    return this.sqEntries - ((this.localTail - Atomics.load(this.sqHead, 0)) >>> 0);
  }

  private prepare(
    op: number,
    fd: number,
    address: number,
    length: number,
    userData: number,
    rwFlags: number,
  ): boolean {
    if (this.sqSpace === 0) return false;
    const index = this.localTail & this.sqMask;
    const w = index * (SQE_SIZE / 4);
    const s = this.sqes32;
    this.sqes8.fill(0, index * SQE_SIZE, (index + 1) * SQE_SIZE);
    this.sqes8[index * SQE_SIZE] = op;
    s[w + 1] = fd;
    s[w + 2] = -1; // off = -1: the file's position (a TUN device or a pipe has none)
    s[w + 3] = -1;
    s[w + 4] = address % 0x100000000;
    s[w + 5] = Math.floor(address / 0x100000000);
    s[w + 6] = length;
    s[w + 7] = rwFlags;
    s[w + 8] = userData;
    this.localTail = (this.localTail + 1) >>> 0;
    this.pending++;
    return true;
  }

  /**
   * Submits the prepared SQEs and waits until `minComplete` completions are ready (0: do not
   * wait). Returns the SQEs the kernel took, or -1 with koffi.errno() (EINTR, EBUSY when the
   * CQ is full: reap, then call again).
   */
  submit(minComplete = 0): number {
    Atomics.store(this.sqTail, 0, this.localTail);
    const n = bind().enter(
      SYS_IO_URING_ENTER,
      this.fd,
      this.pending,
      minComplete,
      minComplete > 0 ? IORING_ENTER_GETEVENTS : 0,
      null,
      0,
    );
    if (n > 0) this.pending -= n;
    return n;
  }

  /** Completions ready to read (cqeRes/cqeData(i) for i < this), without a system call. */
  peek(): number {
    return (Atomics.load(this.cqTail, 0) - this.cqPos) >>> 0;
  }

  /** Result (byte count or -errno) of the i-th ready completion. */
  cqeRes(i: number): number {
    return this.cqes32[(((this.cqPos + i) & this.cqMask) * (CQE_SIZE / 4)) + 2];
  }

  /** userData of the i-th ready completion. */
  cqeData(i: number): number {
    return this.cqes32[((this.cqPos + i) & this.cqMask) * (CQE_SIZE / 4)] >>> 0;
  }

  /** Marks the first `count` ready completions read: the kernel may reuse their entries. */
  advance(count: number): void {
    this.cqPos = (this.cqPos + count) >>> 0;
    Atomics.store(this.cqHead, 0, this.cqPos);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    const c = bind();
    for (const m of this.maps) c.munmap(m.pointer, m.length);
    this.maps.length = 0;
    c.close(this.fd);
  }
}
