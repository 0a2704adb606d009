// (c) HAProxy in TCP mode on the director (application-level load balancing, the article's
// 2.3): it accepts the client's connection on the VIP and opens its own to a real server.
// The VIP becomes a local address of the director's namespace for this peer only.
import fs from "node:fs";
import path from "node:path";
import { execIn } from "../../lab/netns/lab.ts";
import type { Peer, PeerContext } from "./peer.ts";
import { type Background, startIn } from "../procs.ts";
import { HTTP_PORT, IPERF_PORT, LAB, RS1, RS2, VIP } from "../config.ts";

/** HAProxy's configuration (pure, for the unit test). maxconn stays under the fd limit. */
export function haproxyConfig(maxconn = 8000): string {
  return `global
  maxconn ${maxconn}
defaults
  mode tcp
  timeout connect 5s
  timeout client 60s
  timeout server 60s
frontend http
  bind ${VIP}:${HTTP_PORT}
  default_backend http
backend http
  balance roundrobin
  server rs1 ${RS1}:${HTTP_PORT}
  server rs2 ${RS2}:${HTTP_PORT}
frontend iperf
  bind ${VIP}:${IPERF_PORT}
  default_backend iperf
backend iperf
  server rs1 ${RS1}:${IPERF_PORT}
`;
}

export function haproxyPeer(): Peer {
  let proc: Background | null = null;
  let vipAdded = false;
  return {
    id: "haproxy",
    label: "HAProxy (TCP mode)",
    targets: { tcp: VIP, http: `http://${VIP}/`, udp: null },
    udpNote: "HAProxy does not forward UDP",
    async setup(ctx: PeerContext) {
      const r = await execIn("director", ["ip", "addr", "add", `${VIP}/32`, "dev", "lo"], {
        name: LAB,
      });
      if (r.code !== 0) throw new Error(`adding ${VIP} to the director's lo failed: ${r.stderr}`);
      vipAdded = true;
      const file = path.join(ctx.workDir, "haproxy.cfg");
      fs.writeFileSync(file, haproxyConfig());
      proc = await startIn("director", "haproxy", ["haproxy", "-db", "-f", file], {
        logFile: path.join(ctx.workDir, "haproxy.log"),
        ready: { tcpListen: `${VIP}:${HTTP_PORT}` },
      });
    },
    async teardown() {
      await proc?.stop();
      proc = null;
      if (vipAdded) {
        await execIn("director", ["ip", "addr", "del", `${VIP}/32`, "dev", "lo"], { name: LAB });
        vipAdded = false;
      }
    },
    directorPid: () => proc?.pid ?? null,
  };
}
