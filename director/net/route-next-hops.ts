// Where the packets to each VS/DR and VS/TUN real server go, decided on the director's
// control thread (IPVS's __ip_vs_get_out_rt, done once per server, not per packet). DR
// (IP_VS_RT_MODE_KNOWN_NH): the kernel's route to the server names the interface; the
// server must be on a network directly attached to it; the interface's neighbour cache
// (./neighbour.ts) holds its MAC. TUN: the route gives the director's source address for the
// outer header and the MTU (a path MTU the kernel learnt included). The packet worker gets
// descriptions (./link-table.ts, ./tunnel-table.ts) and reads MACs, neighbour states and
// MTUs from shared memory this module keeps current.
//   VS/NAT over the links (--nat-transmit packet, followNatRoutes()): the kernel's routes as
// they apply to packets the director writes back (./kernel-routes.ts) go to the worker
// (./nat-routes.ts) with a link for each interface they leave by; the next hops' MACs are
// the links' neighbour entries: each route's gateway, each NAT server on a link, and every
// neighbour the kernel itself knows on those links (the clients on a directly attached
// network: the kernel learnt them from their ARP requests), adopted at each refresh.
import fs from "node:fs";
import { formatIPv4 } from "./ipv4-address.ts";
import { type IpRunner, ipRunner, NeighbourCache, NeighbourStatus } from "./neighbour.ts";
import { type LinkDescription, type NextHopDescription, NOT_ON_LINK } from "./link-table.ts";
import type { TunnelHopDescription } from "./tunnel-table.ts";
import { parseIPv4 } from "./ipv4-address.ts";
import {
  foreignRules,
  type ParsedRoute,
  parseKernelRoutes,
  parseLocalRoutes,
  routeFor,
} from "./kernel-routes.ts";
import { type NatRouteDescription, RouteKind } from "./nat-routes.ts";

/** How long a change to the table waits for new servers' MACs before it answers (ms). */
export const RESOLVE_WAIT_MS = 1500;
const RESOLVE_POLL_MS = 50;
/**
 * How often the next hops are looked at (ms). Each look that reads the kernel's tables runs
 * `ip` (a process each time, on the director's own CPU), so a link whose servers are all
 * resolved is read only every STEADY_EVERY looks, and its routes and addresses every
 * LINKS_EVERY; one with a server still resolving or failed, at every look.
 */
const REFRESH_INTERVAL_MS = 1000;
const STEADY_EVERY = 5;
const LINKS_EVERY = 30;

/** One Route server's next hop as lvs-stats shows it. */
export interface NextHopStatus {
  server: string;
  /** The interface facing it; null when no attached network reaches it. */
  ifname: string | null;
  mac: string | null;
  /** A NeighbourStatus name: RESOLVED, PENDING, FAILED, NOT_ON_LINK (or not-on-link). */
  status: string;
}

interface Link {
  description: LinkDescription;
  cache: NeighbourCache;
  mtu: Int32Array;
}

/** Sends the packet worker what it needs ("links" and "tunnels" control requests). */
export interface SendNextHops {
  links(links: LinkDescription[], hops: NextHopDescription[]): Promise<unknown>;
  tunnels(hops: TunnelHopDescription[]): Promise<unknown>;
  natRoutes(routes: NatRouteDescription[]): Promise<unknown>;
}

/** What followNatRoutes() needs to know of the director's host. */
export interface NatFollow {
  /** The director's TUN device: routes through it stay with the kernel. */
  tunName: string;
  /** The director's own routing tables (its rules are not foreign). */
  tables: string[];
}

/** A TUN server's route as last sent, and its MTU word in shared memory. */
interface TunnelRoute {
  hop: TunnelHopDescription;
  mtu: Int32Array;
}

/** The parts of `ip -j route get` this module reads. */
interface KernelRoute {
  dev?: string;
  gateway?: string;
  prefsrc?: string;
  metrics?: Array<Record<string, number>>;
}

export interface RouteNextHopsOptions {
  run?: IpRunner;
  /** The interface's MTU (default: sysfs). */
  readMtu?: (ifname: string) => number;
  /** Told when something cannot be refreshed (default: console.warn once per message). */
  warn?: (message: string) => void;
}

