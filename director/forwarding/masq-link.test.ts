// VS/NAT over the links (--nat-transmit packet) on the engine, with fake packet sockets: the
// rewritten packet leaves in a frame to its next hop (the server itself on its network, the
// gateway towards a client), with the TTL as read (one decrement in all, the kernel's on
// the way in) and valid checksums; whatever the links cannot take goes back into the TUN
// device with its TTL given back, counted by reason; new routes are looked up again.
import { test } from "node:test";
import assert from "node:assert/strict";
import { DirectorEngine } from "../engine/engine.ts";
import { LinkTable } from "../net/link-table.ts";
import { NeighbourStatus } from "../net/neighbour.ts";
import { FRAME_IP_OFFSET } from "../net/packet-socket.ts";
import { type NatRouteDescription, RouteKind } from "../net/nat-routes.ts";
import { configureFakeLink, fakeSocket, OWN_MAC } from "../net/link-test-support.ts";
import { parseIPv4 } from "../net/ipv4-address.ts";
import { IP, put16, refIpChecksum, Rng, VNET } from "../packet/test-support.ts";
import { ACK, CLIENT, parsed, RS1, SYN, tcpPacket, VIP } from "../engine/engine-test-support.ts";
import { NO_NEXT_HOP } from "../service/types.ts";

const GATEWAY = parseIPv4("198.51.100.1")!;
const FAR_CLIENT = parseIPv4("192.0.2.77")!;
const RS_MAC = [0x02, 0, 0, 0, 0, 0x02];
const GW_MAC = [0x02, 0, 0, 0, 0, 0x01];
const CLIENT_MAC = [0x02, 0, 0, 0, 0, 0x22];

/** The lab's director: eth0 public (on-link clients, a gateway for the rest), eth1 private. */
const ROUTES: NatRouteDescription[] = [
  { net: 0, bits: 0, kind: RouteKind.GATEWAY, link: 0, gateway: GATEWAY },
  { net: parseIPv4("198.51.100.0")!, bits: 24, kind: RouteKind.ON_LINK, link: 0, gateway: 0 },
  { net: parseIPv4("172.16.0.0")!, bits: 24, kind: RouteKind.ON_LINK, link: 1, gateway: 0 },
  { net: parseIPv4("198.51.100.254")!, bits: 32, kind: RouteKind.KERNEL, link: -1, gateway: 0 },
];

function natEngine(
  options: { rsStatus?: number; privateMtu?: number; routes?: NatRouteDescription[] } = {},
) {
  const sockets = [fakeSocket(), fakeSocket()];
  let opened = 0;
  const links = new LinkTable(() => sockets[opened++]!);
  const engine = new DirectorEngine({ maxConnections: 64, nowMs: 0, links });
  engine.services.addService({ protocol: "tcp", addr: VIP, port: 80, schedulerName: "rr" });
  engine.services.addDestination("tcp", VIP, 80, {
    addr: RS1,
    port: 8080,
    weight: 1,
    method: "masq",
  });
  const publicLink = configureFakeLink(links, 0, [
    { addr: GATEWAY, mac: GW_MAC, status: NeighbourStatus.RESOLVED },
    { addr: CLIENT, mac: CLIENT_MAC, status: NeighbourStatus.RESOLVED },
  ]);
  const privateLink = configureFakeLink(
    links,
    1,
    [{ addr: RS1, mac: RS_MAC, status: options.rsStatus ?? NeighbourStatus.RESOLVED }],
    options.privateMtu ?? 1500,
  );
  engine.configureNatRoutes(options.routes ?? ROUTES);
  return { engine, sockets, publicLink, privateLink };
}

function segment(src: number, sport: number, dst: number, dport: number, flags: number, ttl = 63) {
  const buf = tcpPacket(new Rng(sport + flags), src, sport, dst, dport, flags, { payloadLen: 200 });
  buf[IP + 8] = ttl;
  put16(buf, IP + 10, refIpChecksum(buf));
  return buf;
}

