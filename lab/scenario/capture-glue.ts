// The capture half of a scenario: checksum offload off and tcpdump on every segment before
// the traffic (lab/capture), then the pcaps read after it (lab/analysis) and handed to the
// assertion kinds that judge captures (assertions/: distribution from the private capture,
// rewrite correctness, one connection one server, outcomes per port, payload), and sample
// packet pairs for the report.
import fs from "node:fs";
import path from "node:path";
import type { LabBackend } from "../backend.ts";
import type { Topology } from "../topology.ts";
import { type CaptureFile, startCaptures as startTcpdumps } from "../capture/capture.ts";
import { disableChecksumOffload } from "../capture/offload.ts";
import {
  captureSegments,
  directorSegment,
  repliesBypassDirector,
  TUN_SEGMENT,
  tunnelsToServers,
} from "../capture/segments.ts";
import { collectHostLinks, writeHostLinks } from "../capture/host-links.ts";
import { scenarioTopology } from "./topology.ts";
import { drViewFromCaptures, formatDrConnections, serverSegmentFiles } from "./dr-pairs.ts";
import { formatTunConnections, tunViewFromCaptures } from "./tun-pairs.ts";
import { readPcap } from "../analysis/read-pcap.ts";
import { groupConnections } from "../analysis/connections.ts";
import { matchTwins, type TwinPair, type TwinResult } from "../analysis/twins.ts";
import { formatPair } from "../analysis/format.ts";
import type { Packet } from "../analysis/packet.ts";
import { serviceClients } from "../assertions/rewrite.ts";
import { assertCapturesComplete } from "../assertions/capture.ts";
import type { ServiceSpec } from "../assertions/service.ts";
import type { CheckResult } from "./checks.ts";
import type { Scenario } from "./schema.ts";
import type { StepOutput, StepWindow } from "./step-runner.ts";
import { evaluateCaptureAssertion } from "./assertions/index.ts";
import { type CaptureContext, hasPayloadHelper } from "./assertions/capture-context.ts";

export interface CaptureSession {
  stop(): Promise<CaptureFile[]>;
}

/**
 * Turns checksum offload off, saves every host interface's MAC beside the pcaps
 * (host-links.json: who sent a frame, for DR) and starts tcpdump on each segment; pcaps go
 * to `dir`.
 */
export async function startCaptures(
  backend: LabBackend,
  topology: Topology,
  dir: string,
  log: (l: string) => void,
): Promise<CaptureSession> {
  await disableChecksumOffload(backend, topology);
  fs.mkdirSync(dir, { recursive: true });
  writeHostLinks(dir, await collectHostLinks(backend, topology));
  const segments = captureSegments(topology);
  const handle = await startTcpdumps(backend, segments, dir);
  log(`  capturing ${segments.map((s) => `${s.segment} (${s.host} ${s.device})`).join(", ")}`);
  return { stop: () => handle.stop() };
}

export interface Analysis {
  /** Per assertion of the scenario, the results judged from the capture (maybe none). */
  results: CheckResult[][];
  samples: string[];
  warnings: string[];
}

/** Every service of the table, with every real server ipvsadm steps ever add to it. */
export function serviceSpecs(scenario: Scenario): ServiceSpec[] {
  const specs = new Map<string, ServiceSpec>();
  for (const s of scenario.services.services) {
    specs.set(`${s.protocol} ${s.address}:${s.port}`, {
      protocol: s.protocol,
      vip: s.address,
      port: s.port,
      servers: s.servers.map((d) => `${d.address}:${d.port ?? s.port}`),
    });
  }
  for (const step of scenario.steps) {
    if (step.kind !== "ipvsadm") continue;
    const a = step.args;
    const svcAt = a.findIndex((x) =>
      x === "-t" || x === "-u" || x === "--tcp-service" || x === "--udp-service"
    );
    const rsAt = a.findIndex((x) => x === "-r" || x === "--real-server");
    if (svcAt < 0 || rsAt < 0 || !a[svcAt + 1] || !a[rsAt + 1]) continue;
    const protocol = a[svcAt] === "-u" || a[svcAt] === "--udp-service" ? "udp" : "tcp";
    const [vip, port] = a[svcAt + 1].split(":");
    const spec = specs.get(`${protocol} ${vip}:${port}`);
    const server = a[rsAt + 1].includes(":") ? a[rsAt + 1] : `${a[rsAt + 1]}:${port}`;
    if (spec && !spec.servers.includes(server)) spec.servers.push(server);
  }
  return [...specs.values()];
}

/**
 * What a scenario with capture: { complete: true } adds to its assertions: every segment's
 * tcpdump reported its counts and lost nothing.
 */
export function capturesCompleteCheck(files: readonly CaptureFile[]): CheckResult {
  return assertCapturesComplete(files, {
    name: "captures are complete (capture: { complete: true })",
    requireCounts: true,
  });
}

