// Receive packet steering on the TUN device. A packet the director writes into its TUN device
// is forwarded by the kernel inside that write(2) call, on the director's own thread; with
// RPS the kernel queues it to the CPUs of a mask instead, and forwards it there, in parallel
// with the director. It helps many parallel streams and costs a single stream (see README,
// performance), so it is the operator's choice, as on a kernel LVS director's NICs.
import fs from "node:fs";

/** Checks a CPU mask as the kernel's rps_cpus takes it (hexadecimal); returns it as given. */
export function parseCpuMask(text: string): string {
  if (!/^[0-9a-fA-F]{1,16}$/.test(text)) {
    throw new Error(
      `a CPU mask is hexadecimal, e.g. 3 for CPUs 0 and 1 (0 turns steering off), not '${text}'`,
    );
  }
  return text;
}

/** Sets the TUN device's receive steering to the CPUs of `mask` (checked by parseCpuMask). */
export function setReceiveSteering(tunName: string, mask: string): void {
  const file = `/sys/class/net/${tunName}/queues/rx-0/rps_cpus`;
  try {
    fs.writeFileSync(file, mask);
  } catch (err) {
    throw new Error(
      `cannot steer ${tunName}'s packets to CPUs ${mask} (${file}): ${(err as Error).message}; ` +
        "the kernel needs RPS, and /sys must show this network namespace (ip netns exec does)",
    );
  }
}
