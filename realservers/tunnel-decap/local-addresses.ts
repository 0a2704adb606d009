// Which inner destinations the decapsulator accepts: the IPv4 addresses this real server
// holds (so the injected packet is delivered locally, never forwarded), read from
// `ip -j -4 addr show` at start and again whenever `ip -4 monitor address` (one child started
// once, asleep in the kernel's address notifications) reports a change, because a VIP may be
// added to `lo` after the decapsulator started; a slow timer re-reads them too, in case the
// monitor died. Spawning `ip` every 2 s cost the packet loop's thread ~8% under load.
// With --vip, only those of them.
// Loopback-range addresses are left out: the kernel drops a packet to 127/8 arriving on any
// device but lo as a martian anyway.
import { type ChildProcess, execFile, execFileSync, spawn } from "node:child_process";
import { formatIPv4, parseIPv4 } from "../../director/net/ipv4-address.ts";

interface IpAddrEntry {
  addr_info?: { family?: string; local?: string }[];
}

const LOOPBACK_NET = 127;

/** The IPv4 addresses in `ip -j addr` output (unsigned numbers, sorted, no 127/8). */
export function parseIpAddrJson(text: string): number[] {
  const found = new Set<number>();
  for (const link of JSON.parse(text) as IpAddrEntry[]) {
    for (const info of link.addr_info ?? []) {
      if (info.family !== "inet" || info.local === undefined) continue;
      const addr = parseIPv4(info.local);
      if (addr !== null && addr >>> 24 !== LOOPBACK_NET) found.add(addr);
    }
  }
  return [...found].sort((a, b) => a - b);
}

/**
 * The accepted inner destinations as signed 32-bit numbers (the receive loop's form): the
 * local addresses, narrowed to `vips` when any are given.
 */
export function innerDestinations(local: readonly number[], vips: readonly number[]): Set<number> {
  const wanted = vips.length > 0 ? new Set(vips) : null;
  return new Set(local.filter((a) => wanted === null || wanted.has(a)).map((a) => a | 0));
}

/** VIPs given on the command line that this host does not hold (yet): a warning each. */
export function missingVips(local: readonly number[], vips: readonly number[]): string[] {
  const held = new Set(local);
  return vips.filter((v) => !held.has(v)).map((v) =>
    `VIP ${formatIPv4(v)} is not an address of this host yet: its packets are dropped ` +
    `(inner-dst-not-local) until you add it, e.g. ip addr add ${formatIPv4(v)}/32 dev lo`
  );
}

const IP_ARGS = ["-j", "-4", "addr", "show"];

/** Reads the addresses now (start-up). */
export function readLocalAddressesSync(): number[] {
  return parseIpAddrJson(execFileSync("ip", IP_ARGS, { encoding: "utf8" }));
}

/** Reads the addresses without blocking the receive loop (refresh). */
export function readLocalAddresses(): Promise<number[]> {
  return new Promise((resolve, reject) => {
    execFile("ip", IP_ARGS, { encoding: "utf8", timeout: 5000 }, (err, stdout) => {
      if (err) reject(err);
      else {
        try {
          resolve(parseIpAddrJson(stdout));
        } catch (e) {
          reject(e);
        }
      }
    });
  });
}

/** Changes reported close together are read once, this long after the first. */
const CHANGE_DEBOUNCE_MS = 100;

/**
 * Calls `onAddresses` with this host's addresses after every change `ip monitor` reports and
 * every `safetyMs`; `onError` gets a sentence when a read fails or the monitor stops (the
 * timer then goes on alone). Returns the stop function.
 */
export function watchLocalAddresses(
  safetyMs: number,
  onAddresses: (local: number[]) => void,
  onError: (message: string) => void,
): () => void {
  let pending: NodeJS.Timeout | null = null;
  const read = () => {
    pending = null;
    readLocalAddresses().then(
      onAddresses,
      (err) => onError(`cannot read this host's addresses: ${err}`),
    );
  };
  const changed = () => (pending ??= setTimeout(read, CHANGE_DEBOUNCE_MS));
  let stopped = false;
  const monitor: ChildProcess = spawn("ip", ["-4", "monitor", "address"], {
    stdio: ["ignore", "pipe", "ignore"],
  });
  monitor.stdout!.on("data", changed);
  monitor.on("error", (err) => onError(`cannot watch this host's addresses (${err.message})`));
  monitor.on("exit", (code) => {
    if (!stopped) {
      onError(`ip monitor stopped (code ${code}); addresses re-read every ${safetyMs / 1000} s`);
    }
  });
  const timer = setInterval(read, safetyMs);
  return () => {
    stopped = true;
    clearInterval(timer);
    if (pending) clearTimeout(pending);
    monitor.kill();
  };
}
