// `lvslab-decap`: the VS/TUN real server's decapsulator, for kernels without ipip, fou or
// ip_gre (where they exist, the LVS-TUN recipe needs nothing from lvslab). One command on
// the real server, after the recipe's VIP/32 on lo and arp_ignore=1/arp_announce=2:
//
//   lvslab-decap --director 172.16.1.254 --type ipip|gue|gre[,...] [--gue-port 6080] [--vip VIP]
//
// --type takes one type or several (comma-separated or repeated), as a kernel real server may
// have tunl0, fou and gre0 at once: the services of one director may reach the server by
// different tunnels. It receives each type's packets on a raw socket of its own (protocol 4,
// UDP, 47), checks that each comes from a configured
// director and is well formed (tunnel-decap/outer-packet.ts), and writes the inner packet
// into a TUN device, so the local stack answers the client with the VIP as source; a flow's
// consecutive TCP segments of one receive batch go in merged, as GRO would merge them. Counters
// per drop reason go to --stats-file once they settle for a second (every 5 s while they keep
// moving, and at exit) and to stdout on SIGUSR1; SIGTERM/SIGINT
// undo what it changed (tunnel-decap/host-setup.ts) and exit.
import fs from "node:fs";
import { Command, InvalidArgumentError, Option } from "commander";
import { formatIPv4, parseIPv4 } from "../director/net/ipv4-address.ts";
import { READY_LINES } from "../director/ready-lines.ts";
import { openTun } from "../director/tun/tun-device.ts";
import { DecapChannel, DecapLoop } from "./tunnel-decap/decap-loop.ts";
import { DecapHostSetup } from "./tunnel-decap/host-setup.ts";
import {
  innerDestinations,
  missingVips,
  readLocalAddressesSync,
  watchLocalAddresses,
} from "./tunnel-decap/local-addresses.ts";
import {
  type DecapPolicy,
  GUE_DEFAULT_PORT,
  TUNNEL_PROTOCOL,
  TUNNEL_TYPES,
  type TunnelType,
} from "./tunnel-decap/outer-packet.ts";
import {
  closeFd,
  gueRawFilter,
  openPortPlaceholder,
  RawReceiver,
} from "./tunnel-decap/raw-receiver.ts";
import { readRawSockets, socketInode } from "./tunnel-decap/raw-socket-table.ts";
import { type StatsChannel, statsSnapshot, writeStatsFile } from "./tunnel-decap/stats.ts";

/**
 * The stats file is looked at every tick and written once the counters stopped moving for a
 * tick, or every STATS_BUSY_TICKS while they keep moving: a test that sent a few packets sees
 * them within two seconds, and a loaded decapsulator does not pay for JSON every second.
 */
const STATS_TICK_MS = 1000;
const STATS_BUSY_TICKS = 5;

/** The stats tick's function: write when the received count settled or STATS_BUSY_TICKS passed. */
function statsSchedule(loop: DecapLoop, write: () => void): () => void {
  const received = () => loop.channels.reduce((n, c) => n + c.counts.reduce((a, b) => a + b, 0), 0);
  let seen = received();
  let written = seen;
  let ticks = 0;
  return () => {
    const now = received();
    ticks++;
    if ((now === seen && now !== written) || (now !== written && ticks >= STATS_BUSY_TICKS)) {
      write();
      written = now;
      ticks = 0;
    }
    seen = now;
  };
}

interface Options {
  director: number[];
  type: TunnelType[];
  guePort: number;
  tun: string;
  vip: number[];
  statsFile?: string;
  refresh: number;
}

function address(what: string) {
  return (text: string, list: number[] = []): number[] => {
    const a = parseIPv4(text);
    if (a === null) {
      throw new InvalidArgumentError(`${what} takes an IPv4 address, e.g. 172.16.1.254`);
    }
    return [...list, a];
  };
}

/** --type's value: one type or several, comma-separated, added to those given before. */
function tunnelTypes(text: string, list: TunnelType[] = []): TunnelType[] {
  const out = [...list];
  for (const word of text.split(",").map((w) => w.trim())) {
    if (!(TUNNEL_TYPES as readonly string[]).includes(word)) {
      throw new InvalidArgumentError(
        `'${word}' is not a tunnel type; give ${TUNNEL_TYPES.join(", ")} (e.g. --type ipip,gre)`,
      );
    }
    if (!out.includes(word as TunnelType)) out.push(word as TunnelType);
  }
  return out;
}

