// Configures the director's own host (the network namespace it runs in) so the kernel
// hands it the right packets: each VIP routed into the TUN device, replies from the real
// servers' network policy-routed into it, forwarding on, reverse-path filtering off where
// packets re-enter from the TUN device with the client's or VIP's source address.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import { formatIPv4 } from "../net/ipv4-address.ts";
import { setReceiveSteering } from "./rps.ts";

export interface HostSetupOptions {
  tunName: string;
  /** Interface facing the real servers (its replies go into the TUN device); optional. */
  privateDev?: string;
  /** Routing table and rule priority used for the replies' policy route. */
  table: number;
  rulePriority: number;
  /** Receive packet steering for the TUN device (a CPU mask); unset: left as the kernel has it. */
  rpsCpus?: string;
}

function ip(args: string[]): void {
  try {
    execFileSync("ip", args, { stdio: ["ignore", "ignore", "pipe"] });
  } catch (err) {
    const stderr = String((err as { stderr?: Buffer }).stderr ?? "").trim();
    throw new Error(`'ip ${args.join(" ")}' failed: ${stderr || (err as Error).message}`);
  }
}

function ipQuiet(args: string[]): void {
  try {
    execFileSync("ip", args, { stdio: "ignore" });
  } catch {
    // Teardown of something already gone is fine.
  }
}

/**
 * Sets a kernel setting unless it already has that value: in a container /proc/sys is
 * read-only and the container's own sysctls (compose.yaml) are already what is needed.
 */
function writeSysctl(key: string, value: string): void {
  const file = `/proc/sys/${key.replaceAll(".", "/")}`;
  try {
    if (fs.readFileSync(file, "utf8").trim() === value) return;
  } catch {
    // Unreadable: the write below says what is wrong.
  }
  fs.writeFileSync(file, value);
}

export class HostSetup {
  private readonly routedVips = new Set<number>();
  private ruleAdded = false;

  constructor(private readonly options: HostSetupOptions) {}

  /** Brings the TUN device up and installs forwarding, sysctls and the reply route. */
  apply(): void {
    const { tunName, privateDev, table, rulePriority } = this.options;
    if (privateDev && !fs.existsSync(`/sys/class/net/${privateDev}`)) {
      throw new Error(
        `private interface '${privateDev}' does not exist here; pass the interface facing the real servers`,
      );
    }
    ip(["link", "set", tunName, "up"]);
    writeSysctl("net.ipv4.ip_forward", "1");
    for (const dev of ["all", "default", tunName, ...(privateDev ? [privateDev] : [])]) {
      writeSysctl(`net.ipv4.conf.${dev}.rp_filter`, "0");
    }
    // The director speaks IPv4 only: keep IPv6 router solicitations off the TUN device.
    if (fs.existsSync(`/proc/sys/net/ipv6/conf/${tunName}`)) {
      writeSysctl(`net.ipv6.conf.${tunName}.disable_ipv6`, "1");
    }
    if (this.options.rpsCpus !== undefined) setReceiveSteering(tunName, this.options.rpsCpus);
    // Packets written into the TUN device have a foreign source: accept them as forwarded.
    writeSysctl(`net.ipv4.conf.${tunName}.accept_local`, "1");
    if (privateDev) {
      ip(["route", "replace", "default", "dev", tunName, "table", String(table)]);
      this.replaceRule(rulePriority, ["iif", privateDev]);
      // ICMP errors the director's own kernel sends about forwarded packets (fragmentation
      // needed towards a real server behind a smaller MTU) quote the rewritten packet: send
      // them through the engine too, which translates them for the client.
      this.replaceRule(rulePriority - 1, ["iif", "lo", "ipproto", "icmp"]);
      this.ruleAdded = true;
    }
  }

  /** Installs `ip rule ... lookup <table>` at a priority, replacing what was there. */
  private replaceRule(priority: number, selector: string[]): void {
    ipQuiet(["rule", "del", "priority", String(priority)]);
    ip([
      "rule",
      "add",
      "priority",
      String(priority),
      ...selector,
      "lookup",
      String(this.options.table),
    ]);
  }

  /** Routes a virtual address into the TUN device (idempotent). */
  routeVip(addr: number): void {
    if (this.routedVips.has(addr)) return;
    ip(["route", "replace", `${formatIPv4(addr)}/32`, "dev", this.options.tunName]);
    this.routedVips.add(addr);
  }

  unrouteVip(addr: number): void {
    if (!this.routedVips.delete(addr)) return;
    ipQuiet(["route", "del", `${formatIPv4(addr)}/32`, "dev", this.options.tunName]);
  }

  /** Makes the TUN routes match the table's virtual addresses. */
  syncVipRoutes(vips: readonly number[]): void {
    const wanted = new Set(vips);
    for (const addr of [...this.routedVips]) if (!wanted.has(addr)) this.unrouteVip(addr);
    for (const addr of wanted) this.routeVip(addr);
  }

  /** Removes what apply() and routeVip() added; the TUN device itself goes with its fd. */
  teardown(): void {
    for (const addr of [...this.routedVips]) this.unrouteVip(addr);
    if (this.ruleAdded) {
      ipQuiet(["rule", "del", "priority", String(this.options.rulePriority)]);
      ipQuiet(["rule", "del", "priority", String(this.options.rulePriority - 1)]);
      ipQuiet(["route", "flush", "table", String(this.options.table)]);
      this.ruleAdded = false;
    }
  }
}
