// (e) lvslab in VS/DR (ipvsadm -g) on the same hosts as (d): the director sends the client's
// packet, TTL-1 only, in an Ethernet frame to the real server's MAC; the real servers hold the
// VIP on lo (the LVS DR recipe, ./direct-return.ts) and answer the client themselves. Their
// default route still points at the director host, whose kernel forwards the replies to the
// client like the DR lab's router: the director runs without --private-dev, so no policy
// route takes them into its TUN device and the lvslab process never sees them.
import type { Peer, PeerContext } from "./peer.ts";
import type { Background } from "../procs.ts";
import { VIP } from "../config.ts";
import { startLvslabDirector } from "./lvslab-director.ts";
import { checkDirectReturn, DirectReturnHosts } from "./direct-return.ts";

export interface LvslabDrOptions {
  /** More lvslab-director options (e.g. --transmit=off). */
  directorArgs?: string[];
  /** Write V8 CPU profiles (one per thread) into this directory when the director exits. */
  profileDir?: string;
}

export function lvslabDrPeer(options: LvslabDrOptions = {}): Peer {
  let proc: Background | null = null;
  const hosts = new DirectReturnHosts();
  return {
    id: "lvslab-dr",
    label: "lvslab DR",
    targets: { tcp: VIP, http: `http://${VIP}/`, udp: VIP },
    async setup(ctx: PeerContext) {
      await hosts.apply();
      proc = await startLvslabDirector(ctx, {
        method: "route",
        directorArgs: options.directorArgs,
        profileDir: options.profileDir,
        fileTag: options.profileDir ? "director-dr-profiled" : "director-dr",
      });
      await checkDirectReturn("lvslab DR", "framesSent", ctx.log);
    },
    async teardown() {
      await proc?.stop(10_000);
      proc = null;
      await hosts.undo();
    },
    directorPid: () => proc?.pid ?? null,
  };
}
