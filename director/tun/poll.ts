// poll(2) and pipe2(2) through koffi: the packet worker sleeps on the TUN fd and a wake-up
// pipe together, so it neither spins nor misses control messages while no packets arrive.
import koffi from "koffi";

const POLLIN = 0x001;
const O_NONBLOCK = 0o4000;
const O_CLOEXEC = 0o2000000;

type PollFn = (fds: Int32Array, nfds: number, timeout: number) => number;
type Pipe2Fn = (fds: Int32Array, flags: number) => number;
let pollFn: PollFn | null = null;
let pipe2Fn: Pipe2Fn | null = null;

/** Binds the libc functions once (no object per call: poll runs on the packet path). */
function bind(): void {
  const libc = koffi.load("libc.so.6");
  pollFn = libc.func("int poll(void *fds, unsigned long nfds, int timeout)") as PollFn;
  pipe2Fn = libc.func("int pipe2(_Out_ int *fds, int flags)") as Pipe2Fn;
}

// Three struct pollfd { int fd; short events; short revents; }, viewed as int32 and int16
// (typed arrays: Buffer's write/read methods cost a little heap on every call).
const pollFds = new Int32Array(6);
const pollShorts = new Int16Array(pollFds.buffer);

/**
 * Waits up to timeoutMs until fdA, fdB or fdC is readable (fdC -1: none; poll skips a
 * negative fd). Returns a bit set: 1 when fdA is readable, 2 fdB, 4 fdC; 0 on timeout or
 * interruption.
 */
export function pollReadable(fdA: number, fdB: number, timeoutMs: number, fdC = -1): number {
  pollFds[0] = fdA;
  pollShorts[2] = POLLIN;
  pollShorts[3] = 0;
  pollFds[2] = fdB;
  pollShorts[6] = POLLIN;
  pollShorts[7] = 0;
  pollFds[4] = fdC;
  pollShorts[10] = POLLIN;
  pollShorts[11] = 0;
  if (pollFn === null) bind();
  if (pollFn!(pollFds, 3, timeoutMs) <= 0) return 0;
  return (pollShorts[3] !== 0 ? 1 : 0) | (pollShorts[7] !== 0 ? 2 : 0) |
    (pollShorts[11] !== 0 ? 4 : 0);
}

/** Creates a non-blocking pipe: [readFd, writeFd]. */
export function createWakePipe(): [number, number] {
  const fds = new Int32Array(2);
  if (pipe2Fn === null) bind();
  if (pipe2Fn!(fds, O_NONBLOCK | O_CLOEXEC) !== 0) throw new Error("pipe2 failed");
  return [fds[0], fds[1]];
}
