// A fixed-size ring of the most recent events: memory stays bounded however long the page is
// open or however many packets pass (the pcaps keep the older ones).
export class EventRing<T> {
  private readonly slots: (T | undefined)[];
  private head = 0;
  private count = 0;
  private seq = 1;
  /** Items pushed out of the ring so far. */
  dropped = 0;

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1) throw new Error("the ring size must be at least 1");
    this.slots = new Array(size);
  }

  /** The sequence number the next item gets. */
  get nextSeq(): number {
    return this.seq;
  }

  push(item: T): void {
    this.slots[(this.head + this.count) % this.size] = item;
    if (this.count < this.size) this.count++;
    else {
      this.head = (this.head + 1) % this.size;
      this.dropped++;
    }
    this.seq++;
  }

  /** Oldest first. */
  items(): T[] {
    const out: T[] = [];
    for (let i = 0; i < this.count; i++) out.push(this.slots[(this.head + i) % this.size]!);
    return out;
  }

  /** Empties the ring and numbers from 1 again (a recording re-sorted by time). */
  clear(): void {
    this.slots.fill(undefined);
    this.head = 0;
    this.count = 0;
    this.seq = 1;
  }

  get length(): number {
    return this.count;
  }
}
