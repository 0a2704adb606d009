// What the lvslab peers whose real servers answer the client themselves (VS/DR and VS/TUN)
// share: the VIP on each real server's lo with the LVS recipe's sysctls (arp_ignore=1 and
// arp_announce=2 so only the director is ever found by ARP for it, rp_filter 0), the director
// host's rp_filter on the servers' side, and the check before measuring that the director
// forwards and never sees a reply.
import { execIn } from "../../lab/netns/lab.ts";
import { LAB, VIP } from "../config.ts";
import { SysctlChanges } from "../sysctl-changes.ts";

export const REAL_SERVER_HOSTS = ["rs1", "rs2"] as const;

/** The DR and TUN recipes' settings on each real server (eth0 faces the director's LAN). */
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

export async function mustExec(host: string, argv: string[]): Promise<string> {
  const r = await execIn(host, argv, { name: LAB, timeoutMs: 20_000 });
  if (r.code !== 0) {
    throw new Error(`'${argv.join(" ")}' in ${host} failed: ${(r.stderr || r.stdout).trim()}`);
  }
  return r.stdout;
}

/** The VIP on both real servers' lo and the sysctls above; undo() puts every host back. */
export class DirectReturnHosts {
  private readonly sysctls = new SysctlChanges();
  private readonly vipOn = new Set<string>();

  async apply(): Promise<void> {
    for (const host of REAL_SERVER_HOSTS) {
      await this.sysctls.set(host, DR_REAL_SERVER_SYSCTLS);
      await mustExec(host, ["ip", "addr", "add", `${VIP}/32`, "dev", "lo"]);
      this.vipOn.add(host);
    }
    await this.sysctls.set("director", DR_DIRECTOR_SYSCTLS);
  }

  async undo(): Promise<void> {
    for (const host of [...this.vipOn]) {
      await mustExec(host, ["ip", "addr", "del", `${VIP}/32`, "dev", "lo"]);
      this.vipOn.delete(host);
    }
    await this.sysctls.restore();
  }
}

/** The lvs-stats counter of packets a method sends past the TUN device. */
export type SentCounter = "framesSent" | "tunnelPacketsSent";

/**
 * Before measuring: two requests through the VIP answered (one by each real server, rr), and
 * the director's counters show packets sent by the method and none of the servers' direction.
 */
export async function checkDirectReturn(
  label: string,
  counter: SentCounter,
  log: (line: string) => void,
): Promise<void> {
  const answers: string[] = [];
  for (let i = 0; i < 2; i++) {
    const out = await mustExec("client", ["curl", "-sS", "--max-time", "5", `http://${VIP}/`]);
    answers.push(out.trim());
  }
  const stats = JSON.parse(await mustExec("director", ["lvs-stats", "--json"])) as
    & Record<SentCounter, number>
    & { totals: { outpkts: number } };
  if (answers.slice().sort().join(",") !== "rs1,rs2") {
    throw new Error(`requests to ${VIP} through ${label} were answered by ${answers.join(", ")}`);
  }
  if (stats[counter] === 0 || stats.totals.outpkts !== 0) {
    throw new Error(
      `${label} check: ${stats[counter]} ${counter}, ${stats.totals.outpkts} outgoing packets ` +
        "through the engine (want packets sent and no outgoing packets)",
    );
  }
  log(
    `  ${label}: ${VIP} answered by ${answers.join(" and ")}; ${stats[counter]} ${counter}, ` +
      "no outgoing packets through the engine",
  );
}
