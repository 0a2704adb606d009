// NAT rewrite correctness over every packet: what may appear on the client network, and
// where packets go on the private network.
import { formatPacket } from "../analysis/format.ts";
import { endpoint, type Packet } from "../analysis/packet.ts";
import type { TwinResult } from "../analysis/twins.ts";
import { type AssertionResult, firstFew, plural, verdict } from "./result.ts";
import { inPrefixes, serviceName, type ServiceSpec } from "./service.ts";

export const DEFAULT_PRIVATE_PREFIXES = ["172.16.0.0/24"];

function sameProtocol(p: Packet, s: ServiceSpec): boolean {
  return p.protocol === s.protocol && p.srcPort !== null;
}

/**
 * Per client endpoint ("addr:port") of the given protocol, every endpoint it sent to on the
 * client network (the VIP:ports it used). A client may reuse one source port for connections
 * to two services (different 4-tuples), so a packet to it belongs to a service by its other
 * end, not by the client endpoint alone.
 */
export function addressedServices(
  publicPackets: readonly Packet[],
  protocol: ServiceSpec["protocol"],
  clients: ReadonlySet<string>,
): Map<string, Set<string>> {
  const addressed = new Map<string, Set<string>>();
  for (const p of publicPackets) {
    if (p.protocol !== protocol || p.srcPort === null) continue;
    if (!clients.has(endpoint(p.src, p.srcPort))) continue;
    const client = endpoint(p.src, p.srcPort);
    const set = addressed.get(client) ?? new Set<string>();
    set.add(endpoint(p.dst, p.dstPort));
    addressed.set(client, set);
  }
  return addressed;
}

/** Client endpoints ("addr:port") that sent to VIP:port on the client network. */
export function serviceClients(publicPackets: readonly Packet[], s: ServiceSpec): Set<string> {
  const clients = new Set<string>();
  for (const p of publicPackets) {
    if (sameProtocol(p, s) && p.dst === s.vip && p.dstPort === s.port) {
      clients.add(endpoint(p.src, p.srcPort));
    }
  }
  return clients;
}

/**
 * PASS when no packet on the client network carries a private address, in its own header
 * or in the header an ICMP error quotes.
 */
export function assertNoPrivateAddresses(
  publicPackets: readonly Packet[],
  options: { privatePrefixes?: readonly string[]; network?: string; name?: string } = {},
): AssertionResult {
  const prefixes = options.privatePrefixes ?? DEFAULT_PRIVATE_PREFIXES;
  const network = options.network ?? "client network";
  const isPrivate = inPrefixes(prefixes);
  const leaks: string[] = [];
  for (const p of publicPackets) {
    const q = p.icmp?.quoted;
    if (isPrivate(p.src) || isPrivate(p.dst)) leaks.push(formatPacket(p));
    else if (q && (isPrivate(q.src) || isPrivate(q.dst))) {
      leaks.push(`${formatPacket(p)} quoting ${q.src} -> ${q.dst}`);
    }
  }
  const name = options.name ?? `no private address on the ${network}`;
  const data = { packets: publicPackets.length, leaks: leaks.length, prefixes };
  if (publicPackets.length === 0) {
    return verdict(name, false, `no packets were captured on the ${network} to check`, [], data);
  }
  if (leaks.length === 0) {
    return verdict(
      name,
      true,
      `none of the ${plural(publicPackets.length, "packet")} on the ${network} carries a ` +
        `private address (${prefixes.join(", ")})`,
      [],
      data,
    );
  }
  return verdict(
    name,
    false,
    `${plural(leaks.length, "packet")} on the ${network} ${
      leaks.length === 1 ? "carries" : "carry"
    } a private address ` +
      `(first: ${leaks[0]})`,
    firstFew(leaks),
    data,
  );
}

/**
 * PASS when every packet on the client network addressed to a client of VIP:port (a reply)
 * comes from VIP:port.
 */
export function assertRepliesFromVip(
  publicPackets: readonly Packet[],
  service: ServiceSpec,
  options: { network?: string; name?: string } = {},
): AssertionResult {
  const network = options.network ?? "client network";
  const vip = serviceName(service);
  const name = options.name ?? `replies come from ${vip}`;
  const clients = serviceClients(publicPackets, service);
  const addressed = addressedServices(publicPackets, service.protocol, clients);
  const own = endpoint(service.vip, service.port);
  let replies = 0;
  const wrong: string[] = [];
  for (const p of publicPackets) {
    const client = endpoint(p.dst, p.dstPort);
    if (!sameProtocol(p, service) || !clients.has(client)) continue;
    const from = endpoint(p.src, p.srcPort);
    // The reply of another connection of this client endpoint, to another service it used.
    if (from !== own && addressed.get(client)?.has(from)) continue;
    replies++;
    if (from !== own) wrong.push(formatPacket(p));
  }
  const data = { clients: clients.size, replies, wrong: wrong.length };
  if (replies === 0) {
    return verdict(
      name,
      false,
      `no replies to clients of ${vip} were captured on the ${network}, so none could be checked`,
      [],
      data,
    );
  }
  if (wrong.length === 0) {
    return verdict(
      name,
      true,
      `all ${plural(replies, "reply packet")} to the ${plural(clients.size, "client")} of ${vip} ` +
        `on the ${network} come from ${vip}`,
      [],
      data,
    );
  }
  return verdict(
    name,
    false,
    `${wrong.length} of ${plural(replies, "reply packet")} to clients of ${vip} on the ` +
      `${network} do not come from ${vip} (first: ${wrong[0]})`,
    firstFew(wrong),
    data,
  );
}

