// director/config/: the YAML config file and its translation into ipvsadm commands
// (config-commands.ts).
//
// The director's declarative config file: the article's service table as YAML. The whole
// file is validated before anything is applied, and every error names the file, the
// entry and what is wrong, so a bad file never half-applies.
import fs from "node:fs";
import YAML from "yaml";
import { z } from "zod";
import { DEFAULT_SCHEDULER, isSchedulerName, SCHEDULER_NAMES } from "../schedulers/index.ts";
import { FORWARD_METHOD_NAMES } from "../forwarding/method-names.ts";
import { SYSCTL_NAMES } from "../sysctl/settings.ts";
import { TUNNEL_CHECKSUMS, TUNNEL_TYPES } from "../service/tunnel-options.ts";

const ipv4 = z.ipv4({ message: "must be an IPv4 address like 203.0.113.5" });
const port = z.number().int().min(1).max(65535);

const serverSchema = z.strictObject({
  address: ipv4,
  port: port.optional(),
  weight: z.number().int().min(0).max(65535).default(1),
  method: z.enum(FORWARD_METHOD_NAMES).default("masq"),
  upper: z.number().int().min(0).default(0),
  lower: z.number().int().min(0).default(0),
  /** method: tunnel only (ipvsadm --tun-type); default ipip. */
  tunType: z.enum(TUNNEL_TYPES).optional(),
  /** tunType: gue only, and required there (ipvsadm --tun-port). */
  tunPort: port.optional(),
  /** tunType gue (any) or gre (nocsum, csum) (ipvsadm --tun-nocsum/--tun-csum/--tun-remcsum). */
  tunChecksum: z.enum(TUNNEL_CHECKSUMS).optional(),
});

const serviceSchema = z.strictObject({
  protocol: z.enum(["tcp", "udp"]),
  address: ipv4,
  port,
  scheduler: z.string().default(DEFAULT_SCHEDULER),
  flags: z.array(z.string()).default([]),
  /** Persistence timeout in seconds (ipvsadm -p); absent means not persistent. */
  persistent: z.number().int().min(1).optional(),
  netmask: ipv4.default("255.255.255.255"),
  servers: z.array(serverSchema).default([]),
});

export const configSchema = z.strictObject({
  /** Maximum number of connection entries (the table's hard limit). */
  maxConnections: z.number().int().min(16).max(16_777_216).default(1_048_576),
  timeouts: z.strictObject({
    tcp: z.number().int().min(1).optional(),
    tcpfin: z.number().int().min(1).optional(),
    udp: z.number().int().min(1).optional(),
  }).default({}),
  /** IPVS's secure_tcp defence: stricter state transitions. */
  secureTcp: z.boolean().default(false),
  /** net.ipv4.vs.* settings (director/sysctl/settings.ts), e.g. expire_nodest_conn: 1. */
  // partialRecord: zod 4's record over an enum wants every key; a config names only some.
  sysctl: z.partialRecord(
    z.enum(SYSCTL_NAMES as [string, ...string[]]),
    z.union([z.literal(0), z.literal(1)]),
  ).default({}),
  services: z.array(serviceSchema).default([]),
});

export type ServerConfig = z.infer<typeof serverSchema>;
export type ServiceConfig = z.infer<typeof serviceSchema>;
export type DirectorConfig = z.infer<typeof configSchema>;

/** Describes where in the file an issue is, using the service's own address when known. */
function describePath(raw: unknown, path: PropertyKey[]): string {
  const parts: string[] = [];
  let node: unknown = raw;
  for (const key of path) {
    if (typeof key === "number") {
      parts.push(`[${key}]`);
      const item = Array.isArray(node) ? node[key] : undefined;
      if (item && typeof item === "object" && "address" in item && parts.length <= 2) {
        const entry = item as Record<string, unknown>;
        const where = [entry.protocol, `${entry.address}:${entry.port ?? ""}`].filter(Boolean);
        parts.push(` (${where.join(" ").replace(/:$/, "")})`);
      }
    } else {
      parts.push(parts.length === 0 ? String(key) : `.${String(key)}`);
    }
    node = node && typeof node === "object"
      ? (node as Record<PropertyKey, unknown>)[key as string]
      : undefined;
  }
  return parts.join("") || "(top level)";
}

