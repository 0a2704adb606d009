// The next hops' MAC addresses on one interface, learnt from the kernel's neighbour table
// (net/core/neighbour.c, net/ipv4/arp.c seen from userspace), for VS/DR: a frame to a real
// server needs its MAC, and a DR real server must be on a network directly attached to
// that interface. Everything here runs off the packet path, on the control thread: refresh()
// (paced by ./route-next-hops.ts) reads the kernel's tables with `ip` (the interface's routes and addresses, one `ip -j
// neigh` read, one `ip -batch` asking the kernel to resolve what it lacks or holds STALE or
// FAILED: `neigh replace ADDR dev DEV use`, NTF_USE), and
// the packet path only reads a prepared MAC table and a status word per entry, both in
// shared memory so the packet worker can hold them.
import { execFile } from "node:child_process";
import { formatIPv4, parseIPv4, prefixMask } from "./ipv4-address.ts";
import { ETH_ALEN, formatMac, parseMac } from "./packet-socket.ts";

/** Status words of the shared table (what the packet path reads per entry). */
export const NeighbourStatus = {
  /** Slot unused. */
  FREE: 0,
  /** The MAC is valid (kernel state REACHABLE, STALE, DELAY, PROBE, PERMANENT or NOARP). */
  RESOLVED: 1,
  /** Resolution under way, no MAC yet (INCOMPLETE, or not in the kernel's table yet). */
  PENDING: 2,
  /** The kernel gave up (FAILED): nothing answered its ARP requests. */
  FAILED: 3,
  /** The address is no longer on a network directly attached to the interface. */
  NOT_ON_LINK: 4,
} as const;
export type NeighbourStatusCode = typeof NeighbourStatus[keyof typeof NeighbourStatus];

/** Why an address cannot be a next hop on this interface (lookup() refuses it). */
export type NeighbourRefusal = "not-on-link" | "local-address" | "table-full";

/** The kernel's neighbour states (NUD_*), as `ip neigh` names them. */
export type KernelNeighState =
  | "REACHABLE"
  | "STALE"
  | "DELAY"
  | "PROBE"
  | "FAILED"
  | "INCOMPLETE"
  | "PERMANENT"
  | "NOARP"
  | "NONE";

const VALID_STATES: ReadonlySet<string> = new Set([
  "REACHABLE",
  "STALE",
  "DELAY",
  "PROBE",
  "PERMANENT",
  "NOARP",
]);
/**
 * States in which the kernel is not asked to resolve: fresh, static, or already resolving
 * (asking again while INCOMPLETE could restart its probes just as it declared FAILED).
 * Asked: no entry, STALE (nothing confirms a MAC that only AF_PACKET frames use), FAILED.
 */
const SETTLED_STATES: ReadonlySet<string> = new Set([
  "REACHABLE",
  "PERMANENT",
  "NOARP",
  "INCOMPLETE",
  "DELAY",
  "PROBE",
]);

export interface KernelNeighbour {
  addr: number;
  state: KernelNeighState;
  /** The link-layer address, or null (INCOMPLETE, FAILED). */
  mac: Uint8Array | null;
}

/** Parses `ip -j -4 neigh show dev DEV`; entries that are not IPv4 are skipped. */
export function parseNeighbours(json: string): KernelNeighbour[] {
  const out: KernelNeighbour[] = [];
  for (const e of JSON.parse(json || "[]") as Array<Record<string, unknown>>) {
    const addr = typeof e.dst === "string" ? parseIPv4(e.dst) : null;
    if (addr === null) continue;
    const states = Array.isArray(e.state) ? e.state as string[] : [];
    // The NUD state is the first name that is one (flags such as "router" may follow).
    const state = (states.find((s) =>
      VALID_STATES.has(s) || s === "FAILED" ||
      s === "INCOMPLETE" || s === "NONE"
    ) ?? "NONE") as KernelNeighState;
    let mac: Uint8Array | null = null;
    if (typeof e.lladdr === "string") {
      try {
        mac = parseMac(e.lladdr);
      } catch {
        mac = null;
      }
    }
    out.push({ addr, state, mac });
  }
  return out;
}

/** A network reachable without a gateway: a prefix as numbers. */
export interface OnLinkNet {
  net: number;
  bits: number;
}

/**
 * Parses `ip -j -4 route show table main dev DEV`: the routes without a gateway and of
 * link scope (the prefix route of each address, or `ip route add NET dev DEV`).
 */
