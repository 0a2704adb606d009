// (e) lvslab in VS/DR (ipvsadm -g) on the same hosts as (d): the director sends the client's
// packet, TTL-1 only, in an Ethernet frame to the real server's MAC; the real servers hold the
// VIP on lo (the LVS DR recipe: arp_ignore=1 and arp_announce=2 so only the director's side
// of the LAN is ever found by ARP, rp_filter 0) and answer the client themselves. Their
// default route still points at the director host, whose kernel forwards the replies to the
// client like the DR lab's router: the director runs without --private-dev, so no policy
// route takes them into its TUN device and the lvslab process never sees them.
import { execIn } from "../../lab/netns/lab.ts";
import type { Peer, PeerContext } from "./peer.ts";
import type { Background } from "../procs.ts";
import { LAB, VIP } from "../config.ts";
import { SysctlChanges } from "../sysctl-changes.ts";
import { startLvslabDirector } from "./lvslab-director.ts";

const REAL_SERVER_HOSTS = ["rs1", "rs2"] as const;

/** The DR recipe's settings on each real server (eth0 faces the director's LAN). */
export const DR_REAL_SERVER_SYSCTLS: Record<string, string> = {
  "net.ipv4.conf.all.arp_ignore": "1",
  "net.ipv4.conf.all.arp_announce": "2",
  "net.ipv4.conf.all.rp_filter": "0",
  "net.ipv4.conf.eth0.rp_filter": "0",
};

/**
 * The director host's: the replies arrive on eth1 with source VIP, whose route points into
 * the TUN device while the director runs, so strict reverse-path filtering (1) would drop
 * them. The director itself sets all/default/TUN to 0 but eth1 only with --private-dev; the
 * lab's namespaces start at 0, so this changes nothing there unless a host default differs.
 */
export const DR_DIRECTOR_SYSCTLS: Record<string, string> = {
  "net.ipv4.conf.eth1.rp_filter": "0",
};

export interface LvslabDrOptions {
  /** More lvslab-director options (e.g. --transmit=off). */
  directorArgs?: string[];
  /** Write V8 CPU profiles (one per thread) into this directory when the director exits. */
  profileDir?: string;
}

async function mustExec(host: string, argv: string[]): Promise<string> {
  const r = await execIn(host, argv, { name: LAB, timeoutMs: 20_000 });
  if (r.code !== 0) {
    throw new Error(`'${argv.join(" ")}' in ${host} failed: ${(r.stderr || r.stdout).trim()}`);
  }
  return r.stdout;
}

/**
 * Before measuring: two requests through the VIP answered (one by each real server, rr), and
 * the director's counters show VS/DR frames sent and no packet of the servers' direction.
 */
async function checkDirectReturn(log: (line: string) => void): Promise<void> {
  const answers: string[] = [];
  for (let i = 0; i < 2; i++) {
    const out = await mustExec("client", ["curl", "-sS", "--max-time", "5", `http://${VIP}/`]);
    answers.push(out.trim());
  }
  const stats = JSON.parse(await mustExec("director", ["lvs-stats", "--json"])) as {
    framesSent: number;
    totals: { outpkts: number };
  };
  if (answers.slice().sort().join(",") !== "rs1,rs2") {
    throw new Error(`requests to ${VIP} through VS/DR were answered by ${answers.join(", ")}`);
  }
  if (stats.framesSent === 0 || stats.totals.outpkts !== 0) {
    throw new Error(
      `VS/DR check: ${stats.framesSent} frames sent, ${stats.totals.outpkts} outgoing packets ` +
        "through the engine (want frames and no outgoing packets)",
    );
  }
  log(
    `  lvslab DR: ${VIP} answered by ${answers.join(" and ")}; ${stats.framesSent} frames ` +
      "sent, no outgoing packets through the engine",
  );
}

export function lvslabDrPeer(options: LvslabDrOptions = {}): Peer {
  let proc: Background | null = null;
  const sysctls = new SysctlChanges();
  const vipOn = new Set<string>();
  return {
    id: "lvslab-dr",
    label: "lvslab DR",
    targets: { tcp: VIP, http: `http://${VIP}/`, udp: VIP },
    async setup(ctx: PeerContext) {
      for (const host of REAL_SERVER_HOSTS) {
        await sysctls.set(host, DR_REAL_SERVER_SYSCTLS);
        await mustExec(host, ["ip", "addr", "add", `${VIP}/32`, "dev", "lo"]);
        vipOn.add(host);
      }
      await sysctls.set("director", DR_DIRECTOR_SYSCTLS);
      proc = await startLvslabDirector(ctx, {
        method: "route",
        directorArgs: options.directorArgs,
        profileDir: options.profileDir,
        fileTag: options.profileDir ? "director-dr-profiled" : "director-dr",
      });
      await checkDirectReturn(ctx.log);
    },
    async teardown() {
      await proc?.stop(10_000);
      proc = null;
      for (const host of [...vipOn]) {
        await mustExec(host, ["ip", "addr", "del", `${VIP}/32`, "dev", "lo"]);
        vipOn.delete(host);
      }
      await sysctls.restore();
    },
    directorPid: () => proc?.pid ?? null,
  };
}
