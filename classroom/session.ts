// One classroom session on a running lab: tcpdump on every segment (lab/scenario/capture-glue.ts,
// the same captures a scenario makes), each pcap read as it grows (pcap-tail.ts), packets
// paired across the director (live-pairs.ts) and explained (explain.ts), the director's
// tables fed by table-feed.ts inside the director host; the events kept in a bounded ring
// (the pcaps in the artifacts folder keep everything). The controls act on the lab the way
// a user of lvslab would: the HTTP client in the client host, ipvsadm in the director host.
import fs from "node:fs";
import path from "node:path";
import type { BackgroundProcess, LabBackend } from "../lab/backend.ts";
import type { Topology } from "../lab/topology.ts";
import type { Packet } from "../lab/analysis/packet.ts";
import { describePacket, formatSourceDest } from "../lab/analysis/format.ts";
import { type CaptureSession, startCaptures } from "../lab/scenario/capture-glue.ts";
import {
  directorSegment,
  repliesBypassDirector,
  tunnelsToServers,
} from "../lab/capture/segments.ts";
import {
  FORWARD_METHOD_SWITCHES,
  type ListedForwardMethod,
} from "../director/forwarding/method-names.ts";
import { changedFields, packetFields } from "./fields.ts";
import { SCHEDULER_NAMES } from "../director/schedulers/index.ts";
import { type LivePair, LivePairer, type Pairer } from "./live-pairs.ts";
import { frameLegs, LiveCopyPairer } from "./live-copies.ts";
import { tunnelLegs, tunnelPacketView, tunnelTarget } from "./live-tunnels.ts";
import { outerFieldKeys } from "./tunnel-fields.ts";
import { decodeTunnel } from "../lab/analysis/tunnel-decode.ts";
import { readHostLinks } from "../lab/capture/host-links.ts";
import { drRoles } from "../lab/assertions/direct-routing.ts";
import { PcapTail } from "./pcap-tail.ts";
import {
  explainAlone,
  explainBypassReply,
  explainPair,
  type Explanation,
  type FrameTarget,
} from "./explain.ts";
import { EventRing } from "./ring.ts";
import { withHelperChange } from "./ftp-rewrite.ts";
import { writePcap } from "./pcap-export.ts";
import type { ClassroomEvent, PacketView, TablesView, TopologyView } from "./event-types.ts";

/** Events the page can step through; older ones stay in the pcaps only. */
export const RING_SIZE = 2000;
/** Requests sent by "burst". */
export const BURST = 20;
const REQUEST_TIMEOUT_MS = 3000;
/** How often the lab and the captures are checked for having gone away. */
const WATCH_MS = 2000;
/** How long the table feed (a Node program in the director host) may take to start. */
const FEED_START_MS = 30_000;
/** nft table that makes a "failed" real server refuse its port (a reset from its kernel). */
const FAIL_TABLE = "lvslab_classroom";

export type Listener = (message: { event?: ClassroomEvent; tables?: TablesView }) => void;

interface Failed {
  host: string;
  service: string;
  destination: string;
  weight: number;
  method: string;
}

function packetView(segment: string, p: Packet): PacketView {
  return {
    segment,
    frame: p.index,
    time: p.time,
    sourceDest: formatSourceDest(p),
    summary: describePacket(p),
    fields: packetFields(p),
  };
}

export interface SessionOptions {
  backend: LabBackend;
  topology: Topology;
  /** Where the pcaps, tcpdump logs and the table feed's log go. */
  artifactsDir: string;
  ringSize?: number;
  log?: (line: string) => void;
}

export class ClassroomSession {
  readonly ring: EventRing<{ event: ClassroomEvent; packets: Packet[] }>;
  tables: TablesView | null = null;
  readonly problems: string[] = [];
  /** Set for a recording (replay.ts): why the live controls are off, in a sentence. */
  readonly recording: string | null = null;
  private readonly listeners = new Set<Listener>();
  private capture: CaptureSession | null = null;
  private tails: PcapTail[] = [];
  private feed: BackgroundProcess | null = null;
  private feedTail: NodeJS.Timeout | null = null;
  private expiry: NodeJS.Timeout | null = null;
  protected pairer: Pairer | null = null;
  private readonly failed = new Map<string, Failed>();
  private skipped = 0;
  private watchdog: NodeJS.Timeout | null = null;
  /** Problems already said (each once). */
  private readonly told = new Set<string>();
  private readonly backend: LabBackend;
  private readonly topology: Topology;
  readonly artifactsDir: string;