/** A few before/after pairs: the first connections' SYN and SYN-ACK, one per real server. */
function samplePairs(pairs: TwinPair[], max = 3): string[] {
  const lines: string[] = [];
  const seen = new Set<string>();
  for (const p of pairs) {
    if (p.direction !== "to-server" || p.public.tcp?.flagText !== "S") continue;
    const server = `${p.private.dst}:${p.private.dstPort}`;
    if (seen.has(server)) continue;
    seen.add(server);
    // The SYN-ACK of this very connection (a client port may be reused for another one).
    const reply = pairs.find((q) =>
      q.direction === "to-client" && q.public.dst === p.public.src &&
      q.public.dstPort === p.public.srcPort && q.public.srcPort === p.public.dstPort &&
      q.public.tcp?.flagText === "S." && q.public.tcp.ack === ((p.public.tcp!.seq + 1) >>> 0)
    );
    lines.push(`client -> director -> ${server}:`);
    lines.push(...formatPair(p).split("\n").map((l) => `  ${l}`));
    if (reply) {
      lines.push(`reply ${server} -> director -> client:`);
      lines.push(...formatPair(reply).split("\n").map((l) => `  ${l}`));
    }
    if (seen.size >= max) break;
  }
  if (lines.length === 0) {
    // No TCP: show the first pairs whatever they are (UDP).
    for (const p of pairs.slice(0, 2)) {
      lines.push(`${p.direction === "to-server" ? "client -> real server" : "reply -> client"}:`);
      lines.push(...formatPair(p).split("\n").map((l) => `  ${l}`));
    }
  }
  return lines;
}

/** Judges the capture-based assertions of a scenario from its pcaps. */
export async function analyseCaptures(
  scenario: Scenario,
  files: CaptureFile[],
  _outputs: Map<string, StepOutput>,
  windows: Map<string, StepWindow>,
): Promise<Analysis> {
  const warnings: string[] = [];
  const topology = scenarioTopology(scenario);
  const file = (segment: string) => files.find((f) => f.segment === segment);
  // The director's side towards the real servers: "private" (NAT), "lan" (DR), its own
  // network (TUN: "dirnet").
  const privateSegment = directorSegment(topology);
  const pub = file("public");
  const priv = file(privateSegment);
  if (!pub || !priv) {
    throw new Error(`the capture files of the public and ${privateSegment} segments are missing`);
  }
  for (const f of files) {
    if (f.droppedByKernel) {
      warnings.push(`tcpdump on ${f.segment} lost ${f.droppedByKernel} packets (kernel drops)`);
    }
  }
  const bypass = repliesBypassDirector(topology);
  const serverFiles = bypass ? serverSegmentFiles(files, topology) : [];
  // Packets tcpdump itself lost on the networks judged (its ring overflowed under load).
  const lost = [pub, priv, ...serverFiles].reduce((n, f) => n + (f.droppedByKernel ?? 0), 0);
  const publicPackets: Packet[] = (await readPcap(pub.path)).packets;
  const lanPackets: Packet[] = (await readPcap(priv.path)).packets;
  const services = serviceSpecs(scenario);
  const tunnelled = tunnelsToServers(topology);
  const dr = bypass && !tunnelled
    ? await drViewFromCaptures(
      pub,
      publicPackets,
      lanPackets,
      serverFiles,
      services,
      file(TUN_SEGMENT),
    )
    : null;
  const tun = tunnelled
    ? await tunViewFromCaptures(
      pub,
      publicPackets,
      lanPackets,
      serverFiles,
      services,
      file(TUN_SEGMENT),
    )
    : null;
  // In DR the LAN also carries the client's packets on their way to the director: what
  // reached the real servers through the director is what it sent (its source MAC). In TUN
  // it is what the director's tunnel packets carry.
  const privatePackets = dr
    ? lanPackets.filter((p) => p.srcMac === dr.roles.director)
    : tun
    ? tun.path.tunnels.map((t) => t.inner!)
    : lanPackets;
  const publicConns = groupConnections(publicPackets);
  const privateConns = groupConnections(privatePackets);
  const used = services.filter((s) => serviceClients(publicPackets, s).size > 0);
  const vips = [...new Set(services.map((s) => s.vip))];
  const twinsByVip = new Map(
    vips.map((vip) => [vip, matchTwins(publicPackets, privatePackets, { vip })]),
  );
  // The FTP helper rewrites the control connection's payload (the 227 reply is one byte
  // longer on the client network) and then shifts sequence numbers: its twins are matched
  // without length and seq/ack, on IP id and the client's address and port.
  const looseByVip = new Map<string, TwinResult>();
  const twinsFor = (s: ServiceSpec): TwinResult => {
    if (!hasPayloadHelper(s)) return twinsByVip.get(s.vip)!;
    let t = looseByVip.get(s.vip);
    if (!t) {
      t = matchTwins(publicPackets, privatePackets, { vip: s.vip, loose: true });
      looseByVip.set(s.vip, t);
    }
    return t;
  };

  const ctx: CaptureContext = {
    scenario,
    windows,
    publicPackets,
    privatePackets,
    publicConns,
    privateConns,
    used,
    lost,
    twinsFor,
    dr,
    tun,
    directorPcap: priv.path,
  };
  const results = scenario.assertions.map((spec) => evaluateCaptureAssertion(spec, ctx));
  const samples = dr
    ? formatDrConnections(dr, { maxConnections: 2, maxPackets: 8 })
    : tun
    ? formatTunConnections(tun, { maxConnections: 2, maxPackets: 8 })
    : samplePairs(twinsByVip.get(scenario.vip)?.pairs ?? []);
  if (samples.length) {
    samples.push(
      `(pcaps: ${files.map((f) => path.basename(f.path)).join(", ")}; open them in Wireshark)`,
    );
  }
  return { results, samples, warnings };
}
