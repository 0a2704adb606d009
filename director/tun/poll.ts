// poll(2) and pipe2(2) through koffi: the packet worker sleeps on the TUN fd and a wake-up
// pipe together, so it neither spins nor misses control messages while no packets arrive.
import koffi from "koffi";

const POLLIN = 0x001;
const O_NONBLOCK = 0o4000;
const O_CLOEXEC = 0o2000000;

type PollFn = (fds: Buffer, nfds: number, timeout: number) => number;
type Pipe2Fn = (fds: Int32Array, flags: number) => number;
let pollFn: PollFn | null = null;
let pipe2Fn: Pipe2Fn | null = null;

function lib() {
  if (pollFn === null || pipe2Fn === null) {
    const libc = koffi.load("libc.so.6");
    pollFn = libc.func("int poll(_Inout_ uint8_t *fds, unsigned long nfds, int timeout)") as PollFn;
    pipe2Fn = libc.func("int pipe2(_Out_ int *fds, int flags)") as Pipe2Fn;
  }
  return { poll: pollFn, pipe2: pipe2Fn };
}

const pollFds = Buffer.alloc(16);

/**
 * Waits up to timeoutMs until fdA or fdB is readable. Returns a bit set:
 * 1 when fdA is readable, 2 when fdB is readable, 0 on timeout or interruption.
 */
export function pollReadable(fdA: number, fdB: number, timeoutMs: number): number {
  pollFds.writeInt32LE(fdA, 0);
  pollFds.writeInt16LE(POLLIN, 4);
  pollFds.writeInt16LE(0, 6);
  pollFds.writeInt32LE(fdB, 8);
  pollFds.writeInt16LE(POLLIN, 12);
  pollFds.writeInt16LE(0, 14);
  if (lib().poll(pollFds, 2, timeoutMs) <= 0) return 0;
  return (pollFds.readInt16LE(6) !== 0 ? 1 : 0) | (pollFds.readInt16LE(14) !== 0 ? 2 : 0);
}

/** Creates a non-blocking pipe: [readFd, writeFd]. */
export function createWakePipe(): [number, number] {
  const fds = new Int32Array(2);
  if (lib().pipe2(fds, O_NONBLOCK | O_CLOEXEC) !== 0) throw new Error("pipe2 failed");
  return [fds[0], fds[1]];
}
