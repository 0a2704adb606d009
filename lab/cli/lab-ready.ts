// Brings a lab up for a verb that shows it (demo, classroom), or uses the one that is up when
// it has the topology asked for; warns when no director runs in it.
import type { LabBackend } from "../backend.ts";
import { labFlags } from "./backend-option.ts";

export async function ensureLabUp(backend: LabBackend, topologyName: string): Promise<void> {
  if (await backend.isUp()) {
    // A lab of another shape cannot show this method: say so instead of half a view.
    const running = (await backend.status()).topology;
    if (running !== null && running !== topologyName) {
      throw new Error(
        `lab '${backend.name}' is up with topology '${running}', not '${topologyName}'; ` +
          `take it down first ('lvslab down${labFlags(backend, running)}') or show that one`,
      );
    }
    console.log(`lab '${backend.name}' is already up; using it`);
  } else {
    await backend.up({ log: (l) => console.log(l) });
  }
  const status = await backend.status();
  const director = status.processes?.find((p) => p.name === "director");
  if (status.processes !== null && !director?.alive) {
    console.log(
      "warning: no director is running in this lab, so requests to the VIP will fail; " +
        `recreate it with 'lvslab down${labFlags(backend, topologyName)}' and try again`,
    );
  }
}
