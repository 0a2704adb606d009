// /proc/net/raw, read on the control path: the receive socket's kernel drop count (its
// receive buffer overflowed while the loop was busy) for the stats, and whether another raw
// socket for the same protocol is open in this namespace: every one gets a copy of each
// packet (research/wave2-forwarding.md §4.3), so two decapsulators would inject twice.
import fs from "node:fs";

export interface RawSocketEntry {
  protocol: number;
  inode: number;
  drops: number;
}

/** Rows of /proc/net/raw: `sl local_address(addr:proto) ... inode ref pointer drops`. */
export function parseProcNetRaw(text: string): RawSocketEntry[] {
  const rows: RawSocketEntry[] = [];
  for (const line of text.split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 13) continue;
    const protocol = parseInt(f[1]!.split(":")[1] ?? "", 16);
    rows.push({ protocol, inode: Number(f[9]), drops: Number(f[12]) });
  }
  return rows;
}

export function readRawSockets(): RawSocketEntry[] {
  try {
    return parseProcNetRaw(fs.readFileSync("/proc/net/raw", "utf8"));
  } catch {
    return [];
  }
}

/** The inode of an open socket fd ("socket:[N]" behind /proc/self/fd/<fd>), or -1. */
export function socketInode(fd: number): number {
  try {
    const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/self/fd/${fd}`));
    return m ? Number(m[1]) : -1;
  } catch {
    return -1;
  }
}
