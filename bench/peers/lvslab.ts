// (d) lvslab: the userspace director with the TUN offload in VS/NAT, the same service table
// as the other peers (./lvslab-director.ts). The real servers' replies are policy-routed into
// its TUN device (--private-dev eth1). It can run with the worker's heap/GC stats on
// (LVSLAB_WORKER_STATS) and under node --cpu-prof. As "lvslab-packet" it runs with
// --nat-transmit packet (rewritten packets leave by packet sockets), so both of VS/NAT's
// ways out stand side by side in one run.
import type { Peer, PeerContext } from "./peer.ts";
import type { Background } from "../procs.ts";
import { VIP } from "../config.ts";
import { startLvslabDirector } from "./lvslab-director.ts";

export interface LvslabOptions {
  /** Append the packet worker's heap/GC samples to this file. */
  statsFile?: string;
  /** Write V8 CPU profiles (one per thread) into this directory when the director exits. */
  profileDir?: string;
  label?: string;
  /** More lvslab-director options (e.g. --transmit=off, to compare). */
  directorArgs?: string[];
}

export function lvslabPeer(options: LvslabOptions = {}): Peer {
  return {
    id: "lvslab",
    label: options.label ?? "lvslab",
    ...natPeer(options),
  };
}

/** lvslab in VS/NAT with its rewritten packets sent by packet sockets (--nat-transmit packet). */
export function lvslabPacketPeer(options: LvslabOptions = {}): Peer {
  return {
    id: "lvslab-packet",
    label: options.label ?? "lvslab (NAT by packet sockets)",
    ...natPeer(
      {
        ...options,
        directorArgs: [...(options.directorArgs ?? []), "--nat-transmit", "packet"],
      },
      "packet",
    ),
  };
}

/** What both NAT peers share; `tag` keeps their files in the work directory apart. */
function natPeer(options: LvslabOptions, tag = ""): Omit<Peer, "id" | "label"> {
  let proc: Background | null = null;
  return {
    targets: { tcp: VIP, http: `http://${VIP}/`, udp: VIP },
    async setup(ctx: PeerContext) {
      proc = await startLvslabDirector(ctx, {
        method: "masq",
        privateDev: "eth1",
        statsFile: options.statsFile,
        profileDir: options.profileDir,
        directorArgs: options.directorArgs,
        fileTag: `${options.profileDir ? "director-profiled" : "director"}${tag ? `-${tag}` : ""}`,
      });
    },
    async teardown() {
      // SIGTERM: the director removes its routes and rules and closes the TUN device.
      await proc?.stop(10_000);
      proc = null;
    },
    directorPid: () => proc?.pid ?? null,
  };
}