/** The IP packet of a frame, parsed, with its Ethernet addresses. */
function frameOf(frame: Uint8Array) {
  const packet = new Uint8Array(VNET + frame.length - FRAME_IP_OFFSET);
  packet.set(frame.subarray(0, VNET), 0);
  packet.set(frame.subarray(FRAME_IP_OFFSET), VNET);
  return {
    dstMac: [...frame.subarray(VNET, VNET + 6)],
    srcMac: [...frame.subarray(VNET + 6, VNET + 12)],
    view: parsed(packet, packet.length),
  };
}

test("NAT over links: to the server's MAC and from the VIP to the gateway's, TTL as read, checksums valid", () => {
  const { engine, sockets } = natEngine();
  const syn = segment(FAR_CLIENT, 4000, VIP, 80, SYN);
  assert.equal(engine.process(syn, syn.length), 0, "nothing goes back into the TUN device");
  engine.links.flush();
  assert.equal(sockets[1]!.sent.length, 1, "one frame on the private link");
  const toServer = frameOf(sockets[1]!.sent[0]!);
  assert.deepEqual(toServer.dstMac, RS_MAC);
  assert.deepEqual(toServer.srcMac, [...OWN_MAC]);
  const ip = toServer.view.ip;
  assert.equal(ip.dstInt >>> 0, RS1);
  assert.equal(toServer.view.tcp.dstPort, 8080);
  assert.equal(ip.ttl, 63, "the kernel's one decrement, no more, no less");
  assert.ok(ip.checksumValid(), "IP header checksum");
  assert.equal(toServer.view.computeL4Checksum(), toServer.view.tcp.checksum, "TCP checksum");

  const reply = segment(RS1, 8080, FAR_CLIENT, 4000, SYN | ACK, 63);
  assert.equal(engine.process(reply, reply.length), 0);
  engine.links.flush();
  assert.equal(sockets[0]!.sent.length, 1, "one frame on the public link");
  const toClient = frameOf(sockets[0]!.sent[0]!);
  assert.deepEqual(toClient.dstMac, GW_MAC, "a client off the network: the gateway's MAC");
  assert.equal(toClient.view.ip.srcInt >>> 0, VIP);
  assert.equal(toClient.view.tcp.srcPort, 80);
  assert.equal(toClient.view.ip.ttl, 63);
  assert.ok(toClient.view.ip.checksumValid());
  assert.equal(toClient.view.computeL4Checksum(), toClient.view.tcp.checksum);
  assert.equal(engine.natRoutes.framesQueued, 2);
  assert.deepEqual(engine.natRoutes.fallbackCounts(), { noNextHop: 0, neighbour: 0, tooBig: 0 });
});

test("NAT over links: a client on the public network gets its own MAC, cached per connection", () => {
  const { engine, sockets } = natEngine();
  const syn = segment(CLIENT, 4001, VIP, 80, SYN);
  engine.process(syn, syn.length);
  const slot = engine.conns.findInbound(6, CLIENT, 4001, VIP, 80);
  assert.equal(engine.conns.replyHop[slot], NO_NEXT_HOP, "looked up at the first reply");
  const reply = segment(RS1, 8080, CLIENT, 4001, SYN | ACK);
  assert.equal(engine.process(reply, reply.length), 0);
  engine.links.flush();
  assert.deepEqual(frameOf(sockets[0]!.sent[0]!).dstMac, CLIENT_MAC);
  assert.equal(engine.conns.replyHop[slot], engine.links.nextHopOf(CLIENT));
});

test("NAT over links: an unresolved server, a packet too big and a kernel route go back into the TUN device", () => {
  const { engine, privateLink } = natEngine({
    rsStatus: NeighbourStatus.PENDING,
    privateMtu: 1400,
  });
  const syn = segment(FAR_CLIENT, 4002, VIP, 80, SYN);
  const n = engine.process(syn, syn.length);
  assert.equal(n, syn.length, "written back");
  assert.equal(parsed(syn, n).ip.ttl, 64, "its TTL given back: the kernel forwards it once more");
  assert.ok(parsed(syn, n).ip.checksumValid());
  assert.equal(engine.natRoutes.fallbacks[1], 1, "counted as waiting for the neighbour");

  Atomics.store(privateLink.status, 1, NeighbourStatus.RESOLVED);
  const big = tcpPacket(new Rng(9), FAR_CLIENT, 4002, VIP, 80, ACK, { payloadLen: 1400 });
  assert.equal(engine.process(big, big.length), big.length, "1440 bytes on a 1400-byte link");
  assert.equal(engine.natRoutes.fallbackCounts().tooBig, 1);

  // A reply to the director's own address: the local route leaves it to the kernel.
  const own = parseIPv4("198.51.100.254")!;
  const syn2 = segment(own, 4003, VIP, 80, SYN);
  assert.equal(engine.process(syn2, syn2.length), 0, "the SYN to the server leaves by the link");
  const reply = segment(RS1, 8080, own, 4003, SYN | ACK);
  assert.equal(engine.process(reply, reply.length), reply.length);
  assert.equal(engine.natRoutes.fallbackCounts().noNextHop, 1);
});