  constructor(private readonly options: SessionOptions) {
    this.backend = options.backend;
    this.topology = options.topology;
    this.artifactsDir = path.resolve(options.artifactsDir);
    this.ring = new EventRing(options.ringSize ?? RING_SIZE);
  }

  /** The running lab's hosts and networks, for the picture. */
  topologyView(): TopologyView {
    const t = this.topology;
    const method = t.name === "nat" ? "NAT" : t.name.toUpperCase();
    return {
      name: t.name,
      method,
      vip: t.vip,
      hosts: t.hosts.map((h) => ({
        name: h.name,
        role: h.role,
        addresses: h.interfaces.map((i) => i.address.split("/")[0]),
      })),
      networks: t.networks.map((n) => ({
        name: n.name,
        cidr: n.cidr,
        hosts: t.hosts.filter((h) => h.interfaces.some((i) => i.network === n.name))
          .map((h) => h.name),
      })),
    };
  }

  subscribe(l: Listener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  private publish(event: Omit<ClassroomEvent, "seq">, packets: Packet[] = []): void {
    const e = { ...event, seq: this.ring.nextSeq } as ClassroomEvent;
    this.ring.push({ event: e, packets });
    for (const l of this.listeners) l({ event: e });
  }

  /** A line about something that went wrong, shown on the page and kept for /api/state. */
  problem(text: string): void {
    this.problems.push(text);
    if (this.problems.length > 50) this.problems.shift();
    this.publish({ time: Date.now() / 1000, kind: "problem", text });
  }

  private action(text: string): void {
    this.publish({ time: Date.now() / 1000, kind: "action", text });
  }

  async start(): Promise<void> {
    if (this.backend.kind !== "netns") {
      throw new Error(
        `the classroom reads the captures as tcpdump writes them, which needs the network ` +
          `namespace backend; bring the lab up without --backend ${this.backend.kind}`,
      );
    }
    const log = this.options.log ?? (() => {});
    fs.mkdirSync(this.artifactsDir, { recursive: true });
    this.capture = await startCaptures(this.backend, this.topology, this.artifactsDir, log);
    const segments = this.startPairer();
    for (const segment of segments) {
      const tail = new PcapTail(path.join(this.artifactsDir, `${segment}.pcap`), {
        packet: (p) => this.pairer!.add(segment, p),
        skipped: (reason) => {
          this.skipped++;
          if (reason.includes("cannot be read") || reason.includes("damaged")) this.problem(reason);
        },
      });
      tail.start();
      this.tails.push(tail);
    }
    this.expiry = setInterval(() => this.pairer?.expire(Date.now() / 1000), 250);
    await this.startFeed();
    this.watchdog = setInterval(() => void this.watch(segments), WATCH_MS);
  }

  private pairEvent(p: LivePair, frameTo?: FrameTarget, afterView?: PacketView): void {
    const before = packetView(p.beforeSegment, p.before);
    const after = afterView ?? packetView(p.afterSegment, p.after);
    const e = withHelperChange(p, explainPair(p, this.tables, frameTo));
    this.publish({
      time: p.before.time,
      kind: "pair",
      direction: p.direction,
      before,
      after,
      // A tunnel's outer header is new: all of it is highlighted.
      changed: [...changedFields(before.fields, after.fields), ...outerFieldKeys(after.fields)],
      connection: e.connection,
      server: e.server,
      text: e.text,
    }, [p.before, p.after]);
  }

  private aloneEvent(p: Packet, segment: string, e: Explanation): void {
    this.publish({
      time: p.time,
      kind: "packet",
      packet: packetView(segment, p),
      connection: e.connection,
      server: e.server,
      text: e.text,
    }, [p]);
  }

  /** The pairer for the lab's method; returns the segments whose pcaps it reads. */
  protected startPairer(): string[] {
    const t = this.topology;
    const servers = directorSegment(t);
    if (!repliesBypassDirector(t)) {
      const client = t.hosts.find((h) => h.role === "client")!.interfaces[0].network;
      this.pairer = new LivePairer(t.vip, client, servers, {
        pair: (p) => this.pairEvent(p),
        alone: (p, segment) => this.aloneEvent(p, segment, explainAlone(p, t.vip)),
      });
      return [client, servers];
    }
    // VS/DR: the director's LAN port, and each real server's own port for the replies;
    // VS/TUN: the director's own network (its tunnel packets leave there) and the same.
    const links = readHostLinks(this.artifactsDir) ?? [];
    const tunnel = tunnelsToServers(t);
    const serverPorts = new Map(
      t.hosts.filter((h) => h.role === "realserver").flatMap((h) =>
        h.interfaces.map((i) => [i.switchPort, h.name] as const)
      ),
    );
    const addressOf = (host: string) =>
      links.find((l) => l.host === host && (tunnel || l.network === servers))?.address ?? host;
    const director = t.hosts.find((h) => h.role === "director")!.interfaces[0].address
      .split("/")[0];
    const hostOf = (address: string) =>
      links.find((l) => l.address === address && l.role === "realserver")?.host ?? address;
    const roles = tunnel ? null : drRoles(links, servers);
    const legs = roles ? frameLegs(roles.director) : tunnelLegs(director);
    this.pairer = new LiveCopyPairer(t.vip, servers, legs, new Set(serverPorts.keys()), {
      pair: (p) => {
        const inTunnel = roles ? null : decodeTunnel(p.after, director);
        if (inTunnel?.inner) {
          const view = tunnelPacketView(p.afterSegment, inTunnel);
          return this.pairEvent(p, tunnelTarget(p.before, inTunnel, hostOf), view);
        }
        const host = roles?.servers.get(p.after.dstMac ?? "") ?? p.after.dstMac ?? "?";
        this.pairEvent(p, { host, address: `${addressOf(host)}:${p.after.dstPort}` });
      },
      alone: (p, segment) => {
        const host = serverPorts.get(segment);
        const e = host ? explainBypassReply(p, host) : explainAlone(p, t.vip);
        if (host) e.server = `${addressOf(host)}:${p.srcPort}`;
        this.aloneEvent(p, segment, e);
      },
    });
    return [servers, ...serverPorts.keys()];
  }

  /**
   * What can go away under the page: the lab itself, a tcpdump (it writes "N packets
   * captured" to its log when it ends). Each is said once, in words, on the page.
   */
  private async watch(segments: string[]): Promise<void> {
    const said = (key: string) => this.told.has(key) || !this.told.add(key);
    for (const segment of segments) {
      const log = path.join(this.artifactsDir, `${segment}.tcpdump.log`);
      let text = "";
      try {
        text = fs.readFileSync(log, "utf8");
      } catch {
        continue;
      }
      if (/packets? captured/.test(text) && !said(`tcpdump ${segment}`)) {
        this.problem(
          `the capture on segment '${segment}' ended (tcpdump: ` +
            `${text.trim().split("\n").slice(-3).join("; ")}): no new packets from it; ` +
            `restart 'lvslab classroom' to capture again`,
        );
      }
    }
    if (!(await this.backend.isUp().catch(() => false)) && !said("lab down")) {
      this.problem(
        `lab '${this.backend.name}' is down (taken down under the page?): the buttons cannot ` +
          `work; bring it up with 'lvslab up --name ${this.backend.name}' and restart ` +
          `'lvslab classroom'`,
      );
    }
  }

  private async startFeed(): Promise<void> {
    const logFile = path.join(this.artifactsDir, "tables.jsonl");
    fs.rmSync(logFile, { force: true });
    this.feed = await this.backend.spawn(
      "director",
      this.backend.program("classroom/table-feed.ts", []),
      logFile,
    );
    let offset = 0;
    let partial = "";
    this.feedTail = setInterval(() => {
      let text = "";
      try {
        const fd = fs.openSync(logFile, "r");
        const buf = Buffer.alloc(1 << 20);
        const n = fs.readSync(fd, buf, 0, buf.length, offset);
        fs.closeSync(fd);
        offset += n;
        text = partial + buf.subarray(0, n).toString("utf8");
      } catch {
        return; // not written yet
      }
      const lines = text.split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) this.feedLine(line);
    }, 200);
    let ended = false;
    void this.feed.exited.then((code) => {
      ended = true;
      if (this.feed) this.problem(`the director's table feed ended (exit code ${code})`);
    });
    // The first explanations name the scheduler and weights: wait for the first tables.
    const deadline = Date.now() + FEED_START_MS;
    while (this.tables === null && !ended && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    if (this.tables === null) {
      this.problem(
        `the director's tables did not arrive within ${FEED_START_MS / 1000} s ` +
          `(see ${logFile}); the page shows packets without them`,
      );
    }
  }

  private feedLine(line: string): void {
    if (!line.startsWith("{")) return;
    let msg: TablesView | { error: string };
    try {
      msg = JSON.parse(line);
    } catch {
      return;
    }
    if ("error" in msg) {
      this.problem(`the director's tables cannot be read: ${msg.error}`);
      return;
    }
    this.tables = msg;
    for (const l of this.listeners) l({ tables: msg });
  }

  /** Sends `count` HTTP requests from the client to the VIP, one connection each. */
  async send(count: number): Promise<string> {
    if (!Number.isInteger(count) || count < 1 || count > 1000) {
      throw new Error("the number of requests must be a whole number from 1 to 1000");
    }
    const url = `http://${this.topology.vip}/`;
    this.action(`client sends ${count} request${count > 1 ? "s" : ""} to ${url}`);
    // curl, not clients/http-client.ts: a Node client costs seconds of CPU per press on a
    // busy machine, curl milliseconds. One connection per request (Connection: close), each
    // page names its server (<meta name="lvslab-server">), -w adds the status per transfer.
    const argv = [
      "curl",
      "-s",
      "--no-progress-meter",
      "--max-time",
      String(REQUEST_TIMEOUT_MS / 1000),
      "-H",
      "Connection: close",
      "--parallel",
      "--parallel-max",
      "8",
      "-w",
      "\\nstatus %{http_code}\\n",
      ...Array.from({ length: count }, () => url),
    ];
    const r = await this.backend.exec("client", argv, {
      timeoutMs: count * REQUEST_TIMEOUT_MS + 30_000,
    });
    const statuses = [...r.stdout.matchAll(/^status (\d+)$/gm)].map((m) => m[1]);
    const by = new Map<string, number>();
    for (const m of r.stdout.matchAll(/<meta name="lvslab-server" content="([^"]+)">/g)) {
      by.set(m[1], (by.get(m[1]) ?? 0) + 1);
    }
    const ok = statuses.filter((x) => x === "200").length;
    const servers = [...by].sort().map(([s, n]) => `${s} ${n}`).join(", ");
    const text = `${ok} of ${count} answered (${servers || "none"})` +
      (ok < count ? `, ${count - ok} failed (curl exit code ${r.code})` : "");
    this.action(text);
    return text;
  }

