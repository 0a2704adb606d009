// bench/peers/: the compared setups, one file each (kernel forwarding, nftables DNAT, HAProxy,
// lvslab in VS/NAT, VS/DR and VS/TUN) behind this interface; a new peer is a file here and an
// entry in bench/main.ts's peer list.
//
// What every compared setup offers the metrics: where to send each kind of traffic, how to
// bring the setup up and undo it, and whose CPU time counts as "the director's".
import type { PeerId } from "../types.ts";

export interface PeerTargets {
  /** Address of the iperf3 service (TCP bulk). */
  tcp: string;
  /** URL for the HTTP connection-rate load. */
  http: string;
  /** Address of the UDP service, or null when the peer cannot forward UDP. */
  udp: string | null;
}

export interface PeerContext {
  /** Scratch directory for config files and logs of this run. */
  workDir: string;
  log: (line: string) => void;
}

export interface Peer {
  readonly id: PeerId;
  readonly label: string;
  readonly targets: PeerTargets;
  /** Why UDP is not measured (when targets.udp is null). */
  readonly udpNote?: string;
  setup(ctx: PeerContext): Promise<void>;
  /** Undoes everything setup() did; safe to call after a failed or skipped setup. */
  teardown(): Promise<void>;
  /** PID whose utime+stime is the director's CPU time, or null for the kernel's own paths. */
  directorPid(): number | null;
  /**
   * VS/TUN: PID of the decapsulator on rs1 (the bulk TCP server's host), whose CPU time is
   * what decapsulation costs the real server; absent where packets arrive as they are.
   */
  decapsulatorPid?(): number | null;
}
