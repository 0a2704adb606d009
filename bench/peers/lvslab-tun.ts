// (f) lvslab in VS/TUN (ipvsadm -i) on the same hosts as (d) and (e): the director puts the
// client's packet inside an IPIP (or GUE, or GRE) packet from its own address on the real
// servers' LAN to the real server, which the kernel routes there; a super-packet is cut into
// segments first. The real servers hold the VIP on lo (./direct-return.ts, as for DR) and,
// since this kernel has no ipip/fou/ip_gre, run lvslab-decap (realservers/tunnel-decap.ts):
// a raw socket takes the tunnel packets, a TUN device hands the inner packets to the local
// stack, which answers the client directly with the VIP as source. The replies take the
// servers' default route through the director host's kernel (the TUN lab's router), never
// the lvslab process (no --private-dev). The bench's shape is simpler than the TUN lab's
// (the director shares a LAN with the servers), but the outer packets are routed all the same.
//
// Path MTU: the links are 1500 bytes, so a full-size client segment does not fit with the
// tunnel's header; the director answers it with fragmentation needed (1480 for IPIP) and the
// client's TCP sends smaller segments, as a client of a real VS/TUN service would. The route
// exception that leaves in the client is flushed in teardown, so no later peer inherits it.
import path from "node:path";
import type { Peer, PeerContext } from "./peer.ts";
import { type Background, startIn } from "../procs.ts";
import { DIRECTOR_PRIVATE, VIP } from "../config.ts";
import { BENCH_GUE_PORT, START_TIMEOUT_MS, startLvslabDirector } from "./lvslab-director.ts";
import {
  checkDirectReturn,
  DirectReturnHosts,
  mustExec,
  REAL_SERVER_HOSTS,
} from "./direct-return.ts";
import { REPO_ROOT } from "../../lab/paths.ts";
import { READY_LINES } from "../../director/ready-lines.ts";
import type { TunnelType } from "../../director/service/tunnel-options.ts";

export interface LvslabTunOptions {
  /** The encapsulation (ipvsadm --tun-type); default ipip. */
  tunType?: TunnelType;
  /** More lvslab-director options (e.g. --transmit=off). */
  directorArgs?: string[];
  /** Write V8 CPU profiles (one per thread, the decapsulators' too) here when they exit. */
  profileDir?: string;
}

/** lvslab-decap's command line for a real server of the bench (pure, for the unit test). */
export function decapArgv(tunType: TunnelType, statsFile: string, profileDir?: string): string[] {
  return [
    process.execPath,
    ...(profileDir ? ["--cpu-prof", "--cpu-prof-dir", profileDir] : []),
    "--import",
    "tsx",
    path.join(REPO_ROOT, "realservers", "tunnel-decap.ts"),
    "--director",
    DIRECTOR_PRIVATE,
    "--type",
    tunType,
    ...(tunType === "gue" ? ["--gue-port", String(BENCH_GUE_PORT)] : []),
    "--vip",
    VIP,
    "--stats-file",
    statsFile,
  ];
}

/** The peer's label: the encapsulation named unless it is IPIP, the default. */
export function tunLabel(tunType: TunnelType): string {
  return tunType === "ipip" ? "lvslab TUN" : `lvslab TUN (${tunType.toUpperCase()})`;
}

export function lvslabTunPeer(options: LvslabTunOptions = {}): Peer {
  const tunType = options.tunType ?? "ipip";
  const label = tunLabel(tunType);
  let proc: Background | null = null;
  const decaps = new Map<string, Background>();
  const hosts = new DirectReturnHosts();
  return {
    id: "lvslab-tun",
    label,
    targets: { tcp: VIP, http: `http://${VIP}/`, udp: VIP },
    async setup(ctx: PeerContext) {
      await hosts.apply();
      const tag = options.profileDir ? "-profiled" : "";
      for (const host of REAL_SERVER_HOSTS) {
        const stats = path.join(ctx.workDir, `${host}-decap${tag}.json`);
        decaps.set(
          host,
          await startIn(
            host,
            `lvslab-decap (${host})`,
            decapArgv(tunType, stats, options.profileDir),
            {
              logFile: path.join(ctx.workDir, `${host}-decap${tag}.log`),
              ready: { text: READY_LINES.decapsulator },
              timeoutMs: START_TIMEOUT_MS,
              cwd: REPO_ROOT,
            },
          ),
        );
      }
      proc = await startLvslabDirector(ctx, {
        method: "tunnel",
        tunType,
        directorArgs: options.directorArgs,
        profileDir: options.profileDir,
        fileTag: `director-tun${tag}`,
      });
      await checkDirectReturn(label, "tunnelPacketsSent", ctx.log);
    },
    async teardown() {
      await proc?.stop(10_000);
      proc = null;
      // SIGTERM: each decapsulator puts back the rp_filter it changed and closes its device.
      for (const [host, decap] of [...decaps]) {
        await decap.stop(10_000);
        decaps.delete(host);
      }
      await hosts.undo();
      await mustExec("client", ["ip", "-4", "route", "flush", "cache"]);
    },
    directorPid: () => proc?.pid ?? null,
    decapsulatorPid: () => decaps.get("rs1")?.pid ?? null,
  };
}