/**
 * What is wrong with a server's tunnel settings, as a sentence, or null: ipvsadm 1.31's
 * rules (tunnel_types_v_options) — only tunnel servers take them, gue needs a port, ipip
 * takes neither port nor checksum, gre no port and no remote checksum.
 */
export function tunnelSettingsProblem(server: ServerConfig): string | null {
  const given = (["tunType", "tunPort", "tunChecksum"] as const).filter((k) =>
    server[k] !== undefined
  );
  if (server.method !== "tunnel") {
    return given.length === 0
      ? null
      : `${given.join(", ")} only apply to method: tunnel, not method: ${server.method}`;
  }
  const type = server.tunType ?? "ipip";
  if (type === "gue") {
    return server.tunPort === undefined
      ? "tunType: gue needs tunPort, the real server's GUE (UDP) port"
      : null;
  }
  if (type === "ipip" && (server.tunPort !== undefined || server.tunChecksum !== undefined)) {
    return "tunType: ipip takes no tunPort and no tunChecksum (only gue and gre do)";
  }
  if (type === "gre" && server.tunPort !== undefined) {
    return "tunType: gre takes no tunPort (only gue does)";
  }
  if (type === "gre" && server.tunChecksum === "remcsum") {
    return "tunChecksum: remcsum is for tunType: gue only; gre takes nocsum or csum";
  }
  return null;
}

/** Parses and validates config text; throws one Error listing every problem. */
export function parseDirectorConfig(text: string, fileName: string): DirectorConfig {
  let raw: unknown;
  try {
    raw = YAML.parse(text) ?? {};
  } catch (err) {
    throw new Error(`${fileName}: not valid YAML: ${(err as Error).message}`);
  }
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    const lines = result.error.issues.map((issue) =>
      `${fileName}: ${describePath(raw, issue.path)}: ${issue.message}`
    );
    throw new Error(lines.join("\n"));
  }
  const config = result.data;
  const problems: string[] = [];
  const seen = new Set<string>();
  config.services.forEach((svc, i) => {
    const id = `${svc.protocol} ${svc.address}:${svc.port}`;
    if (seen.has(id)) problems.push(`${fileName}: services[${i}] (${id}): service defined twice`);
    seen.add(id);
    if (!isSchedulerName(svc.scheduler)) {
      problems.push(
        `${fileName}: services[${i}] (${id}): unknown scheduler '${svc.scheduler}'; use one of ${
          SCHEDULER_NAMES.join(", ")
        }`,
      );
    }
    const servers = new Set<string>();
    svc.servers.forEach((server, j) => {
      const sid = `${server.address}:${server.port ?? svc.port}`;
      if (servers.has(sid)) {
        problems.push(`${fileName}: services[${i}] (${id}).servers[${j}]: ${sid} listed twice`);
      }
      servers.add(sid);
      const tunnelProblem = tunnelSettingsProblem(server);
      if (tunnelProblem !== null) {
        problems.push(`${fileName}: services[${i}] (${id}).servers[${j}]: ${tunnelProblem}`);
      }
      if (server.method !== "masq" && server.port !== undefined && server.port !== svc.port) {
        // ipvsadm gives -g and -i servers the service's port itself (process_options): the
        // packet reaches them unchanged, so no other port can be meant.
        problems.push(
          `${fileName}: services[${i}] (${id}).servers[${j}]: method ${server.method} cannot change the port: ` +
            `the real server must listen on the service's port ${svc.port}, not ${server.port} (only masq maps ports)`,
        );
      }
      if (server.upper && server.lower > server.upper) {
        problems.push(
          `${fileName}: services[${i}] (${id}).servers[${j}]: lower threshold ${server.lower} is above upper threshold ${server.upper}`,
        );
      }
    });
  });
  if (problems.length > 0) throw new Error(problems.join("\n"));
  return config;
}

export function loadDirectorConfig(fileName: string): DirectorConfig {
  let text: string;
  try {
    text = fs.readFileSync(fileName, "utf8");
  } catch (err) {
    throw new Error(`cannot read config file ${fileName}: ${(err as Error).message}`);
  }
  return parseDirectorConfig(text, fileName);
}