export class RouteNextHops {
  private readonly links = new Map<string, Link>();
  /** Server address → where its frames go, as last sent to the worker. */
  private readonly placed = new Map<number, NextHopDescription>();
  /** TUN server address → its route. */
  private readonly tunnelRoutes = new Map<number, TunnelRoute>();
  private queue: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private readonly run: IpRunner;
  private readonly readMtu: (ifname: string) => number;
  private readonly warn: (message: string) => void;
  private lastWarning = "";
  private looks = 0;
  /** VS/NAT over the links: set by followNatRoutes(). */
  private natFollow: NatFollow | null = null;
  /** Links NAT frames leave by (their kernel neighbours are adopted). */
  private readonly natLinks = new Set<Link>();
  /** NAT next-hop address → where its frames go, as sent to the worker. */
  private readonly natPlaced = new Map<number, NextHopDescription>();
  private natServers: readonly number[] = [];
  /** The kernel's routes as last read. */
  private natParsed: ParsedRoute[] = [];
  /** The routes last sent, as JSON (sent again only when they change). */
  private lastNatRoutes = "";

  constructor(private readonly send: SendNextHops, options: RouteNextHopsOptions = {}) {
    this.run = options.run ?? ipRunner();
    this.readMtu = options.readMtu ?? sysfsMtu;
    this.warn = options.warn ?? ((m) => console.warn(m));
  }

  /**
   * Follows the table's Route servers: places the new ones (route, interface, neighbour
   * entry), tells the worker, and waits up to RESOLVE_WAIT_MS for their MACs, so the first
   * connection after `ipvsadm -a ... -g` is not lost to ARP. Calls run one after another.
   */
  sync(
    servers: readonly number[],
    tunnelServers: readonly number[] = [],
    natServers: readonly number[] = [],
  ): Promise<void> {
    const run = this.queue.then(async () => {
      await this.placeTunnels(tunnelServers);
      await this.place(servers);
      this.natServers = natServers;
      if (this.natFollow !== null) await this.placeNatServers();
    });
    this.queue = run.catch(() => {});
    return run;
  }

  /**
   * Starts VS/NAT over the links: reads the kernel's routes, opens a link for each interface
   * they leave by, and keeps all of it current at each refresh. Nothing waits for MACs: until
   * a next hop is resolved its packets go through the TUN device.
   */
  followNatRoutes(follow: NatFollow): Promise<void> {
    this.natFollow = follow;
    const run = this.queue.then(async () => {
      await this.tryNatRoutes();
      this.start();
    });
    this.queue = run.catch(() => {});
    return run;
  }

  /** Where frames to each placed server go (lvs-stats, tests). */
  nextHops(): NextHopStatus[] {
    return [...this.placed.values()].map((hop) => {
      const link = [...this.links.values()].find((l) => l.description.index === hop.link);
      if (!link) {
        return { server: formatIPv4(hop.addr), ifname: null, mac: null, status: "not-on-link" };
      }
      const entry = link.cache.entry(hop.neighbour);
      const status = Object.entries(NeighbourStatus).find(([, v]) => v === entry.status)![0];
      return { server: entry.addr, ifname: link.description.ifname, mac: entry.mac, status };
    });
  }

  private async place(servers: readonly number[]): Promise<void> {
    const fresh = servers.filter((addr) => !this.placed.has(addr));
    if (fresh.length === 0) return;
    const newLinks: LinkDescription[] = [];
    const hops: NextHopDescription[] = [];
    for (const addr of fresh) {
      const ifname = await this.interfaceTowards(addr);
      let hop: NextHopDescription = { addr, link: NOT_ON_LINK, neighbour: 0 };
      if (ifname !== null) {
        const known = this.links.has(ifname);
        const link = await this.link(ifname);
        if (!known) newLinks.push(link.description);
        const neighbour = link.cache.lookup(addr);
        if (typeof neighbour === "number") hop = { addr, link: link.description.index, neighbour };
      }
      if (hop.link === NOT_ON_LINK) {
        this.warn(
          `lvslab-director: Route (-g) server ${formatIPv4(addr)} is on no network directly ` +
            "attached to the director; VS/DR needs one: its packets are dropped and counted " +
            "(neighbour-not-on-link)",
        );
      }
      hops.push(hop);
      this.placed.set(addr, hop);
    }
    await this.send.links(newLinks, hops);
    await this.awaitResolution();
    this.start();
  }

  /** Places new TUN servers: the outer source and the MTU from the kernel's route. */
  private async placeTunnels(servers: readonly number[]): Promise<void> {
    const fresh = servers.filter((addr) => !this.tunnelRoutes.has(addr));
    if (fresh.length === 0) return;
    const hops: TunnelHopDescription[] = [];
    for (const addr of fresh) {
      const mtu = new Int32Array(new SharedArrayBuffer(4));
      const hop: TunnelHopDescription = { addr, source: 0, mtu: mtu.buffer as SharedArrayBuffer };
      const route: TunnelRoute = { hop, mtu };
      await this.readTunnelRoute(route);
      if (hop.source === 0) {
        this.warn(
          `lvslab-director: Tunnel (-i) server ${formatIPv4(addr)} has no route from the ` +
            "director: its packets are dropped and counted (tunnel-no-route)",
        );
      }
      this.tunnelRoutes.set(addr, route);
      hops.push(hop);
    }
    await this.send.tunnels(hops);
    this.start();
  }

