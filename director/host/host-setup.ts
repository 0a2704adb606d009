// director/host/: what the director sets in its own host's network stack (routes, rules, sysctls,
// receive steering).
//
// Configures the director's own host (the network namespace it runs in) so the kernel
// hands it the right packets: each VIP routed into the TUN device, replies from the real
// servers' network policy-routed into it, forwarding on, reverse-path filtering off where
// packets re-enter from the TUN device with the client's or VIP's source address.
//
// The VIP may also be a local address (`ip addr add VIP/32 dev lo`, as every LVS recipe
// has it, so the director answers ARP for it). Local delivery would then take its packets
// before any route to the TUN device: while a VIP exists the `local` table's rule moves
// from priority 0 to LOCAL_RULE_PRIORITY and a rule before it sends packets to each VIP
// into the TUN device. Packets the director's own stack sends (iif lo) or the engine writes
// back (iif <tun>) still meet the local table first, so they neither loop nor get taken.
// That rule also makes the kernel's ARP code see such a VIP as routed, not local, so it would
// stop answering ARP for it (VS/DR's router finds the VIP by ARP): a proxy neighbour entry on
// each of the host's interfaces answers for it instead, at once (proxy_delay 0).
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
/**
 * Writes a kernel setting; returns what it was when the write changed it (so it can be put
 * back), else null.
 */
function writeSysctl(key: string, value: string): string | null {
  const file = `/proc/sys/${key.replaceAll(".", "/")}`;
  let before: string | null = null;
  try {
    before = fs.readFileSync(file, "utf8").trim();
    if (before === value) return null;
  } catch {
    // Unreadable: the write below says what is wrong.
  }
  fs.writeFileSync(file, value);
  return before;
}

/** Packets the kernel holds for the director's TUN reads (see apply()). */
const TUN_QUEUE_LENGTH = 4096;

/** Where the `local` table's rule sits while a VIP exists (it is at 0 otherwise). */
export const LOCAL_RULE_PRIORITY = 50;
/** Rules that send a VIP's packets into the TUN device: before the local table's. */
export const VIP_RULE_PRIORITY = 10;
/** Packets from the director's own stack and from the TUN device: local table first. */
export const VIP_EXEMPT_PRIORITY = 9;

interface RuleEntry {
  priority: number;
  table?: string;
}

/** `ip -j rule show` output: the rules in priority order. */
function listRules(): RuleEntry[] {
  const text = execFileSync("ip", ["-j", "rule", "show"], { encoding: "utf8" });
  return JSON.parse(text) as RuleEntry[];
}

/** The host's interfaces ARP can arrive on (not lo, not the TUN device). */
function arpDevices(tunName: string): string[] {
  return fs.readdirSync("/sys/class/net").filter((d) => d !== "lo" && d !== tunName);
}

/** True when the address is one of this host's own (`ip addr`), e.g. a VIP on lo. */
function isOwnAddress(addr: string): boolean {
  const text = execFileSync("ip", ["-j", "-4", "addr", "show"], { encoding: "utf8" });
  const links = JSON.parse(text) as { addr_info?: { local?: string }[] }[];
  return links.some((l) => (l.addr_info ?? []).some((a) => a.local === addr));
}

export class HostSetup {
  private readonly routedVips = new Set<number>();
  /** VIP → devices it got a proxy neighbour entry on (routeVip, for a VIP of its own). */
  private readonly proxiedVips = new Map<number, string[]>();
  private ruleAdded = false;
  /** The local table's rule was moved (restored when the last VIP goes). */
  private localRuleMoved = false;
  private vipRulesBase = false;
  /** Host settings apply() changed, with their values before, in the order written. */
  private readonly changedSysctls: [key: string, before: string][] = [];

  constructor(private readonly options: HostSetupOptions) {}

  /** Brings the TUN device up and installs forwarding, sysctls and the reply route. */
  apply(): void {
    const { tunName, privateDev, table, rulePriority } = this.options;
    if (privateDev && !fs.existsSync(`/sys/class/net/${privateDev}`)) {
      throw new Error(
        `private interface '${privateDev}' does not exist here; pass the interface facing the real servers`,
      );
    }
    // The kernel queues at most txqueuelen packets for the TUN device's reader and drops the
    // rest (counted as the device's TX drops): 500 by default, less than one burst of a
    // client's window in 1.5 KB packets when TSO is off, so a brief stall of the packet
    // thread cost retransmissions. A NIC-sized ring absorbs the burst instead.
    ip(["link", "set", tunName, "txqueuelen", String(TUN_QUEUE_LENGTH), "up"]);
    // The host's own settings are put back by teardown(); the TUN device's go with it.
    this.hostSetting("net.ipv4.ip_forward", "1");
    for (const dev of ["all", "default", ...(privateDev ? [privateDev] : [])]) {
      this.hostSetting(`net.ipv4.conf.${dev}.rp_filter`, "0");
    }
    writeSysctl(`net.ipv4.conf.${tunName}.rp_filter`, "0");
    // The director speaks IPv4 only: keep IPv6 router solicitations off the TUN device.
    if (fs.existsSync(`/proc/sys/net/ipv6/conf/${tunName}`)) {
      writeSysctl(`net.ipv6.conf.${tunName}.disable_ipv6`, "1");
    }
    if (this.options.rpsCpus !== undefined) setReceiveSteering(tunName, this.options.rpsCpus);
    // Packets written into the TUN device have a foreign source: accept them as forwarded.
    writeSysctl(`net.ipv4.conf.${tunName}.accept_local`, "1");
    // The table the replies' rule and the VIPs' rules look up: everything into the TUN.
    ip(["route", "replace", "default", "dev", tunName, "table", String(table)]);
    if (privateDev) {
      this.replaceRule(rulePriority, ["iif", privateDev]);
      // ICMP errors the director's own kernel sends about forwarded packets (fragmentation
      // needed towards a real server behind a smaller MTU) quote the rewritten packet: send
      // them through the engine too, which translates them for the client.
      this.replaceRule(rulePriority - 1, ["iif", "lo", "ipproto", "icmp"]);
      this.ruleAdded = true;
    }
  }

