// `lvslab classroom --replay <dir>`: a scenario's recorded run (its artifacts folder) shown on
// the same page, with no lab: the folder's pcaps are read whole, merged by capture time and
// fed to the same pairer the live session uses (session.ts), so pairs, explanations, the
// topology, stepping and export are the live page's. Which lab it was is read from which
// pcaps are there (each topology captures its own segments, lab/capture/segments.ts); the
// service table from the scenario's services.yaml. The live controls refuse, in a sentence.
import fs from "node:fs";
import path from "node:path";
import type { LabBackend } from "../lab/backend.ts";
import type { Topology } from "../lab/topology.ts";
import type { Packet } from "../lab/analysis/packet.ts";
import { TOPOLOGIES } from "../lab/topologies/index.ts";
import { captureSegments, TUN_SEGMENT } from "../lab/capture/segments.ts";
import { parseDirectorConfig } from "../director/config/service-config.ts";
import { ClassroomSession } from "./session.ts";
import { PcapTail } from "./pcap-tail.ts";
import { WINDOW_S } from "./live-pairs.ts";
import { type ClassroomServer, serveClassroom } from "./server.ts";
import type { TablesView } from "./event-types.ts";

/** What the folder says about the run, when it has a report.json (a scenario's). */
interface RunReport {
  name?: string;
  status?: string;
  scenarios?: { name: string; artifacts: string }[];
}

export interface Recording {
  dir: string;
  topologyName: string;
  topology: Topology;
  /** The scenario's name (report.json), else the folder's. */
  name: string;
  status: string | null;
  /** The pcap of each segment the topology captures. */
  pcaps: Map<string, string>;
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8"));
  } catch {
    return null;
  }
}

/** The segments whose pcaps a recording of the topology needs. */
function labSegments(topology: Topology): string[] {
  return captureSegments(topology).map((s) => s.segment).filter((s) => s !== TUN_SEGMENT);
}

/**
 * The recording in `dir`, or an error that names the folder and what is missing. A run's
 * folder with one scenario is taken as that scenario's; with several, the sentence lists them.
 */
export function findRecording(dir: string): Recording {
  const abs = path.resolve(dir);
  if (!fs.existsSync(abs) || !fs.statSync(abs).isDirectory()) {
    throw new Error(`${abs} is not a folder; give a scenario's artifacts folder to --replay`);
  }
  const report = readJson(path.join(abs, "report.json")) as RunReport | null;
  if (report?.scenarios) {
    if (report.scenarios.length === 1) {
      return findRecording(path.join(abs, path.basename(report.scenarios[0].artifacts)));
    }
    throw new Error(
      `${abs} is a run of ${report.scenarios.length} scenarios; replay one of its folders: ` +
        report.scenarios.map((s) => path.join(abs, path.basename(s.artifacts))).join(", "),
    );
  }
  const files = fs.readdirSync(abs);
  const pcapFiles = files.filter((f) => f.endsWith(".pcap"));
  if (pcapFiles.length === 0) {
    throw new Error(
      `${abs} holds no pcaps, so it is not a scenario's artifacts folder (a run writes one ` +
        `pcap per segment there, e.g. public.pcap and private.pcap); give the folder of one ` +
        `scenario that captured, e.g. artifacts/<time>/<scenario>`,
    );
  }
  if (!files.includes("host-links.json")) {
    throw new Error(
      `${abs} has pcaps but no host-links.json (written beside the pcaps by a scenario's ` +
        `captures), so which host sent which frame is not known; it is not a scenario's ` +
        `artifacts folder`,
    );
  }
  // The topology whose every capture segment has its pcap here (the director's TUN device's
  // is not read: what it shows is on the segments too); the one with most segments.
  let best: { name: string; topology: Topology; pcaps: Map<string, string> } | null = null;
  for (const [name, entry] of Object.entries(TOPOLOGIES)) {
    const topology = entry.build();
    if (!topology.hosts.some((h) => h.role === "director")) continue;
    const segments = labSegments(topology);
    if (!segments.every((s) => pcapFiles.includes(`${s}.pcap`))) continue;
    if (best && best.pcaps.size >= segments.length) continue;
    best = {
      name,
      topology,
      pcaps: new Map(segments.map((s) => [s, path.join(abs, `${s}.pcap`)])),
    };
  }
  if (!best) {
    const wanted = Object.entries(TOPOLOGIES).flatMap(([name, e]) => {
      const t = e.build();
      return t.hosts.some((h) => h.role === "director")
        ? [`${name}: ${labSegments(t).map((s) => `${s}.pcap`).join(", ")}`]
        : [];
    });
    throw new Error(
      `${abs} has ${pcapFiles.join(", ")}, which is no lab's set of captures (${
        wanted.join("; ")
      }); a pcap is missing`,
    );
  }
  return {
    dir: abs,
    topologyName: best.name,
    topology: best.topology,
    name: (report as { name?: string } | null)?.name ?? path.basename(abs),
    status: report?.status ?? null,
    pcaps: best.pcaps,
  };
}

/** The scenario's service table as the page draws it (no counters: they were not recorded). */
export function tablesFromConfig(file: string): TablesView | null {
  if (!fs.existsSync(file)) return null;
  const config = parseDirectorConfig(fs.readFileSync(file, "utf8"), file);
  return {
    time: 0,
    services: config.services.map((s) => ({
      protocol: s.protocol.toUpperCase(),
      address: `${s.address}:${s.port}`,
      scheduler: s.scheduler,
      conns: 0,
      inpkts: 0,
      outpkts: 0,
      destinations: s.servers.map((d) => ({
        address: `${d.address}:${d.port ?? s.port}`,
        method: d.method,
        weight: d.weight,
        active: 0,
        inactive: 0,
        conns: 0,
        inpkts: 0,
        outpkts: 0,
      })),
    })),
    connections: [],
  };
}

