// What the decapsulator changes in its host's network stack, recorded so SIGTERM/SIGINT
// undo exactly that: the TUN device up (it vanishes when its fd closes), IPv6 off on it,
// and reverse-path filtering off for packets injected through it.
//
// Why rp_filter: an injected packet's source is the client, reached through another device
// (the LAN), so strict mode (1) drops it, and loose mode (2) drops it too while the TUN
// device has no IPv4 address (the kernel's __fib_validate_source, measured in
// research/wave2-forwarding.md §4.4). The effective value is max(all, <dev>), so the TUN's
// own 0 is not enough while `all` is above 0. Lowering `all` would silently lower every
// interface that relied on it; so each interface (and `default`, for interfaces made later)
// whose own value is below the old `all` first gets that value, keeping its effective
// filtering as it was, and only then `all` goes to 0. The VIP and ARP settings stay the
// LVS-TUN recipe's (VIP/32 on lo, arp_ignore=1, arp_announce=2): the operator's, not ours.
import { execFileSync } from "node:child_process";
import fs from "node:fs";

const CONF = "/proc/sys/net/ipv4/conf";

export interface SysctlChange {
  /** e.g. "net.ipv4.conf.all.rp_filter" */
  key: string;
  from: string;
  to: string;
}

/**
 * The rp_filter writes, in order, for current values by device name ("all", "default" and
 * each interface): if `all` is above 0, every other device below it up to it, then `all` to
 * 0; the TUN device to 0 last, always. A write to `default` also reaches every device whose
 * value was never written (devinet_copy_dflt_conf), the new TUN device among them: its own
 * explicit write comes after. Undoing runs the list backwards.
 */
export function planRpFilter(current: ReadonlyMap<string, number>, tun: string): SysctlChange[] {
  const key = (dev: string) => `net.ipv4.conf.${dev}.rp_filter`;
  const changes: SysctlChange[] = [];
  const all = current.get("all") ?? 0;
  if (all !== 0) {
    for (const [dev, value] of [...current].sort(([a], [b]) => a.localeCompare(b))) {
      if (dev === "all" || dev === tun || value >= all) continue;
      changes.push({ key: key(dev), from: String(value), to: String(all) });
    }
    changes.push({ key: key("all"), from: String(all), to: "0" });
  }
  changes.push({ key: key(tun), from: String(current.get(tun) ?? 0), to: "0" });
  return changes;
}

/** rp_filter of every device in this network namespace. */
export function readRpFilters(): Map<string, number> {
  const values = new Map<string, number>();
  for (const dev of fs.readdirSync(CONF)) {
    try {
      values.set(dev, Number(fs.readFileSync(`${CONF}/${dev}/rp_filter`, "utf8").trim()));
    } catch {
      // A device that went away meanwhile.
    }
  }
  return values;
}

function sysctlPath(key: string): string {
  return `/proc/sys/${key.replaceAll(".", "/")}`;
}

/**
 * Writes a setting unless it has the value already: in a container /proc/sys is read-only,
 * and the container's own sysctls (the Compose lab's default.rp_filter 0, disable_ipv6 1)
 * already give the new device what it needs.
 */
function writeIfDifferent(file: string, value: string): void {
  if (fs.readFileSync(file, "utf8").trim() !== value) fs.writeFileSync(file, value);
}

export class DecapHostSetup {
  /** The changes made, in order (printed at start, undone at exit). */
  readonly changes: SysctlChange[] = [];

  constructor(private readonly tun: string) {}

  /** Brings the TUN device up, IPv6 off on it, rp_filter as planRpFilter says. */
  apply(): void {
    try {
      execFileSync("ip", ["link", "set", this.tun, "up"], { stdio: ["ignore", "ignore", "pipe"] });
    } catch (err) {
      const stderr = String((err as { stderr?: Buffer }).stderr ?? "").trim();
      throw new Error(`cannot bring ${this.tun} up: ${stderr || (err as Error).message}`);
    }
    // No router solicitations into a device nobody reads (a per-device setting: it goes
    // with the device).
    const v6 = `/proc/sys/net/ipv6/conf/${this.tun}/disable_ipv6`;
    if (fs.existsSync(v6)) writeIfDifferent(v6, "1");
    for (const change of planRpFilter(readRpFilters(), this.tun)) {
      writeIfDifferent(sysctlPath(change.key), change.to);
      this.changes.push(change);
    }
  }

  /** Puts every recorded value back, last change first; the TUN device's own goes with it. */
  undo(): void {
    const tunKey = `net.ipv4.conf.${this.tun}.`;
    while (this.changes.length > 0) {
      const change = this.changes.pop()!;
      if (change.key.startsWith(tunKey)) continue;
      try {
        fs.writeFileSync(sysctlPath(change.key), change.from);
      } catch {
        // An interface removed while we ran: nothing to restore.
      }
    }
  }
}