export function parseOnLinkRoutes(json: string): OnLinkNet[] {
  const out: OnLinkNet[] = [];
  for (const r of JSON.parse(json || "[]") as Array<Record<string, unknown>>) {
    if (r.gateway !== undefined || r.scope !== "link" || typeof r.dst !== "string") continue;
    const [addrText, bitsText] = r.dst === "default" ? ["0.0.0.0", "0"] : r.dst.split("/");
    const addr = parseIPv4(addrText!);
    const bits = bitsText === undefined ? 32 : Number(bitsText);
    if (addr === null || !(bits >= 0 && bits <= 32)) continue;
    out.push({ net: (addr & prefixMask(bits)) >>> 0, bits });
  }
  return out;
}

/** Parses `ip -j -4 addr show dev DEV`: the interface's own IPv4 addresses. */
export function parseAddresses(json: string): number[] {
  const out: number[] = [];
  for (const link of JSON.parse(json || "[]") as Array<{ addr_info?: Array<{ local?: string }> }>) {
    for (const a of link.addr_info ?? []) {
      const addr = a.local !== undefined ? parseIPv4(a.local) : null;
      if (addr !== null) out.push(addr);
    }
  }
  return out;
}

/** Whether addr is inside one of the networks. */
export function isOnLink(addr: number, nets: readonly OnLinkNet[]): boolean {
  return nets.some((n) => ((addr & prefixMask(n.bits)) >>> 0) === n.net);
}

/** Runs `ip` with arguments (and stdin); resolves with its stdout. */
export type IpRunner = (args: string[], input?: string) => Promise<string>;

/** `ip`, in a named network namespace when given (`ip -n NS`). */
export function ipRunner(netns?: string): IpRunner {
  return (args, input) =>
    new Promise((resolve, reject) => {
      const child = execFile(
        "ip",
        netns ? ["-n", netns, ...args] : args,
        { encoding: "utf8", timeout: 5000 },
        (err, stdout, stderr) => {
          if (err) {
            reject(new Error(`'ip ${args.join(" ")}' failed: ${stderr.trim() || err.message}`));
          } else resolve(stdout);
        },
      );
      if (input !== undefined) child.stdin!.end(input);
    });
}

export interface NeighbourCacheOptions {
  /** Entries at most (default 256). */
  capacity?: number;
  /** How `ip` is run (default: `ip` in this namespace). */
  run?: IpRunner;
}

/** What one entry holds, for status output and tests. */
export interface NeighbourEntry {
  index: number;
  addr: string;
  status: NeighbourStatusCode;
  /** The kernel's state at the last refresh ("NONE" when it had no entry). */
  kernelState: KernelNeighState;
  mac: string | null;
}

/**
 * The next hops on one interface. lookup(addr) gives an entry index (the MAC is then at
 * macs[index * 6], valid while status[index] is RESOLVED) or a refusal; refresh() keeps the
 * entries current.
 */
export class NeighbourCache {
  /** MAC of entry i at [i * 6, i * 6 + 6); shared memory, for the packet worker. */
  readonly macs: Uint8Array;
  /** NeighbourStatus of entry i; shared memory, read with Atomics.load. */
  readonly status: Int32Array;
  private readonly addrs: Float64Array;
  private readonly kernelStates: KernelNeighState[];
  private readonly byAddr = new Map<number, number>();
  private onLink: OnLinkNet[] = [];
  private local: number[] = [];
  private refreshing: Promise<void> | null = null;
  private readonly run: IpRunner;
  /** What `ip` said when the last request to resolve failed; null when it did not. */
  lastResolveError: string | null = null;

  private constructor(readonly ifname: string, readonly capacity: number, run: IpRunner) {
    this.macs = new Uint8Array(new SharedArrayBuffer(capacity * ETH_ALEN));
    this.status = new Int32Array(new SharedArrayBuffer(capacity * 4));
    this.addrs = new Float64Array(capacity);
    this.kernelStates = new Array<KernelNeighState>(capacity).fill("NONE");
    this.run = run;
  }

  /** A cache for `ifname`, with its directly attached networks read. */
  static async create(
    ifname: string,
    options: NeighbourCacheOptions = {},
  ): Promise<NeighbourCache> {
    const cache = new NeighbourCache(ifname, options.capacity ?? 256, options.run ?? ipRunner());
    await cache.readLinks();
    return cache;
  }

  /**
   * The entry for a next hop (made on first use; the kernel is asked to resolve it at the
   * next refresh), or why it cannot be one: not on a directly attached network of the
   * interface, one of the interface's own addresses, or no free entry.
   */
  lookup(addr: number): number | NeighbourRefusal {
    const known = this.byAddr.get(addr);
    if (known !== undefined) return known;
    if (this.local.includes(addr)) return "local-address";
    if (!isOnLink(addr, this.onLink)) return "not-on-link";
    const index = this.status.indexOf(NeighbourStatus.FREE);
    if (index < 0) return "table-full";
    this.addrs[index] = addr;
    this.kernelStates[index] = "NONE";
    this.byAddr.set(addr, index);
    Atomics.store(this.status, index, NeighbourStatus.PENDING);
    return index;
  }

