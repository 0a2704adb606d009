// The capture half of a scenario: checksum offload off and tcpdump on every segment before
// the traffic (lab/capture), then the pcaps read and judged after it (lab/analysis,
// lab/assertions): distribution from the private capture, rewrite correctness, one
// connection one server, outcomes per port, and sample packet pairs for the report.
import path from "node:path";
import type { LabBackend } from "../backend.ts";
import type { Topology } from "../topology.ts";
import { type CaptureFile, startCaptures as startTcpdumps } from "../capture/capture.ts";
import { disableChecksumOffload } from "../capture/offload.ts";
import { captureSegments } from "../capture/segments.ts";
import { readPcap } from "../analysis/read-pcap.ts";
import { type Connection, groupConnections } from "../analysis/connections.ts";
import { matchTwins, type TwinPair, type TwinResult } from "../analysis/twins.ts";
import { formatPair } from "../analysis/format.ts";
import type { Packet } from "../analysis/packet.ts";
import { assertDistribution, countConnectionsByServer } from "../assertions/distribution.ts";
import {
  assertNoPrivateAddresses,
  assertPrivateRewrite,
  assertRepliesFromVip,
  assertTwinsMatched,
  serviceClients,
} from "../assertions/rewrite.ts";
import { assertChecksums } from "../assertions/checksums.ts";
import { assertCapturesComplete } from "../assertions/capture.ts";
import { assertPayload } from "../assertions/payload.ts";
import { FTP_CONTROL_PORT } from "../../director/apps/ftp.ts";
import { assertOneServerPerConnection, assertOutcomes } from "../assertions/connections.ts";
import { firstFew, plural, verdict } from "../assertions/result.ts";
import type { ServiceSpec } from "../assertions/service.ts";
import type { CheckResult } from "./checks.ts";
import type { AssertionSpec, Scenario } from "./schema.ts";
import type { StepOutput, StepWindow } from "./steps.ts";

export interface CaptureSession {
  stop(): Promise<CaptureFile[]>;
}

