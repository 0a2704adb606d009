// Round-robin (ip_vs_rr.c): the next destination after the last one chosen that has
// weight and is not overloaded. The kernel keeps a position in the destination list;
// we keep the chosen destination and its index.
import type { Destination, Scheduler, VirtualService } from "../service/types.ts";

export class RoundRobinScheduler implements Scheduler {
  readonly name: string = "rr";
  /** Index of the last chosen destination; -1 is the list head (start over). */
  private cursor = -1;
  private cursorDest: Destination | null = null;
  /** The destination list as of the last update(), to find a removed cursor's predecessor. */
  private known: Destination[] = [];

  update(svc: VirtualService): void {
    const dests = svc.destinations;
    if (this.cursorDest !== null) {
      let index = dests.indexOf(this.cursorDest);
      if (index < 0) {
        // ip_vs_rr_del_dest: the cursor moves back to the removed entry's predecessor,
        // so the removed server's successor comes next.
        const old = this.known.indexOf(this.cursorDest);
        for (let i = old - 1; i >= 0 && index < 0; i--) index = dests.indexOf(this.known[i]);
      }
      this.cursor = index;
      this.cursorDest = index < 0 ? null : dests[index];
    }
    this.known = dests.slice();
  }

  schedule(svc: VirtualService): Destination | null {
    const dests = svc.destinations;
    const n = dests.length;
    const cursor = this.cursor < n ? this.cursor : -1;
    // Scan from the entry after the cursor to the end, then from the start up to the cursor.
    for (let k = 1; k <= n; k++) {
      const i = (cursor + k) % n;
      const dest = dests[i];
      if (!dest.overloaded && dest.weight > 0) {
        this.cursor = i;
        this.cursorDest = dest;
        return dest;
      }
    }
    return null;
  }
}
