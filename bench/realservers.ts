// The real servers' programs for the whole run, shared by every peer: nginx on both real
// servers (HTTP on :80, a fixed short answer) and an iperf3 server on rs1 (:5201, TCP and UDP).
// Each also listens on the VIP, for the VS/DR peer (packets arrive addressed to the VIP, which
// is on the servers' lo only while that peer runs): ip_nonlocal_bind lets them bind it from the
// start. UDP needs a server bound to the VIP itself (a wildcard-bound iperf3 would answer from
// the server's own address), so rs1 runs a second iperf3 server for it.
import fs from "node:fs";
import path from "node:path";
import { type Background, startIn } from "./procs.ts";
import { HTTP_PORT, IPERF_PORT, LAB, RS1, RS2, VIP } from "./config.ts";
import { setSysctls } from "../lab/netns/namespaces.ts";
import { namespaceName } from "../lab/topology.ts";

/**
 * nginx configuration for one real server (pure, for the unit test); `extraPorts` are more
 * ports on its own address (the scaling bench's real servers beyond the first two).
 */
export function nginxConfig(
  name: string,
  addr: string,
  dir: string,
  extraPorts: number[] = [],
): string {
  const tmp = (what: string) => path.join(dir, `nginx-${name}-${what}`);
  return `worker_processes 1;
pid ${tmp("pid")};
error_log ${tmp("error.log")} warn;
daemon off;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${tmp("body")};
  proxy_temp_path ${tmp("proxy")};
  fastcgi_temp_path ${tmp("fastcgi")};
  uwsgi_temp_path ${tmp("uwsgi")};
  scgi_temp_path ${tmp("scgi")};
  server {
    listen ${addr}:${HTTP_PORT} backlog=4096;
    listen ${VIP}:${HTTP_PORT} backlog=4096;
${
    extraPorts.map((port) => `    listen ${addr}:${port} backlog=4096;\n`).join("")
  }    location / { return 200 "${name}\\n"; }
  }
}
`;
}

/** An iperf3 server on rs1 bound to one address. */
function startIperf3(workDir: string, addr: string, tag: string): Promise<Background> {
  return startIn("rs1", `iperf3 server (${addr})`, [
    "iperf3",
    "-s",
    "--forceflush",
    "-B",
    addr,
    "-p",
    String(IPERF_PORT),
  ], {
    logFile: path.join(workDir, `iperf3-server${tag}.log`),
    ready: { text: "Server listening" },
  });
}

export interface RealServerPrograms {
  all: Background[];
  /** rs1's iperf3 servers (its own address and the VIP): the bulk TCP receivers. */
  iperf3: Background[];
}

/** nginx on each real server (also on `extraPorts`) and rs1's iperf3 servers. */
export async function startRealServers(
  workDir: string,
  extraPorts: number[] = [],
): Promise<RealServerPrograms> {
  const started: Background[] = [];
  try {
    for (const [host, addr] of [["rs1", RS1], ["rs2", RS2]] as const) {
      setSysctls(namespaceName(LAB, host), { "net.ipv4.ip_nonlocal_bind": "1" });
      const conf = path.join(workDir, `nginx-${host}.conf`);
      fs.writeFileSync(conf, nginxConfig(host, addr, workDir, extraPorts));
      started.push(
        await startIn(host, `nginx (${host})`, [
          "nginx",
          "-c",
          conf,
          "-e",
          path.join(workDir, `nginx-${host}-error.log`),
        ], {
          logFile: path.join(workDir, `nginx-${host}.log`),
          ready: { tcpListen: `${addr}:${HTTP_PORT}` },
        }),
      );
    }
    const iperf3: Background[] = [];
    for (const [addr, tag] of [[RS1, ""], [VIP, "-vip"]]) {
      iperf3.push(await startIperf3(workDir, addr, tag));
      started.push(iperf3.at(-1)!);
    }
    return { all: started, iperf3 };
  } catch (err) {
    await Promise.all(started.map((p) => p.stop()));
    throw err;
  }
}
