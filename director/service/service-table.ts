// director/service/: virtual services, their real servers, counters and rate estimators; start
// here.
//
// The virtual service table (IPVS's ip_vs_svc_table): (protocol, VIP, port) → service with
// its real servers and scheduler. Lookups on the packet path use numeric keys only; changes
// come from the control path and are validated before anything is touched.
import { formatIPv4 } from "../net/ipv4-address.ts";
import { RateEstimator } from "./rate-estimator.ts";
import { DEFAULT_TUNNEL } from "./tunnel-options.ts";
import { createScheduler } from "../schedulers/index.ts";
import { IPPROTO_TCP, IPPROTO_UDP } from "../packet/ipv4.ts";
import { FTP_CONTROL_PORT, FTP_DATA_PORT } from "../apps/ftp.ts";
import {
  type Destination,
  newDestination,
  newStats,
  NO_NEXT_HOP,
  type Protocol,
  type Scheduler,
  type VirtualService,
} from "./types.ts";

export function protocolNumber(protocol: Protocol): number {
  return protocol === "tcp" ? IPPROTO_TCP : IPPROTO_UDP;
}

/** A service entry as the engine needs it on the packet path. */
export interface ServiceEntry {
  service: VirtualService;
  /** Replaced when the service is edited to another scheduler. */
  scheduler: Scheduler;
  protocolNumber: number;
}

export interface ServiceSpec {
  protocol: Protocol;
  addr: number;
  port: number;
  schedulerName: string;
  schedulerFlags?: string[];
  persistTimeout?: number;
  persistNetmask?: number;
}

export interface DestinationSpec {
  addr: number;
  port: number;
  weight: number;
  method: Destination["method"];
  /** Tunnel servers only; absent = IPIP (DEFAULT_TUNNEL), as ipvsadm sends without options. */
  tunnel?: Destination["tunnel"];
  upperThreshold?: number;
  lowerThreshold?: number;
}

/** A refused table change, with the errno-like code ipvsadm reports it by. */
export class TableError extends Error {
  constructor(readonly code: "EEXIST" | "ESRCH" | "ENOENT", message: string) {
    super(message);
    this.name = "TableError";
  }
}

export function serviceName(protocol: Protocol, addr: number, port: number): string {
  return `${protocol.toUpperCase()} ${formatIPv4(addr)}:${port}`;
}

// Small-integer key of (protocol, port) inside one VIP's map.
function portKey(protoNum: number, port: number): number {
  return port * 256 + protoNum;
}

export class ServiceTable {
  /** VIP (as a signed 32-bit integer, a V8 small integer) → (proto, port) → entry. */
  private readonly byVip = new Map<number, Map<number, ServiceEntry>>();
  private readonly ordered: ServiceEntry[] = [];

  /** All services in the order they were added (ipvsadm lists them in hash order; we keep it stable). */
  get entries(): readonly ServiceEntry[] {
    return this.ordered;
  }

  /** Every virtual address in use (unsigned), for the host's routes. */
  virtualAddresses(): number[] {
    return [...this.byVip.keys()].map((addr) => addr >>> 0);
  }

  /** True when addr is any service's virtual address (packet path). */
  isVirtualAddress(addr: number): boolean {
    return this.byVip.has(addr | 0);
  }

  /** Finds the service for a packet to (addr, port) (packet path). */
  lookup(protoNum: number, addr: number, port: number): ServiceEntry | undefined {
    const ports = this.byVip.get(addr | 0);
    return ports === undefined ? undefined : ports.get(portKey(protoNum, port));
  }

  /**
   * The service a packet without a connection belongs to (ip_vs_service_find): its own; else
   * a persistent port-zero service of the address (nullsvc), which catches every port; else,
   * for TCP to port 20 or an unprivileged port, a persistent FTP service (ftpsvc), so its
   * clients' data connections reach the server their template chose.
   */
  lookupForNewConnection(protoNum: number, addr: number, port: number): ServiceEntry | undefined {
    const entry = this.lookup(protoNum, addr, port) ?? this.lookup(protoNum, addr, 0);
    if (
      entry !== undefined || protoNum !== IPPROTO_TCP || (port !== FTP_DATA_PORT && port < 1024)
    ) {
      return entry;
    }
    const ftp = this.lookup(protoNum, addr, FTP_CONTROL_PORT);
    return ftp !== undefined && ftp.service.persistTimeout > 0 ? ftp : undefined;
  }

  find(protocol: Protocol, addr: number, port: number): ServiceEntry | undefined {
    return this.lookup(protocolNumber(protocol), addr, port);
  }

  addService(spec: ServiceSpec): ServiceEntry {
    if (this.find(spec.protocol, spec.addr, spec.port)) {
      throw new TableError(
        "EEXIST",
        `service ${serviceName(spec.protocol, spec.addr, spec.port)} already exists`,
      );
    }
    const scheduler = createScheduler(spec.schedulerName, spec.schedulerFlags ?? []);
    const service: VirtualService = {
      protocol: spec.protocol,
      addr: spec.addr >>> 0,
      port: spec.port,
      schedulerName: spec.schedulerName,
      schedulerFlags: spec.schedulerFlags ?? [],
      persistTimeout: spec.persistTimeout ?? 0,
      persistNetmask: spec.persistNetmask ?? 0xffffffff,
      destinations: [],
      stats: newStats(),
      estimator: new RateEstimator(),
    };
    const entry: ServiceEntry = {
      service,
      scheduler,
      protocolNumber: protocolNumber(spec.protocol),
    };
    scheduler.update?.(service);
    let ports = this.byVip.get(service.addr | 0);
    if (!ports) this.byVip.set(service.addr | 0, ports = new Map());
    ports.set(portKey(entry.protocolNumber, service.port), entry);
    this.ordered.push(entry);
    return entry;
  }