  /** Writes a setting of the host's own that teardown() puts back as it was. */
  private hostSetting(key: string, value: string): void {
    const before = writeSysctl(key, value);
    if (before !== null) this.changedSysctls.push([key, before]);
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

  /**
   * Routes a virtual address into the TUN device (idempotent), whether or not it is also
   * a local address of this host.
   */
  routeVip(addr: number): void {
    if (this.routedVips.has(addr)) return;
    if (this.routedVips.size === 0) this.installVipRuleBase();
    const vip = `${formatIPv4(addr)}/32`;
    ip(["route", "replace", vip, "dev", this.options.tunName]);
    // A rule left by a director that did not stop cleanly is replaced, not doubled.
    ipQuiet(["rule", "del", "priority", String(VIP_RULE_PRIORITY), "to", vip]);
    ip([
      "rule",
      "add",
      "priority",
      String(VIP_RULE_PRIORITY),
      "to",
      vip,
      "lookup",
      String(this.options.table),
    ]);
    this.routedVips.add(addr);
    this.answerArp(addr);
  }

  /** Keeps ARP answered for a VIP that is one of the host's own addresses (see the top). */
  private answerArp(addr: number): void {
    const vip = formatIPv4(addr);
    if (!isOwnAddress(vip)) return;
    const devices = arpDevices(this.options.tunName);
    for (const dev of devices) {
      this.hostSetting(`net.ipv4.neigh.${dev}.proxy_delay`, "0");
      ip(["neigh", "replace", "proxy", vip, "dev", dev]);
    }
    this.proxiedVips.set(addr, devices);
  }

  unrouteVip(addr: number): void {
    if (!this.routedVips.delete(addr)) return;
    for (const dev of this.proxiedVips.get(addr) ?? []) {
      ipQuiet(["neigh", "del", "proxy", formatIPv4(addr), "dev", dev]);
    }
    this.proxiedVips.delete(addr);
    const vip = `${formatIPv4(addr)}/32`;
    ipQuiet(["rule", "del", "priority", String(VIP_RULE_PRIORITY), "to", vip]);
    ipQuiet(["route", "del", vip, "dev", this.options.tunName]);
    if (this.routedVips.size === 0) this.removeVipRuleBase();
  }

  /**
   * Before the first VIP: the exemptions for the director's own packets, then the local
   * table's rule moved behind the VIP rules (added at its new place before it leaves 0, so
   * local delivery never stops).
   */
  private installVipRuleBase(): void {
    const { tunName } = this.options;
    for (const dev of ["lo", tunName]) {
      ipQuiet(["rule", "del", "priority", String(VIP_EXEMPT_PRIORITY), "iif", dev]);
      ip(["rule", "add", "priority", String(VIP_EXEMPT_PRIORITY), "iif", dev, "lookup", "local"]);
    }
    this.vipRulesBase = true;
    const local = listRules().filter((r) => r.table === "local").map((r) => r.priority);
    if (local.includes(0)) {
      if (!local.includes(LOCAL_RULE_PRIORITY)) {
        ip(["rule", "add", "priority", String(LOCAL_RULE_PRIORITY), "lookup", "local"]);
      }
      ip(["rule", "del", "priority", "0", "lookup", "local"]);
      this.localRuleMoved = true;
    } else if (local.includes(LOCAL_RULE_PRIORITY)) {
      // Moved by a director that did not stop cleanly: put it back when done.
      this.localRuleMoved = true;
    }
  }

  /** After the last VIP: the local table's rule back at 0, the exemptions gone. */
  private removeVipRuleBase(): void {
    if (this.localRuleMoved) {
      ipQuiet(["rule", "add", "priority", "0", "lookup", "local"]);
      ipQuiet(["rule", "del", "priority", String(LOCAL_RULE_PRIORITY), "lookup", "local"]);
      this.localRuleMoved = false;
    }
    if (this.vipRulesBase) {
      for (const dev of ["lo", this.options.tunName]) {
        ipQuiet(["rule", "del", "priority", String(VIP_EXEMPT_PRIORITY), "iif", dev]);
      }
      this.vipRulesBase = false;
    }
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
      this.ruleAdded = false;
    }
    ipQuiet(["route", "flush", "table", String(this.options.table)]);
    for (const [key, before] of this.changedSysctls.splice(0).reverse()) {
      try {
        writeSysctl(key, before);
      } catch {
        // A device that went away (the lab's namespace is being torn down): nothing to undo.
      }
    }
  }
}