  private directorIpvsadm(args: string[]): Promise<void> {
    return this.backend.exec("director", ["ipvsadm", ...args], { timeoutMs: 30_000 })
      .then((r) => {
        if (r.code !== 0) throw new Error(`ipvsadm ${args.join(" ")} failed: ${r.stderr.trim()}`);
      });
  }

  /**
   * Fails a real server the way a pulled cable or a dead service looks to its clients: its
   * kernel refuses the service port (nft: TCP reset), and it leaves the service table as a
   * health checker (keepalived) takes a failed server out.
   */
  async fail(host: string): Promise<string> {
    if (this.failed.has(host)) throw new Error(`${host} has already failed; restore it first`);
    const h = this.topology.hosts.find((x) => x.name === host && x.role === "realserver");
    if (!h) throw new Error(`there is no real server '${host}' in this lab`);
    const addrs = h.interfaces.map((i) => i.address.split("/")[0]);
    const svc = this.tables?.services.find((s) =>
      s.destinations.some((d) => addrs.includes(d.address.split(":")[0]))
    );
    const dest = svc?.destinations.find((d) => addrs.includes(d.address.split(":")[0]));
    if (!svc || !dest) {
      throw new Error(`${host} is in no service of the director's table (is it already out?)`);
    }
    const port = dest.address.split(":")[1];
    const rules = `table inet ${FAIL_TABLE} {\n chain input {\n  type filter hook input ` +
      `priority 0;\n  tcp dport ${port} reject with tcp reset\n }\n}\n`;
    const r = await this.backend.exec(host, ["nft", "-f", "-"], { input: rules });
    if (r.code !== 0) throw new Error(`nft in ${host} failed: ${r.stderr.trim()}`);
    const flag = svc.protocol === "UDP" ? "-u" : "-t";
    await this.directorIpvsadm(["-d", flag, svc.address, "-r", dest.address]);
    this.failed.set(host, {
      host,
      service: `${flag} ${svc.address}`,
      destination: dest.address,
      weight: dest.weight,
      method: dest.method,
    });
    const text = `${host} failed: its port ${port} refuses connections, and it is out of ` +
      `${svc.address} (ipvsadm -d, as a health checker would)`;
    this.action(text);
    return text;
  }

