// Turns off transmit checksum offload on the lab's interfaces before a capture.
//
// Why: with tx checksum offload on, a veth leaves the TCP/UDP checksum of packets it sends
// as a partial sum (pseudo-header only, CHECKSUM_PARTIAL) for "hardware" that never comes,
// and tcpdump on the sender sees that partial sum; every packet would then look broken in
// Wireshark and in the checksum assertions. With tx off the kernel computes full checksums
// in software before the packet is handed to the device (and to the capture), and TSO goes
// off with it, so captures hold MTU-sized packets rather than 64 KB super-packets. GRO is
// turned off for the same reason on the receiving side: merged packets carry headers whose
// checksums were never recomputed. TSO and GSO are turned off by name as well: some of their
// sub-features (tx-tcp-accecn-segmentation) stay on after "tx off", and libpcap sizes every
// slot of its capture ring for the largest packet a device may hand over (64 KiB with any
// segmentation offload on), which left ~500 slots and dropped packets under bulk transfers.
// Receive checksum offload only marks packets as verified and changes no bytes: it stays on.
import type { LabBackend } from "../backend.ts";
import type { Topology } from "../topology.ts";

export interface OffloadChange {
  host: string;
  device: string;
  /** What ethtool said (its "Actual changes" lines, if any). */
  output: string;
}

/** The ethtool argv for one device. */
export function offloadArgv(device: string): string[] {
  return ["ethtool", "-K", device, "tx", "off", "gro", "off", "tso", "off", "gso", "off"];
}

/**
 * Runs `ethtool -K <dev> tx off gro off tso off gso off` on every interface of every host of the topology.
 * Throws a sentence naming each interface where it failed.
 */
export async function disableChecksumOffload(
  backend: LabBackend,
  topology: Topology,
  options: { timeoutMs?: number } = {},
): Promise<OffloadChange[]> {
  const jobs = topology.hosts.flatMap((h) =>
    h.interfaces.map(async (i): Promise<OffloadChange | string> => {
      try {
        const r = await backend.exec(h.name, offloadArgv(i.name), {
          timeoutMs: options.timeoutMs ?? 10_000,
        });
        if (r.code !== 0) {
          return `${h.name} ${i.name}: ${(r.stderr || r.stdout).trim() || `exit code ${r.code}`}`;
        }
        return { host: h.name, device: i.name, output: (r.stdout + r.stderr).trim() };
      } catch (err) {
        return `${h.name} ${i.name}: ${(err as Error).message}`;
      }
    })
  );
  const results = await Promise.all(jobs);
  const failures = results.filter((r): r is string => typeof r === "string");
  if (failures.length > 0) {
    const hint = failures.some((f) => /not found|ENOENT|No such file/.test(f))
      ? " (is ethtool installed in the lab hosts? apt-get install ethtool)"
      : "";
    throw new Error(
      `could not turn off checksum offload${hint}; captures would show partial checksums:\n  ` +
        failures.join("\n  "),
    );
  }
  return results as OffloadChange[];
}