/**
 * On the private network: packets from the service's clients go to one of its real servers
 * (address and port), and packets to or from its real servers carry a client's own address
 * and port, as seen on the client network talking to the VIP (NAT preserves them).
 */
export function assertPrivateRewrite(
  privatePackets: readonly Packet[],
  publicPackets: readonly Packet[],
  service: ServiceSpec,
  options: { network?: string; name?: string } = {},
): AssertionResult {
  const network = options.network ?? "private network";
  const vip = serviceName(service);
  const name = options.name ?? `private-side rewrite for ${vip}`;
  const clients = serviceClients(publicPackets, service);
  // Any VIP client endpoint, whatever the port: a server may serve several virtual ports.
  const vipClients = new Set<string>();
  for (const p of publicPackets) {
    if (p.srcPort !== null && p.dst === service.vip) vipClients.add(endpoint(p.src, p.srcPort));
  }
  const servers = new Set(service.servers);
  const addressed = addressedServices(publicPackets, service.protocol, clients);
  let checked = 0;
  const wrong: string[] = [];
  for (const p of privatePackets) {
    if (!sameProtocol(p, service)) continue;
    const src = endpoint(p.src, p.srcPort);
    const dst = endpoint(p.dst, p.dstPort);
    if (clients.has(src)) {
      // A client endpoint that also used another VIP:port may be that connection's: only a
      // packet to one of this service's servers is known to be this service's.
      if (!servers.has(dst) && (addressed.get(src)?.size ?? 0) > 1) continue;
      checked++;
      if (!servers.has(dst)) {
        wrong.push(`${formatPacket(p)}: ${dst} is not a real server of ${vip}`);
      }
    } else if (servers.has(dst)) {
      checked++;
      if (!vipClients.has(src)) {
        wrong.push(
          `${formatPacket(p)}: source ${src} is no client address:port seen on the client network`,
        );
      }
    } else if (servers.has(src)) {
      checked++;
      if (!vipClients.has(dst)) {
        wrong.push(
          `${
            formatPacket(p)
          }: destination ${dst} is no client address:port seen on the client network`,
        );
      }
    }
  }
  const list = service.servers.join(", ");
  const data = { clients: clients.size, checked, wrong: wrong.length };
  if (checked === 0) {
    return verdict(
      name,
      false,
      `no packets of ${vip}'s connections were captured on the ${network}, so none could be checked`,
      [],
      data,
    );
  }
  if (wrong.length === 0) {
    return verdict(
      name,
      true,
      `all ${plural(checked, "packet")} of ${vip}'s connections on the ${network} run between ` +
        `the client's own address:port and a real server of the service (${list})`,
      [],
      data,
    );
  }
  return verdict(
    name,
    false,
    `${wrong.length} of ${plural(checked, "packet")} of ${vip}'s connections on the ${network} ` +
      `are rewritten wrongly (first: ${wrong[0]})`,
    firstFew(wrong),
    data,
  );
}

/**
 * PASS when every packet to or from VIP:port on the client network has its twin on the
 * private network and, unless `privateSide` is false, every packet to or from the service's
 * real servers on the private network has its twin on the client network.
 */
export function assertTwinsMatched(
  twins: TwinResult,
  service: ServiceSpec,
  options: { name?: string; privateSide?: boolean } = {},
): AssertionResult {
  const vip = serviceName(service);
  const name = options.name ?? `every packet of ${vip} has its twin`;
  const servers = new Set(service.servers);
  const ofService = (p: Packet) =>
    p.protocol === service.protocol &&
    ((p.dst === service.vip && p.dstPort === service.port) ||
      (p.src === service.vip && p.srcPort === service.port));
  const ofServers = (p: Packet) =>
    p.protocol === service.protocol && p.srcPort !== null &&
    (servers.has(endpoint(p.src, p.srcPort)) || servers.has(endpoint(p.dst, p.dstPort)));
  const matched = twins.pairs.filter((t) => ofService(t.public)).length;
  const missing = twins.unmatchedPublic.filter(ofService);
  const privateMissing = options.privateSide === false
    ? []
    : twins.unmatchedPrivate.filter(ofServers);
  const total = matched + missing.length;
  const data = { matched, unmatched: missing.length, unmatchedPrivate: privateMissing.length };
  if (total === 0) {
    return verdict(
      name,
      false,
      `no packets of ${vip} were captured on the client network`,
      [],
      data,
    );
  }
  if (missing.length === 0 && privateMissing.length === 0) {
    return verdict(
      name,
      true,
      `each of the ${plural(total, "packet")} of ${vip} on the client network has its twin on ` +
        `the private network (same IP id, client address:port, length and sequence numbers)` +
        (options.privateSide === false ? "" : ", and the other way round"),
      [],
      data,
    );
  }
  const problems: string[] = [];
  if (missing.length > 0) {
    problems.push(
      `${missing.length} of ${plural(total, "packet")} of ${vip} on the client network have no ` +
        `twin on the private network (first: ${formatPacket(missing[0])})`,
    );
  }
  if (privateMissing.length > 0) {
    problems.push(
      `${plural(privateMissing.length, "packet")} of its real servers on the private network ` +
        `have no twin on the client network (first: ${formatPacket(privateMissing[0])})`,
    );
  }
  return verdict(
    name,
    false,
    problems.join("; "),
    [
      ...firstFew(missing.map((p) => `client network: ${formatPacket(p)}`)),
      ...firstFew(privateMissing.map((p) => `private network: ${formatPacket(p)}`)),
    ],
    data,
  );
}