  /** Forgets a next hop (its last DR real server went away). */
  release(addr: number): void {
    const index = this.byAddr.get(addr);
    if (index === undefined) return;
    this.byAddr.delete(addr);
    Atomics.store(this.status, index, NeighbourStatus.FREE);
  }

  entry(index: number): NeighbourEntry {
    const status = Atomics.load(this.status, index) as NeighbourStatusCode;
    return {
      index,
      addr: formatIPv4(this.addrs[index]!),
      status,
      kernelState: this.kernelStates[index]!,
      mac: status === NeighbourStatus.RESOLVED ? formatMac(this.macs, index * ETH_ALEN) : null,
    };
  }

  /** Every entry in use. */
  entries(): NeighbourEntry[] {
    return [...this.byAddr.values()].sort((a, b) => a - b).map((i) => this.entry(i));
  }

  /**
   * Reads the interface's networks and the kernel's neighbours, updates every entry, and
   * asks the kernel to resolve (again) each one it has not, or holds as STALE or FAILED. With
   * `adopt`, every neighbour the kernel holds a MAC for becomes an entry too (while there is
   * room). Calls made while one runs share it.
   */
  refresh(options: { links?: boolean; adopt?: boolean } = {}): Promise<void> {
    this.refreshing ??= this.refreshOnce(options.links ?? true, options.adopt ?? false).finally(
      () => {
        this.refreshing = null;
      },
    );
    return this.refreshing;
  }

  private async refreshOnce(links: boolean, adopt: boolean): Promise<void> {
    if (links) await this.readLinks();
    const kernel = new Map<number, KernelNeighbour>();
    const text = await this.run(["-j", "-4", "neigh", "show", "dev", this.ifname]);
    for (const n of parseNeighbours(text)) {
      kernel.set(n.addr, n);
      // VS/NAT's clients on this network: the kernel knows them (they sent it ARP requests).
      if (adopt && n.mac !== null && VALID_STATES.has(n.state)) this.lookup(n.addr);
    }
    const ask: string[] = [];
    for (const [addr, index] of this.byAddr) {
      const n = kernel.get(addr);
      this.kernelStates[index] = n?.state ?? "NONE";
      if (!isOnLink(addr, this.onLink)) {
        Atomics.store(this.status, index, NeighbourStatus.NOT_ON_LINK);
        continue;
      }
      if (n !== undefined && n.mac !== null && VALID_STATES.has(n.state)) {
        const at = index * ETH_ALEN;
        if (
          Atomics.load(this.status, index) !== NeighbourStatus.RESOLVED ||
          !sameMac(this.macs, at, n.mac)
        ) {
          // Not RESOLVED while the bytes change, so the packet path never takes half a MAC
          // for a whole one (it reads the status first).
          Atomics.store(this.status, index, NeighbourStatus.PENDING);
          this.macs.set(n.mac, at);
          Atomics.store(this.status, index, NeighbourStatus.RESOLVED);
        }
      } else if (n?.state === "FAILED") {
        Atomics.store(this.status, index, NeighbourStatus.FAILED);
      } else if (Atomics.load(this.status, index) !== NeighbourStatus.FAILED) {
        // Under way (INCOMPLETE, or no entry yet); a FAILED one stays FAILED until it resolves.
        Atomics.store(this.status, index, NeighbourStatus.PENDING);
      }
      if (n === undefined || !SETTLED_STATES.has(n.state)) {
        ask.push(`neigh replace ${formatIPv4(addr)} dev ${this.ifname} use`);
      }
    }
    if (ask.length === 0) return;
    // -force: one refused line (the interface down, say) does not stop the others; what
    // the kernel made of each shows in the next read.
    try {
      await this.run(["-force", "-batch", "-"], ask.join("\n") + "\n");
      this.lastResolveError = null;
    } catch (err) {
      this.lastResolveError = (err as Error).message;
    }
  }

  private async readLinks(): Promise<void> {
    const [routes, addrs] = await Promise.all([
      this.run(["-j", "-4", "route", "show", "table", "main", "dev", this.ifname]),
      this.run(["-j", "-4", "addr", "show", "dev", this.ifname]),
    ]);
    this.onLink = parseOnLinkRoutes(routes);
    this.local = parseAddresses(addrs);
  }
}

function sameMac(table: Uint8Array, at: number, mac: Uint8Array): boolean {
  for (let i = 0; i < ETH_ALEN; i++) if (table[at + i] !== mac[i]) return false;
  return true;
}