  /** Undoes fail(): the port answers again and the server is back with its weight. */
  async restore(host: string): Promise<string> {
    const f = this.failed.get(host);
    if (!f) throw new Error(`${host} has not failed`);
    await this.backend.exec(host, ["nft", "delete", "table", "inet", FAIL_TABLE]);
    const [flag, service] = f.service.split(" ");
    await this.directorIpvsadm([
      "-a",
      flag,
      service,
      "-r",
      f.destination,
      FORWARD_METHOD_SWITCHES[f.method as ListedForwardMethod] ?? "-m",
      "-w",
      String(f.weight),
    ]);
    this.failed.delete(host);
    const text = `${host} restored: back in ${service} with weight ${f.weight}`;
    this.action(text);
    return text;
  }

  /** ipvsadm -e on one real server of a service: a new weight (0: no new connections). */
  async setWeight(service: string, server: string, weight: number): Promise<string> {
    if (!Number.isInteger(weight) || weight < 0 || weight > 65535) {
      throw new Error("a weight is a whole number from 0 to 65535");
    }
    const svc = this.service(service);
    const dest = svc.destinations.find((d) => d.address === server);
    if (!dest) throw new Error(`${server} is not a real server of ${service}`);
    await this.directorIpvsadm([
      "-e",
      svc.protocol === "UDP" ? "-u" : "-t",
      svc.address,
      "-r",
      server,
      FORWARD_METHOD_SWITCHES[dest.method as ListedForwardMethod] ?? "-m",
      "-w",
      String(weight),
    ]);
    const text = `${server} in ${service}: weight ${dest.weight} → ${weight}` +
      (weight === 0 ? " (no new connections; its open ones go on)" : "");
    this.action(text);
    return text;
  }

