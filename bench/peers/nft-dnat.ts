// (b) Kernel load balancing with nftables DNAT in the director's namespace: HTTP alternates
// over both real servers (numgen inc mod 2), iperf3 TCP and UDP go to rs1. DNAT happens in
// prerouting, before the routing decision, so the VIP needs no route or address.
import fs from "node:fs";
import path from "node:path";
import { execIn } from "../../lab/netns/lab.ts";
import type { Peer, PeerContext } from "./peer.ts";
import { HTTP_PORT, IPERF_PORT, LAB, RS1, RS2, VIP } from "../config.ts";

const TABLE = "lvsbench";

/** The nft script (pure, for the unit test). */
export function nftDnatRuleset(): string {
  return `table ip ${TABLE} {
  chain prerouting {
    type nat hook prerouting priority dstnat; policy accept;
    ip daddr ${VIP} tcp dport ${HTTP_PORT} dnat to numgen inc mod 2 map { 0 : ${RS1}, 1 : ${RS2} }
    ip daddr ${VIP} tcp dport ${IPERF_PORT} dnat to ${RS1}
    ip daddr ${VIP} udp dport ${IPERF_PORT} dnat to ${RS1}
  }
}
`;
}

export function nftDnatPeer(): Peer {
  let loaded = false;
  return {
    id: "nft",
    label: "nftables DNAT",
    targets: { tcp: VIP, http: `http://${VIP}/`, udp: VIP },
    async setup(ctx: PeerContext) {
      const file = path.join(ctx.workDir, "nft-dnat.nft");
      fs.writeFileSync(file, nftDnatRuleset());
      const r = await execIn("director", ["nft", "-f", file], { name: LAB });
      if (r.code !== 0) throw new Error(`nft -f ${file} failed: ${(r.stderr || r.stdout).trim()}`);
      loaded = true;
    },
    async teardown() {
      if (!loaded) return;
      const r = await execIn("director", ["nft", "delete", "table", "ip", TABLE], { name: LAB });
      if (r.code !== 0) throw new Error(`nft delete table failed: ${r.stderr.trim()}`);
      loaded = false;
    },
    directorPid: () => null,
  };
}