function parseOptions(): Options {
  return new Command()
    .name("lvslab-decap")
    .description(
      "VS/TUN real-server decapsulator: tunnel packets from the directors into a TUN device",
    )
    .requiredOption(
      "--director <addr>",
      "a director's address (repeat for more)",
      address("--director"),
    )
    .addOption(
      new Option(
        "--type <types>",
        `tunnel types the directors send: ${
          TUNNEL_TYPES.join(", ")
        } (several: comma-separated or repeated)`,
      ).argParser(tunnelTypes).makeOptionMandatory(),
    )
    .option("--gue-port <port>", "GUE: the UDP port (ipvsadm --tun-port)", (t) => {
      const port = Number(t);
      if (!Number.isInteger(port) || port < 1 || port > 65535) {
        throw new InvalidArgumentError("--gue-port takes a port number (1-65535)");
      }
      return port;
    }, GUE_DEFAULT_PORT)
    .option("--tun <name>", "TUN device to create", "lvsdecap0")
    .option("--vip <addr>", "accept only these inner destinations (repeat)", address("--vip"), [])
    .option("--stats-file <path>", "write the counters here as JSON every second")
    .option(
      "--refresh <seconds>",
      "re-read the host's addresses this often besides on each change",
      (t) => {
        const seconds = Number(t);
        if (!(seconds >= 0.1 && seconds <= 3600)) {
          throw new InvalidArgumentError("--refresh takes seconds between 0.1 and 3600");
        }
        return seconds;
      },
      30,
    )
    .parse()
    .opts<Options>();
}

/** Everything opened so far, closed in reverse on exit or on a failed start. */
class Resources {
  tunFd = -1;
  setup: DecapHostSetup | null = null;
  /** One raw socket per type, in --type's order. */
  channels: StatsChannel[] = [];
  /** Each receive socket's inode, to find its drop count in /proc/net/raw. */
  inodes = new Map<StatsChannel, number>();
  placeholderFd = -1;

  release(): void {
    for (const c of this.channels) c.receiver.close();
    if (this.placeholderFd >= 0) closeFd(this.placeholderFd);
    this.setup?.undo();
    if (this.tunFd >= 0) fs.closeSync(this.tunFd);
    this.channels = [];
    this.placeholderFd = -1;
    this.setup = null;
    this.tunFd = -1;
  }
}

function start(opts: Options, res: Resources): DecapLoop {
  // The vnet header lets merged TCP segments in as one super-packet (tunnel-decap/tcp-merge.ts);
  // no offload asked: nothing is read from the device.
  const tun = openTun({ name: opts.tun, offload: false, vnetHeader: true });
  res.tunFd = tun.fd;
  res.setup = new DecapHostSetup(tun.name);
  res.setup.apply();
  for (const c of res.setup.changes) {
    if (c.from !== c.to) console.log(`lvslab-decap: ${c.key} ${c.from} -> ${c.to}`);
  }
  const open = readRawSockets();
  for (const type of opts.type) {
    const protocol = TUNNEL_PROTOCOL[type];
    if (open.some((r) => r.protocol === protocol)) {
      console.error(
        `lvslab-decap: another raw socket for IP protocol ${protocol} is open here (another ` +
          `lvslab-decap?); each gets a copy of every packet, so both would inject it`,
      );
    }
    const filter = type === "gue" ? gueRawFilter(opts.director, opts.guePort) : undefined;
    const channel = new DecapChannel(type, RawReceiver.open(protocol, filter));
    res.channels.push(channel);
    res.inodes.set(channel, socketInode(channel.receiver.fd));
    if (type === "gue") res.placeholderFd = openPortPlaceholder(opts.guePort);
  }
  const local = readLocalAddressesSync();
  for (const warning of missingVips(local, opts.vip)) console.error(`lvslab-decap: ${warning}`);
  const policy: DecapPolicy = {
    guePort: opts.guePort,
    directors: new Set(opts.director.map((a) => a | 0)),
    innerDestinations: innerDestinations(local, opts.vip),
  };
  return new DecapLoop(res.channels, tun.fd, policy);
}

function main(): void {
  const opts = parseOptions();
  const res = new Resources();
  let loop: DecapLoop;
  try {
    loop = start(opts, res);
  } catch (err) {
    res.release();
    console.error(`lvslab-decap: ${(err as Error).message}`);
    process.exit(1);
  }
  const snapshot = () => {
    const raw = readRawSockets();
    const drops = (c: StatsChannel) => raw.find((r) => r.inode === res.inodes.get(c))?.drops ?? 0;
    return statsSnapshot(loop, res.channels, opts.tun, drops);
  };
  const writeStats = () => opts.statsFile && writeStatsFile(opts.statsFile, snapshot());
  writeStats();
  const statsTimer = setInterval(statsSchedule(loop, writeStats), STATS_TICK_MS);
  const stopWatching = watchLocalAddresses(
    opts.refresh * 1000,
    (local) => (loop.policy.innerDestinations = innerDestinations(local, opts.vip)),
    (message) => console.error(`lvslab-decap: ${message}`),
  );
  const stop = (signal: string) => {
    loop.stop();
    clearInterval(statsTimer);
    stopWatching();
    writeStats();
    res.release();
    console.log(`lvslab-decap: ${signal}, stopped; changes undone`);
    process.exit(0);
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGUSR1", () => console.log(JSON.stringify(snapshot())));
  loop.start();
  const dirs = opts.director.map(formatIPv4).join(", ");
  const types = opts.type.map((t) => (t === "gue" ? `gue port ${opts.guePort}` : t)).join(", ");
  console.log(`${READY_LINES.decapsulator}: ${types} from ${dirs} into ${opts.tun}`);
}

main();
