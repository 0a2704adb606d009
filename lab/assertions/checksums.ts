// Every captured packet's IP header and TCP/UDP/ICMP checksums, verified by full
// recomputation during decoding (lab/analysis/decode.ts).
import { formatPacket } from "../analysis/format.ts";
import type { Packet } from "../analysis/packet.ts";
import { type AssertionResult, firstFew, plural, verdict } from "./result.ts";

function fault(p: Packet): string | null {
  const wrong: string[] = [];
  if (!p.ipChecksumOk) wrong.push("IP header checksum wrong");
  if (p.l4ChecksumOk === false) wrong.push(`${p.protocol.toUpperCase()} checksum wrong`);
  return wrong.length > 0 ? `${formatPacket(p)}: ${wrong.join(", ")}` : null;
}

/**
 * PASS when no packet on `network` has a wrong IP or L4 checksum. Packets whose L4 checksum
 * could not be checked (fragments, truncated captures) are counted and named, not passed.
 */
export function assertChecksums(
  packets: readonly Packet[],
  network: string,
  options: { name?: string } = {},
): AssertionResult {
  const name = options.name ?? `checksums on the ${network}`;
  const faults = packets.map(fault).filter((f): f is string => f !== null);
  const unchecked = packets.filter((p) => p.l4ChecksumOk === null);
  const uncheckedNote = unchecked.length > 0
    ? ` (${plural(unchecked.length, "packet")} not checked at L4: ${unchecked[0].l4ChecksumNote}` +
      `${unchecked.length > 1 ? ", ..." : ""})`
    : "";
  const data = { packets: packets.length, wrong: faults.length, notChecked: unchecked.length };
  const details = firstFew(
    unchecked.map((p) => `not checked: ${formatPacket(p)} (${p.l4ChecksumNote})`),
    5,
  );
  if (packets.length === 0) {
    return verdict(name, false, `no packets were captured on the ${network} to check`, [], data);
  }
  if (faults.length === 0) {
    return verdict(
      name,
      true,
      `all ${plural(packets.length, "packet")} on the ${network} have correct IP and ` +
        `TCP/UDP/ICMP checksums, recomputed in full${uncheckedNote}`,
      details,
      data,
    );
  }
  return verdict(
    name,
    false,
    `${faults.length} of ${plural(packets.length, "packet")} on the ${network} have a wrong ` +
      `checksum (first: ${faults[0]})`,
    [...firstFew(faults), ...details],
    data,
  );
}
