// The kernel's IPv4 routes as VS/NAT over the links needs them (control path): `ip -j -4
// route show table local|main` reduced to prefix, kind, interface and gateway
// (./nat-routes.ts), and the policy rules that would make the main table the wrong one.
// A packet the director writes back into its TUN device meets the local table, then main
// (director/host/host-setup.ts's rules send only VIPs, replies from the private interface
// and the host's own ICMP to the director's table): any other rule that picks a table could
// route it differently, so then NAT leaves every packet to the kernel.
import { parseIPv4, prefixMask } from "./ipv4-address.ts";
import { RouteKind, type RouteKindCode } from "./nat-routes.ts";

/** One route of `ip -j route show`, the fields read here. */
interface KernelRouteEntry {
  type?: string;
  dst?: string;
  gateway?: string;
  dev?: string;
  metric?: number;
  nexthops?: unknown[];
}

/** A route reduced to what a frame needs; dev and gateway only where the kind has them. */
export interface ParsedRoute {
  net: number;
  bits: number;
  kind: RouteKindCode;
  dev?: string;
  gateway?: number;
}

/** "default", "a.b.c.d" or "a.b.c.d/n" → network and prefix length, or null. */
function parseDestination(dst: string): { net: number; bits: number } | null {
  if (dst === "default") return { net: 0, bits: 0 };
  const [addrText, bitsText] = dst.split("/");
  const addr = parseIPv4(addrText!);
  const bits = bitsText === undefined ? 32 : Number(bitsText);
  if (addr === null || !Number.isInteger(bits) || bits < 0 || bits > 32) return null;
  return { net: (addr & prefixMask(bits)) >>> 0, bits };
}

/**
 * The routes of one table, in the kernel's order of preference for equal prefixes (lowest
 * metric first). Unicast routes through an interface other than the TUN device and lo are
 * ON_LINK or GATEWAY; every other route (local, broadcast, blackhole, unreachable, multipath,
 * through the TUN device) is KERNEL: its packets stay with the kernel.
 */
export function parseKernelRoutes(json: string, tunName: string): ParsedRoute[] {
  const entries = (JSON.parse(json || "[]") as KernelRouteEntry[])
    .map((e, i) => ({ e, i }))
    .sort((a, b) => (a.e.metric ?? 0) - (b.e.metric ?? 0) || a.i - b.i);
  const out: ParsedRoute[] = [];
  for (const { e } of entries) {
    const dst = typeof e.dst === "string" ? parseDestination(e.dst) : null;
    if (dst === null) continue;
    const unicast = e.type === undefined || e.type === "unicast";
    const dev = e.dev;
    if (
      !unicast || e.nexthops !== undefined || typeof dev !== "string" || dev === "lo" ||
      dev === tunName
    ) {
      out.push({ ...dst, kind: RouteKind.KERNEL });
      continue;
    }
    if (e.gateway !== undefined) {
      const gateway = parseIPv4(e.gateway);
      out.push(
        gateway === null
          ? { ...dst, kind: RouteKind.KERNEL }
          : { ...dst, kind: RouteKind.GATEWAY, dev, gateway },
      );
    } else out.push({ ...dst, kind: RouteKind.ON_LINK, dev });
  }
  return out;
}

/** The local table's routes (all KERNEL: the host's own and broadcast addresses). */
export function parseLocalRoutes(json: string): ParsedRoute[] {
  return parseKernelRoutes(json, "").map((r) => ({
    net: r.net,
    bits: r.bits,
    kind: RouteKind.KERNEL,
  }));
}

/**
 * The rules (`ip -j rule show`) that look up a table other than local, main, default and
 * the given ones (the director's own), as text for a warning; empty when none.
 */
export function foreignRules(json: string, ownTables: readonly string[]): string[] {
  const known = new Set(["local", "main", "default", ...ownTables]);
  const out: string[] = [];
  for (const r of JSON.parse(json || "[]") as Array<Record<string, unknown>>) {
    const table = r.table === undefined ? undefined : String(r.table);
    if (table === undefined || known.has(table)) continue;
    out.push(`priority ${String(r.priority)} lookup ${table}`);
  }
  return out;
}

/** The first route (in lookup order: longest prefix, then listed order) that covers addr. */
export function routeFor<R extends { net: number; bits: number }>(
  addr: number,
  routes: readonly R[],
): R | undefined {
  let best: R | undefined;
  for (const r of routes) {
    if (((addr & prefixMask(r.bits)) >>> 0) !== r.net) continue;
    if (best === undefined || r.bits > best.bits) best = r;
  }
  return best;
}
