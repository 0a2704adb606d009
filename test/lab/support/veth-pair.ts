// Two network namespaces joined by one veth, for the lab tests of director/net/: A and B
// with an address each on 172.16.<subnet>.0/24, IPv6 off (quiet counters). Everything
// carries the caller's prefix; remove() deletes exactly what create() made.
import { ip, mustRun, netnsExec, runSync } from "../../../lab/netns/command.ts";

export interface VethPair {
  /** Namespace names. */
  a: string;
  b: string;
  /** Interface names (A's end, B's end). */
  devA: string;
  devB: string;
  addrA: string;
  addrB: string;
  /** B's MAC as the kernel prints it. */
  macB: string;
  macA: string;
  /** argv run inside a namespace. */
  exec(ns: string, argv: string[]): string;
  remove(): void;
}

/** Creates `<prefix>-a` and `<prefix>-b` (any left from a crashed run go first). */
export function createVethPair(prefix: string, subnet: number): VethPair {
  const a = `${prefix}-a`;
  const b = `${prefix}-b`;
  const devA = `${prefix}a0`;
  const devB = `${prefix}b0`;
  const remove = () => {
    for (const ns of [a, b]) runSync(["ip", "netns", "del", ns]);
  };
  remove();
  mustRun(["ip", "netns", "add", a]);
  mustRun(["ip", "netns", "add", b]);
  try {
    ip(["link", "add", devA, "type", "veth", "peer", "name", devB, "netns", b], a);
    const addrA = `172.16.${subnet}.1`;
    const addrB = `172.16.${subnet}.2`;
    for (const [ns, dev, addr] of [[a, devA, addrA], [b, devB, addrB]]) {
      mustRun([
        "ip",
        "netns",
        "exec",
        ns,
        "sysctl",
        "-qw",
        "net.ipv6.conf.all.disable_ipv6=1",
        "net.ipv6.conf.default.disable_ipv6=1",
      ]);
      ip(["link", "set", "lo", "up"], ns);
      ip(["addr", "add", `${addr}/24`, "dev", dev], ns);
      ip(["link", "set", dev, "up"], ns);
    }
    const exec = (ns: string, argv: string[]) => mustRun(netnsExec(ns, argv));
    const mac = (ns: string, dev: string) =>
      exec(ns, ["cat", `/sys/class/net/${dev}/address`]).trim();
    return {
      a,
      b,
      devA,
      devB,
      addrA,
      addrB,
      macA: mac(a, devA),
      macB: mac(b, devB),
      exec,
      remove,
    };
  } catch (err) {
    remove();
    throw err;
  }
}