  private mustFind(protocol: Protocol, addr: number, port: number): ServiceEntry {
    const entry = this.find(protocol, addr, port);
    if (!entry) throw new TableError("ESRCH", `no service ${serviceName(protocol, addr, port)}`);
    return entry;
  }

  deleteService(protocol: Protocol, addr: number, port: number): ServiceEntry {
    const entry = this.mustFind(protocol, addr, port);
    const ports = this.byVip.get(addr | 0)!;
    ports.delete(portKey(entry.protocolNumber, port));
    if (ports.size === 0) this.byVip.delete(addr | 0);
    this.ordered.splice(this.ordered.indexOf(entry), 1);
    for (const dest of entry.service.destinations) dest.available = false;
    return entry;
  }

  addDestination(
    protocol: Protocol,
    addr: number,
    port: number,
    spec: DestinationSpec,
  ): Destination {
    const entry = this.mustFind(protocol, addr, port);
    const svc = entry.service;
    if (svc.destinations.some((d) => d.addr === spec.addr >>> 0 && d.port === spec.port)) {
      throw new TableError(
        "EEXIST",
        `real server ${formatIPv4(spec.addr)}:${spec.port} already exists in ${
          serviceName(protocol, addr, port)
        }`,
      );
    }
    const dest = newDestination({
      addr: spec.addr >>> 0,
      port: spec.port,
      weight: spec.weight,
      method: spec.method,
      tunnel: { ...(spec.tunnel ?? DEFAULT_TUNNEL) },
      upperThreshold: spec.upperThreshold ?? 0,
      lowerThreshold: spec.lowerThreshold ?? 0,
    });
    // IPVS adds a real server at the head of its service's list (list_add): schedulers and
    // listings see the newest first, and so does rr's order.
    svc.destinations.unshift(dest);
    entry.scheduler.update?.(svc);
    return dest;
  }

  /** Changes a service's scheduler and persistence (ipvsadm -E); the scheduler starts fresh. */
  editService(spec: ServiceSpec): ServiceEntry {
    const entry = this.mustFind(spec.protocol, spec.addr, spec.port);
    const scheduler = createScheduler(spec.schedulerName, spec.schedulerFlags ?? []);
    const svc = entry.service;
    svc.schedulerName = spec.schedulerName;
    svc.schedulerFlags = spec.schedulerFlags ?? [];
    svc.persistTimeout = spec.persistTimeout ?? 0;
    svc.persistNetmask = spec.persistNetmask ?? 0xffffffff;
    entry.scheduler = scheduler;
    scheduler.update?.(svc);
    return entry;
  }

  /** Changes a real server's weight, method and thresholds (ipvsadm -e). */
  editDestination(
    protocol: Protocol,
    addr: number,
    port: number,
    spec: DestinationSpec,
  ): Destination {
    const entry = this.mustFind(protocol, addr, port);
    const dest = entry.service.destinations.find((d) =>
      d.addr === spec.addr >>> 0 && d.port === spec.port
    );
    if (!dest) {
      throw new TableError(
        "ENOENT",
        `no real server ${formatIPv4(spec.addr)}:${spec.port} in ${
          serviceName(protocol, addr, port)
        }`,
      );
    }
    dest.weight = spec.weight;
    // The cached next hop is an entry of the old method's table (links, tunnels, NAT routes).
    if (dest.method !== spec.method) dest.nextHop = NO_NEXT_HOP;
    dest.method = spec.method;
    dest.tunnel = { ...(spec.tunnel ?? DEFAULT_TUNNEL) };
    dest.upperThreshold = spec.upperThreshold ?? 0;
    dest.lowerThreshold = spec.lowerThreshold ?? 0;
    // A raised threshold may lift the overload at once (__ip_vs_update_dest).
    if (dest.upperThreshold === 0 || dest.activeConns + dest.inactiveConns < dest.upperThreshold) {
      dest.overloaded = false;
    }
    entry.scheduler.update?.(entry.service);
    return dest;
  }

  /** Removes every service (ipvsadm -C). */
  clear(): void {
    for (const entry of [...this.ordered]) {
      const { protocol, addr, port } = entry.service;
      this.deleteService(protocol, addr, port);
    }
  }

  deleteDestination(protocol: Protocol, addr: number, port: number, daddr: number, dport: number) {
    const entry = this.mustFind(protocol, addr, port);
    const svc = entry.service;
    const index = svc.destinations.findIndex((d) => d.addr === daddr >>> 0 && d.port === dport);
    if (index < 0) {
      throw new TableError(
        "ENOENT",
        `no real server ${formatIPv4(daddr)}:${dport} in ${serviceName(protocol, addr, port)}`,
      );
    }
    const [dest] = svc.destinations.splice(index, 1);
    dest.available = false;
    entry.scheduler.update?.(svc);
    return dest;
  }
}