/** A backend with no lab behind it: whatever asks it for something gets the sentence. */
function noLab(name: string, why: string): LabBackend {
  const base = { kind: "netns", name, label: `recording ${name}` };
  return new Proxy(base, {
    get: (target, key) =>
      key in target ? target[key as keyof typeof target] : () => Promise.reject(new Error(why)),
  }) as unknown as LabBackend;
}

/** Pcap packets of one segment, read a slice at a time (pcap-tail.ts's reader). */
class SegmentReader {
  private readonly queue: Packet[] = [];
  private at = 0;
  private readonly tail: PcapTail;
  skipped = 0;
  problem: string | null = null;
  done = false;

  constructor(readonly segment: string, file: string) {
    this.tail = new PcapTail(file, {
      packet: (p) => this.queue.push(p),
      skipped: (reason) => {
        this.skipped++;
        if (this.tail?.problem) this.problem = reason;
      },
    });
  }

  /** The next packet by capture time, without taking it; null at the end of the file. */
  peek(): Packet | null {
    while (this.at >= this.queue.length && !this.done) {
      this.queue.length = 0;
      this.at = 0;
      const before = this.skipped;
      this.tail.poll();
      if (this.queue.length === 0 && (this.skipped === before || this.tail.problem)) {
        this.done = true;
      }
    }
    return this.at < this.queue.length ? this.queue[this.at] : null;
  }

  take(): Packet {
    return this.queue[this.at++];
  }

  close(): void {
    this.tail.stop();
  }
}

export class RecordingSession extends ClassroomSession {
  /** Why the controls are off, with what the recording holds once loaded. */
  override recording: string;
  /** Packets read from the pcaps. */
  packets = 0;
  /** What a live control answers. */
  private readonly why: string;

  constructor(readonly rec: Recording) {
    const why = `this page shows a recording (${rec.dir}): there is no lab to send to, fail a ` +
      `server in or change; run 'lvslab classroom' on a lab for the live controls`;
    super({ backend: noLab(rec.name, why), topology: rec.topology, artifactsDir: rec.dir });
    this.recording = this.why = why;
    this.tables = tablesFromConfig(path.join(rec.dir, "services.yaml"));
  }

  private refuse(): Promise<string> {
    return Promise.reject(new Error(this.why));
  }
  override send(_count: number): Promise<string> {
    return this.refuse();
  }
  override fail(_host: string): Promise<string> {
    return this.refuse();
  }
  override restore(_host: string): Promise<string> {
    return this.refuse();
  }
  override setWeight(_service: string, _server: string, _weight: number): Promise<string> {
    return this.refuse();
  }
  override setScheduler(_service: string, _scheduler: string): Promise<string> {
    return this.refuse();
  }

  /** Reads every pcap through the pairer, oldest packet first; the events end sorted by time. */
  load(): void {
    const segments = this.startPairer();
    const readers = segments.map((s) => new SegmentReader(s, this.rec.pcaps.get(s)!));
    let expired = -Infinity;
    try {
      for (;;) {
        let next: SegmentReader | null = null;
        for (const r of readers) {
          const p = r.peek();
          if (p && (!next || p.time < next.peek()!.time)) next = r;
        }
        if (!next) break;
        const p = next.take();
        this.packets++;
        // The live session expires every 250 ms of the clock; here, of capture time.
        if (p.time - expired > WINDOW_S / 4) {
          this.pairer!.expire(p.time);
          expired = p.time;
        }
        this.pairer!.add(next.segment, p);
      }
      this.pairer!.expire(Infinity);
    } finally {
      for (const r of readers) r.close();
    }
    // Alone packets are told a window late: put the recording in capture-time order.
    const items = this.ring.items().sort((a, b) => a.event.time - b.event.time);
    this.ring.clear();
    for (const item of items) {
      item.event.seq = this.ring.nextSeq;
      this.ring.push(item);
    }
    for (const r of readers) {
      if (r.problem) this.problem(r.problem);
    }
    const skipped = readers.reduce((n, r) => n + r.skipped, 0);
    const status = this.rec.status ? ` (${this.rec.status})` : "";
    const older = this.ring.dropped
      ? `; the ${this.ring.dropped} earliest events are only in the pcaps`
      : "";
    this.recording = `Recording of scenario ${this.rec.name}${status}: ${this.packets} ` +
      `packets from ${segments.length} pcaps, ${this.ring.length} events${older}` +
      (skipped ? `; ${skipped} frames that are not IPv4 skipped` : "") +
      `. The service table is the scenario's services.yaml (no counters were recorded). ` +
      this.why[0].toUpperCase() + this.why.slice(1) + ".";
  }
}

export interface Replay {
  url: string;
  session: RecordingSession;
  close(): Promise<void>;
}

/** Reads the recording and serves the page over it; nothing of a lab is started. */
export async function startReplay(options: { dir: string; port?: number }): Promise<Replay> {
  const session = new RecordingSession(findRecording(options.dir));
  session.load();
  const server: ClassroomServer = await serveClassroom(session, session.rec.name, options.port);
  return {
    url: server.url,
    session,
    close: async () => {
      await server.close();
      await session.stop();
    },
  };
}