  /** Reads the route to a TUN server into its description; true when the source changed. */
  private async readTunnelRoute(route: TunnelRoute): Promise<boolean> {
    const r = await this.routeTo(route.hop.addr);
    const source = r?.prefsrc !== undefined ? parseIPv4(r.prefsrc) ?? 0 : 0;
    const metric = r?.metrics?.find((m) => typeof m.mtu === "number")?.mtu;
    Atomics.store(route.mtu, 0, metric ?? (r?.dev ? this.readMtu(r.dev) : 0));
    const changed = source !== route.hop.source;
    route.hop.source = source;
    return changed;
  }

  /** The kernel's route to addr, or null when there is none (unreachable). */
  private async routeTo(addr: number): Promise<KernelRoute | null> {
    try {
      const routes = JSON.parse(await this.run(["-j", "-4", "route", "get", formatIPv4(addr)]));
      return (routes as KernelRoute[])[0] ?? null;
    } catch {
      return null;
    }
  }

  /** The interface the kernel's route to addr leaves by, or null if via a gateway or none. */
  private async interfaceTowards(addr: number): Promise<string | null> {
    const route = await this.routeTo(addr);
    if (!route || route.gateway !== undefined || typeof route.dev !== "string") return null;
    return route.dev === "lo" ? null : route.dev;
  }

  private async link(ifname: string): Promise<Link> {
    const known = this.links.get(ifname);
    if (known) return known;
    const cache = await NeighbourCache.create(ifname, { run: this.run });
    const mtu = new Int32Array(new SharedArrayBuffer(4));
    mtu[0] = this.readMtu(ifname);
    const link: Link = {
      cache,
      mtu,
      description: {
        index: this.links.size,
        ifname,
        macs: cache.macs.buffer as SharedArrayBuffer,
        status: cache.status.buffer as SharedArrayBuffer,
        mtu: mtu.buffer as SharedArrayBuffer,
      },
    };
    this.links.set(ifname, link);
    return link;
  }

  /** Refreshes until no placed server is PENDING, or RESOLVE_WAIT_MS. */
  private async awaitResolution(): Promise<void> {
    const until = Date.now() + RESOLVE_WAIT_MS;
    for (;;) {
      await this.refresh();
      if (!this.anyPending() || Date.now() >= until) return;
      await new Promise((r) => setTimeout(r, RESOLVE_POLL_MS));
    }
  }

  private anyPending(): boolean {
    return [...this.links.values()].some((l) =>
      l.cache.entries().some((e) => e.status === NeighbourStatus.PENDING)
    );
  }

  /** Every link now (a table change), or as the pacing above says (the timer). */
  private async refresh(paced = false): Promise<void> {
    const look = this.looks++;
    if (!paced || look % STEADY_EVERY === 0) {
      const moved: TunnelHopDescription[] = [];
      for (const route of this.tunnelRoutes.values()) {
        if (await this.readTunnelRoute(route)) moved.push(route.hop);
      }
      if (moved.length > 0) await this.send.tunnels(moved);
    }
    if (this.natFollow !== null && (!paced || look % STEADY_EVERY === 0)) {
      await this.tryNatRoutes();
    }
    for (const link of this.links.values()) {
      Atomics.store(link.mtu, 0, this.readMtu(link.description.ifname));
      const settled = link.cache.entries().every((e) => e.status === NeighbourStatus.RESOLVED);
      if (paced && settled && look % STEADY_EVERY !== 0) continue;
      await link.cache.refresh({
        links: !paced || !settled || look % LINKS_EVERY === 0,
        adopt: this.natLinks.has(link),
      });
    }
    await this.placeAdopted();
  }

  /**
   * readNatRoutes(), a failure warned about (once per message): NAT packets keep the routes
   * the worker has (none at first: the TUN device) until a later refresh reads them.
   */
  private async tryNatRoutes(): Promise<void> {
    try {
      await this.readNatRoutes();
    } catch (err) {
      this.warnOnce(
        `lvslab-director: NAT over the links: ${(err as Error).message}; ` +
          "trying again at the next refresh",
      );
    }
  }