/** Turns checksum offload off and starts tcpdump on each segment; pcaps go to `dir`. */
export async function startCaptures(
  backend: LabBackend,
  topology: Topology,
  dir: string,
  log: (l: string) => void,
): Promise<CaptureSession> {
  await disableChecksumOffload(backend, topology);
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
 * The client network's packets minus replies that belong to another port of the same VIP:
 * a client reuses a source port towards another virtual port (another service, a port
 * without a service that the director refuses, an FTP data port), and those replies must
 * not count as wrong replies of this service. Only exchanges the client began are set
 * aside: a reply from a port the client never called first (a port the director forgot to
 * rewrite) still counts against the service.
 */
export function withoutOtherPorts(packets: readonly Packet[], service: ServiceSpec): Packet[] {
  // "client:port vport" -> whether the client spoke first on that pair.
  const first = new Map<string, boolean>();
  for (const p of packets) {
    if (p.protocol !== service.protocol || p.srcPort === null) continue;
    if (p.dst === service.vip && p.dstPort !== service.port) {
      const k = `${p.src}:${p.srcPort} ${p.dstPort}`;
      if (!first.has(k)) first.set(k, true);
    } else if (p.src === service.vip && p.srcPort !== service.port) {
      const k = `${p.dst}:${p.dstPort} ${p.srcPort}`;
      if (!first.has(k)) first.set(k, false);
    }
  }
  return packets.filter((p) =>
    !(p.protocol === service.protocol && p.src === service.vip && p.srcPort !== service.port &&
      first.get(`${p.dst}:${p.dstPort} ${p.srcPort}`) === true)
  );
}

/**
 * A packet without its twin is a rewrite fault only if the capture saw everything: when
 * tcpdump reports it lost at least as many packets as lack a twin, they cannot be judged,
 * and the result passes saying so: its sentence starts "passed with N packets excused by
 * capture loss" and it carries excusedByCaptureLoss (JUnit shows it). A scenario with
 * capture: { complete: true } does not call this: there the loss itself fails.
 */
export function excuseCaptureLoss(r: CheckResult, lost: number): CheckResult {
  const unmatched = Number(r.data.unmatched ?? 0) + Number(r.data.unmatchedPrivate ?? 0);
  if (r.passed || lost === 0 || unmatched === 0 || unmatched > lost) return r;
  const matched = Number(r.data.matched ?? 0);
  const excused = verdict(
    r.name,
    true,
    `passed with ${plural(unmatched, "packet")} excused by capture loss: ` +
      `${plural(matched, "packet")} have their twin, ${unmatched} lack one, no more than the ` +
      `${plural(lost, "packet")} tcpdump lost (kernel drops), so they cannot be judged`,
    [r.line, ...r.details],
    { ...r.data, lostByCapture: lost, excusedByCaptureLoss: unmatched },
  );
  excused.excusedByCaptureLoss = unmatched;
  return excused;
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

/** Whether the director runs an application helper (FTP) on the service's control connections. */
export function hasPayloadHelper(s: ServiceSpec): boolean {
  return s.protocol === "tcp" && s.port === FTP_CONTROL_PORT;
}

/** The twin verdict's sentence as loose matching means it (no length or sequence numbers). */
export function looseWording(r: CheckResult): CheckResult {
  const strict = "(same IP id, client address:port, length and sequence numbers)";
  if (!r.line.includes(strict)) return r;
  const sentence = r.line.replace(/^(PASS|FAIL): /, "").replace(
    strict,
    "(same IP id and client address:port; lengths and sequence numbers differ where the " +
      "FTP helper rewrote the payload)",
  );
  return verdict(r.name, r.passed, sentence, r.details, r.data);
}

/** "client addr:port isn" of a TCP connection, "client addr:port" of a UDP flow. */
function connKey(c: Connection): string {
  return `${c.client.addr}:${c.client.port}${c.protocol === "tcp" ? ` ${c.clientIsn}` : ""}`;
}

/**
 * The private network's connections that carry the given client-network connections: NAT
 * keeps the client's address, port and initial sequence number, so a reused client port
 * towards another service is not mistaken for one of these.
 */
export function privateTwins(
  privateConns: readonly Connection[],
  publicConns: readonly Connection[],
): Connection[] {
  const keys = new Set(publicConns.map(connKey));
  const clients = new Set(publicConns.map((c) => `${c.client.addr}:${c.client.port}`));
  const protocols = new Set(publicConns.map((c) => c.protocol));
  // Packets without a SYN on the private side (a stray one sent to another server) are
  // kept by client address:port alone, so a split connection is still seen.
  return privateConns.filter((c) =>
    protocols.has(c.protocol) &&
    (keys.has(connKey(c)) ||
      (c.protocol === "tcp" && c.clientIsn === null &&
        clients.has(`${c.client.addr}:${c.client.port}`)))
  );
}

/** The client network's connections to a service. */
function connectionsOf(conns: readonly Connection[], s: ServiceSpec): Connection[] {
  return conns.filter((c) =>
    c.protocol === s.protocol && c.server.addr === s.vip && c.server.port === s.port
  );
}

/** The private packets of a service's connections, in capture order. */
function privatePacketsOf(
  privateConns: readonly Connection[],
  publicConns: readonly Connection[],
  s: ServiceSpec,
): Packet[] {
  return privateTwins(privateConns, connectionsOf(publicConns, s))
    .flatMap((c) => c.packets)
    .sort((a, b) => a.time - b.time || a.index - b.index);
}

function inWindow(c: Connection, w: StepWindow | undefined): boolean {
  if (!w) return true;
  // pcap times are seconds; allow for the client's own start-up and the last FIN.
  return c.start * 1000 >= w.startedAt - 50 && c.start * 1000 <= w.endedAt + 50;
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
  const file = (segment: string) => files.find((f) => f.segment === segment);
  const pub = file("public");
  const priv = file("private");
  if (!pub || !priv) {
    throw new Error(`the capture files of the public and private segments are missing`);
  }
  for (const f of files) {
    if (f.droppedByKernel) {
      warnings.push(`tcpdump on ${f.segment} lost ${f.droppedByKernel} packets (kernel drops)`);
    }
  }
  // Packets tcpdump itself lost on the two networks (its ring overflowed under load).
  const lost = (pub.droppedByKernel ?? 0) + (priv.droppedByKernel ?? 0);
  const publicPackets: Packet[] = (await readPcap(pub.path)).packets;
  const privatePackets: Packet[] = (await readPcap(priv.path)).packets;
  const publicConns = groupConnections(publicPackets);
  const privateConns = groupConnections(privatePackets);
  const services = serviceSpecs(scenario);
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

  const judge = (spec: AssertionSpec): CheckResult[] => {
    switch (spec.kind) {
      case "distribution": {
        if (!spec.from.includes("capture")) return [];
        const w = windows.get(spec.step);
        const name = `distribution of '${spec.step}' (private capture)`;
        if (!w) {
          return [
            verdict(name, false, `step '${spec.step}' left no record to match the capture with`),
          ];
        }
        const servers = Object.keys(spec.weights);
        const conns = privateConns.filter((c) => inWindow(c, w));
        return [assertDistribution({
          counts: countConnectionsByServer(conns, { protocol: w.protocol, servers }),
          weights: spec.weights,
          alpha: spec.significance,
          what:
            `connections to ${w.vip}:${w.vport} seen on the private network (step '${spec.step}')`,
          name,
        })];
      }
      case "rewrite": {
        const out: CheckResult[] = [
          assertNoPrivateAddresses(publicPackets),
          assertChecksums(publicPackets, "client network"),
          assertChecksums(privatePackets, "private network"),
        ];
        for (const s of used) {
          out.push(assertRepliesFromVip(withoutOtherPorts(publicPackets, s), s));
          const own = privatePacketsOf(privateConns, publicConns, s);
          out.push(assertPrivateRewrite(own, publicPackets, s));
          if (spec.twins !== false) {
            const matched = assertTwinsMatched(twinsFor(s), s);
            // Required-complete captures excuse nothing (their loss fails on its own).
            const twins = scenario.captureComplete ? matched : excuseCaptureLoss(matched, lost);
            out.push(hasPayloadHelper(s) ? looseWording(twins) : twins);
          }
        }
        return out;
      }
      case "payload":
        return assertPayload(spec.segment === "public" ? publicPackets : privatePackets, {
          present: spec.present,
          absent: spec.absent,
          min: spec.min,
          port: spec.port,
          network: spec.segment === "public" ? "client network" : "private network",
        });
      case "one-connection-one-server":
        return used.map((s) =>
          assertOneServerPerConnection(privatePacketsOf(privateConns, publicConns, s), s)
        );
      case "outcomes": {
        const vip = spec.vip ?? scenario.vip;
        const port = spec.vport;
        const min = { min: spec.minConnections };
        const expected = spec.expect === "accepted"
          ? { accepted: min, refused: 0, dropped: 0 }
          : spec.expect === "refused"
          ? { refused: min, accepted: 0, dropped: 0 }
          : { dropped: min, accepted: 0, refused: 0 };
        const out = spec.expect
          ? [assertOutcomes(publicConns, { protocol: spec.protocol, vip, port, expected })]
          : [];
        const mine = connectionsOf(publicConns, {
          protocol: spec.protocol,
          vip,
          port,
          servers: [],
        });
        const clients = new Set(mine.map((c) => `${c.client.addr}:${c.client.port}`));
        const behind = privateTwins(privateConns, mine);
        const where = `${vip}:${port}`;
        if (spec.server) {
          const reached = behind.filter((c) => `${c.server.addr}:${c.server.port}` === spec.server);
          const elsewhere = behind.filter((c) =>
            `${c.server.addr}:${c.server.port}` !== spec.server
          );
          const ok = reached.length >= spec.minConnections && elsewhere.length === 0;
          out.push(verdict(
            `connections to ${where} reach ${spec.server}`,
            ok,
            `${
              plural(reached.length, "connection")
            } to ${where} reached ${spec.server} on the private network` +
              (elsewhere.length ? `, ${elsewhere.length} went elsewhere` : "") +
              (ok ? "" : ` (expected at least ${spec.minConnections}, none elsewhere)`),
            firstFew(
              behind.map((c) =>
                `${c.client.addr}:${c.client.port} -> ${c.server.addr}:${c.server.port} (${c.outcome}: ${c.outcomeReason})`
              ),
              5,
            ),
          ));
        } else if (spec.expect && spec.expect !== "accepted") {
          out.push(verdict(
            `nothing of ${where} reaches the real servers`,
            behind.length === 0 && clients.size > 0,
            clients.size === 0
              ? `no connection to ${where} was captured on the client network`
              : behind.length === 0
              ? `none of the ${
                plural(clients.size, "connection")
              } to ${where} appears on the private network: the director answered them itself`
              : `${plural(behind.length, "connection")} to ${where} reached the private network`,
          ));
        }
        return out;
      }
      default:
        return [];
    }
  };

  const results = scenario.assertions.map(judge);
  const samples = samplePairs(twinsByVip.get(scenario.vip)?.pairs ?? []);
  if (samples.length) {
    samples.push(
      `(pcaps: ${files.map((f) => path.basename(f.path)).join(", ")}; open them in Wireshark)`,
    );
  }
  return { results, samples, warnings };
}
