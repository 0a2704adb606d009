// read(2) and write(2) on the TUN fd through koffi, for the packet loop. Against
// fs.readSync/fs.writeSync they save about half of each call's overhead here, and an empty
// queue is a -1 return (errno EAGAIN) instead of a thrown Error: that exception, built
// every time the loop catches up with the kernel, was the loop's one steady allocation.
import koffi from "koffi";

export const EAGAIN = 11;
export const EINTR = 4;

type IoFn = (fd: number, buf: Uint8Array, count: number) => number;
let readFn: IoFn | null = null;
let writeFn: IoFn | null = null;
let gettidFn: (() => number) | null = null;

function bind(): void {
  const libc = koffi.load("libc.so.6");
  readFn = libc.func("long read(int fd, void *buf, unsigned long count)") as IoFn;
  writeFn = libc.func("long write(int fd, void *buf, unsigned long count)") as IoFn;
  gettidFn = libc.func("int gettid(void)") as () => number;
}

/**
 * The calling thread's Linux thread id (gettid(2)): what perf and /proc/<pid>/task name it
 * by, so the bench can tell the packet thread's syscalls from the transmit thread's.
 */
export function threadId(): number {
  if (gettidFn === null) bind();
  return gettidFn!();
}

/** read(2) into buf[0, count); returns the byte count, or -1 with the error in lastErrno(). */
export function readFd(fd: number, buf: Uint8Array, count: number): number {
  if (readFn === null) bind();
  return readFn!(fd, buf, count);
}

/** write(2) of buf[0, count); returns the byte count, or -1 with the error in lastErrno(). */
export function writeFd(fd: number, buf: Uint8Array, count: number): number {
  if (writeFn === null) bind();
  return writeFn!(fd, buf, count);
}

/** errno of this thread's last koffi call (koffi saves it right after the call). */
export function lastErrno(): number {
  return koffi.errno();
}