  /**
   * Reads the kernel's routes and rules (VS/NAT over the links), places the next hops they
   * name, and sends the worker what changed: new links and hops first, then the routes.
   */
  private async readNatRoutes(): Promise<void> {
    const follow = this.natFollow!;
    const [main, local, rules] = await Promise.all([
      this.run(["-j", "-4", "route", "show", "table", "main"]),
      this.run(["-j", "-4", "route", "show", "table", "local"]),
      this.run(["-j", "-4", "rule", "show"]),
    ]);
    const foreign = foreignRules(rules, follow.tables);
    const parsed: ParsedRoute[] = foreign.length > 0
      ? []
      : [...parseLocalRoutes(local), ...parseKernelRoutes(main, follow.tunName)];
    if (foreign.length > 0) {
      this.warnOnce(
        `lvslab-director: policy rules (${foreign.join("; ")}) may route NAT packets ` +
          "other than the main table says: they are written back into the TUN device " +
          "(--nat-transmit packet follows the main table only)",
      );
    }
    this.natParsed = parsed;
    const newLinks: LinkDescription[] = [];
    const hops: NextHopDescription[] = [];
    const routes: NatRouteDescription[] = [];
    for (const r of parsed) {
      if (r.kind === RouteKind.KERNEL) {
        routes.push({ net: r.net, bits: r.bits, kind: r.kind, link: -1, gateway: 0 });
        continue;
      }
      const link = await this.natLink(r.dev!, newLinks);
      if (r.kind === RouteKind.GATEWAY) this.placeNatHop(link, r.gateway!, hops);
      const index = link.description.index;
      routes.push({ net: r.net, bits: r.bits, kind: r.kind, link: index, gateway: r.gateway ?? 0 });
    }
    this.placeNatServerHops(hops);
    if (newLinks.length > 0 || hops.length > 0) await this.send.links(newLinks, hops);
    const text = JSON.stringify(routes);
    if (text !== this.lastNatRoutes) {
      this.lastNatRoutes = text;
      await this.send.natRoutes(routes);
    }
  }

  /** NAT servers on a directly attached network are next hops themselves. */
  private placeNatServerHops(hops: NextHopDescription[]): void {
    for (const addr of this.natServers) {
      const r = routeFor(addr, this.natParsed);
      if (r?.kind === RouteKind.ON_LINK) this.placeNatHop(this.links.get(r.dev!)!, addr, hops);
    }
  }

  /** Places the table's NAT servers on the routes last read (a table change). */
  private async placeNatServers(): Promise<void> {
    const hops: NextHopDescription[] = [];
    this.placeNatServerHops(hops);
    if (hops.length > 0) await this.send.links([], hops);
  }

  /** The link NAT frames to `ifname` leave by (made, and listed in newLinks, on first use). */
  private async natLink(ifname: string, newLinks: LinkDescription[]): Promise<Link> {
    const known = this.links.has(ifname);
    const link = await this.link(ifname);
    if (!known) newLinks.push(link.description);
    this.natLinks.add(link);
    return link;
  }

  /** Gives a NAT next hop its neighbour entry on the link (once); refused ones stay out. */
  private placeNatHop(link: Link, addr: number, hops: NextHopDescription[]): void {
    if (this.natPlaced.has(addr)) return;
    const neighbour = link.cache.lookup(addr);
    if (typeof neighbour !== "number") return;
    const hop = { addr, link: link.description.index, neighbour };
    this.natPlaced.set(addr, hop);
    hops.push(hop);
  }

  /** Sends the worker the neighbours the NAT links adopted from the kernel since last time. */
  private async placeAdopted(): Promise<void> {
    const hops: NextHopDescription[] = [];
    for (const link of this.natLinks) {
      for (const entry of link.cache.entries()) {
        this.placeNatHop(link, parseIPv4(entry.addr)!, hops);
      }
    }
    if (hops.length > 0) await this.send.links([], hops);
  }

  private start(): void {
    if (this.timer !== null) return;
    this.timer = setInterval(() => void this.look(), REFRESH_INTERVAL_MS);
    this.timer.unref();
  }

  /** One look of the timer (after the others queued); failures are warned about once. */
  look(): Promise<void> {
    this.queue = this.queue.then(() => this.refresh(true)).catch((err: Error) => {
      this.warnOnce(`lvslab-director: ${err.message}`);
    });
    return this.queue;
  }

  /** Warns, unless the last warning said the same. */
  private warnOnce(message: string): void {
    if (message !== this.lastWarning) this.warn(message);
    this.lastWarning = message;
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }
}

function sysfsMtu(ifname: string): number {
  return Number(fs.readFileSync(`/sys/class/net/${ifname}/mtu`, "utf8").trim());
}