test("NAT over links: new routes are looked up again; with none, every packet goes to the TUN device", () => {
  const { engine, sockets } = natEngine();
  const syn = segment(FAR_CLIENT, 4004, VIP, 80, SYN);
  assert.equal(engine.process(syn, syn.length), 0);
  // The default route now goes through the TUN device (KERNEL): replies go back to it.
  engine.configureNatRoutes([
    { net: 0, bits: 0, kind: RouteKind.KERNEL, link: -1, gateway: 0 },
    ...ROUTES.slice(1),
  ]);
  const reply = segment(RS1, 8080, FAR_CLIENT, 4004, SYN | ACK);
  assert.equal(engine.process(reply, reply.length), reply.length);
  engine.configureNatRoutes([]);
  assert.equal(engine.natRoutes.active, false);
  const ack = segment(FAR_CLIENT, 4004, VIP, 80, ACK);
  assert.equal(engine.process(ack, ack.length), ack.length, "--nat-transmit tun's path");
  engine.links.flush();
  assert.equal(sockets[1]!.sent.length, 1, "only the first SYN left by a link");
});

test("NAT over links, handed off: the packet thread notes the next hop; the transmit worker's table, configured alike, sends the same frame", () => {
  const { engine, sockets } = natEngine();
  const syn = segment(FAR_CLIENT, 4010, VIP, 80, SYN);
  const direct = syn.slice();
  assert.equal(engine.process(direct, direct.length), 0);
  engine.links.flush();
  const expected = sockets[1]!.sent[0]!;

  // The next packet of the same flow, read into the ring slot `buf` under backlog.
  const buf = segment(FAR_CLIENT, 4010, VIP, 80, ACK);
  engine.links.handOff = buf;
  assert.equal(engine.process(buf, buf.length), 0);
  engine.links.handOff = null;
  engine.links.flush();
  assert.equal(sockets[1]!.sent.length, 1, "the packet thread's socket sent nothing more");
  const hop = engine.links.handedHop;
  assert.equal(hop, engine.links.nextHopOf(RS1), "the server's next hop, noted for the ring");
  assert.equal(engine.links.handedLength, buf.length);

  // The transmit worker's table: the same link descriptions in the same order, its own socket.
  const own = [fakeSocket(), fakeSocket()];
  let opened = 0;
  const transmitLinks = new LinkTable(() => own[opened++]!);
  configureFakeLink(transmitLinks, 0, [
    { addr: GATEWAY, mac: GW_MAC, status: NeighbourStatus.RESOLVED },
    { addr: CLIENT, mac: CLIENT_MAC, status: NeighbourStatus.RESOLVED },
  ]);
  configureFakeLink(transmitLinks, 1, [
    { addr: RS1, mac: RS_MAC, status: NeighbourStatus.RESOLVED },
  ]);
  transmitLinks.queue(hop, buf, engine.links.handedLength);
  transmitLinks.flush();
  const frame = frameOf(own[1]!.sent[0]!);
  assert.deepEqual(frame.dstMac, RS_MAC);
  assert.equal(frame.view.ip.dstInt >>> 0, RS1);
  assert.equal(frame.view.ip.ttl, 63);
  assert.ok(frame.view.ip.checksumValid());
  assert.equal(frame.view.computeL4Checksum(), frame.view.tcp.checksum, "TCP checksum");
  // The same Ethernet header as the packet thread's own frame of the flow.
  assert.deepEqual([...own[1]!.sent[0]!.subarray(VNET, FRAME_IP_OFFSET)], [
    ...expected.subarray(VNET, FRAME_IP_OFFSET),
  ]);
});