  /** ipvsadm -E: the service's scheduler. */
  async setScheduler(service: string, scheduler: string): Promise<string> {
    if (!SCHEDULER_NAMES.includes(scheduler)) {
      throw new Error(
        `'${scheduler}' is not a scheduler; use one of ${SCHEDULER_NAMES.join(", ")}`,
      );
    }
    const svc = this.service(service);
    await this.directorIpvsadm([
      "-E",
      svc.protocol === "UDP" ? "-u" : "-t",
      svc.address,
      "-s",
      scheduler,
    ]);
    const text = `${service}: scheduler ${svc.scheduler} → ${scheduler}`;
    this.action(text);
    return text;
  }

  private service(address: string) {
    const svc = this.tables?.services.find((s) => s.address === address);
    if (!svc) throw new Error(`there is no service ${address} in the director's table`);
    return svc;
  }

  /** The real servers failed by this session. */
  failedHosts(): string[] {
    return [...this.failed.keys()];
  }

  /** The packets of the events in the ring, as one pcap. */
  exportPcap(): Buffer {
    return writePcap(this.ring.items().flatMap((x) => x.packets));
  }

  /** Ends the captures and the feed and undoes the failures; the lab stays up. */
  async stop(): Promise<void> {
    if (this.expiry) clearInterval(this.expiry);
    if (this.watchdog) clearInterval(this.watchdog);
    if (this.feedTail) clearInterval(this.feedTail);
    const feed = this.feed;
    this.feed = null;
    await feed?.stop();
    for (const host of [...this.failed.keys()]) {
      await this.restore(host).catch(() => {});
    }
    await this.capture?.stop().catch(() => {});
    for (const t of this.tails) t.stop();
    this.listeners.clear();
  }
}
