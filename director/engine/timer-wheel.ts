// A hashed timer wheel for connection expiry. A director holds up to millions of entries
// whose deadlines move on every packet, so one setTimeout each is out of the question:
// entries are small integer ids (the connection table's slot numbers) threaded on intrusive
// doubly linked lists in typed arrays, one list per wheel bucket. Scheduling, moving and
// cancelling are O(1) and allocate nothing.
//
// Bucket k % slots holds the entries whose deadline falls in tick k. Deadlines more than one
// revolution away share a bucket with nearer ones; a visit fires only entries whose
// deadline has passed and leaves the rest for a later revolution, so an entry never fires
// early, whatever its timeout, and fires within one tick of its deadline when advance() is
// called at least once per tick.

const NONE = -1;

export class TimerWheel {
  private capacityValue: number;
  private readonly tickMs: number;
  private readonly slots: number;
  private readonly mask: number;
  /** Start of tick 0; ticks are counted from here. */
  private readonly originMs: number;
  /** Highest tick whose bucket has been processed. */
  private lastTick: number;
  /** List heads: one per bucket, plus one at index `slots` for entries being processed. */
  private readonly heads: Int32Array;
  private next: Int32Array;
  private prev: Int32Array;
  /** Head index of the list an id is on, or NONE when it is not scheduled. */
  private listOf: Int32Array;
  private expires: Float64Array;
  private count = 0;

  /**
   * @param capacity largest id + 1
   * @param tickMs granularity: an entry fires at most this late
   * @param slots buckets in the wheel, a power of two; slots * tickMs is one revolution
   * @param nowMs the clock's current reading
   */
  constructor(capacity: number, tickMs: number, slots: number, nowMs: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new Error(`timer wheel capacity must be a positive integer, got ${capacity}`);
    }
    if (!(tickMs > 0) || !Number.isFinite(tickMs)) {
      throw new Error(`timer wheel tick must be a positive number of ms, got ${tickMs}`);
    }
    if (!Number.isInteger(slots) || slots < 1 || (slots & (slots - 1)) !== 0) {
      throw new Error(`timer wheel size must be a power of two, got ${slots}`);
    }
    if (!Number.isFinite(nowMs)) throw new Error(`timer wheel clock must be finite, got ${nowMs}`);
    this.capacityValue = capacity;
    this.tickMs = tickMs;
    this.slots = slots;
    this.mask = slots - 1;
    this.originMs = nowMs;
    this.lastTick = 0;
    this.heads = new Int32Array(slots + 1).fill(NONE);
    this.next = new Int32Array(capacity);
    this.prev = new Int32Array(capacity);
    this.listOf = new Int32Array(capacity).fill(NONE);
    this.expires = new Float64Array(capacity);
  }

  get capacity(): number {
    return this.capacityValue;
  }

  /** Number of scheduled ids. */
  get size(): number {
    return this.count;
  }

  /** Raises the largest id the wheel accepts; scheduled entries keep their deadlines. */
  grow(capacity: number): void {
    if (capacity <= this.capacityValue) return;
    const grown = (old: Int32Array, fill: number) => {
      const a = new Int32Array(capacity).fill(fill);
      a.set(old);
      return a;
    };
    this.next = grown(this.next, 0);
    this.prev = grown(this.prev, 0);
    this.listOf = grown(this.listOf, NONE);
    const expires = new Float64Array(capacity);
    expires.set(this.expires);
    this.expires = expires;
    this.capacityValue = capacity;
  }

  /** Sets id's deadline, moving it if it was already scheduled. */
  schedule(id: number, expiresAtMs: number): void {
    if (!(id >= 0 && id < this.capacityValue)) {
      throw new RangeError(`timer id ${id} is outside 0..${this.capacityValue - 1}`);
    }
    if (this.listOf[id] !== NONE) this.unlink(id);
    else this.count++;
    this.expires[id] = expiresAtMs;
    // The first tick boundary at or after the deadline, but never a tick already processed.
    let tick = Math.ceil((expiresAtMs - this.originMs) / this.tickMs);
    if (!(tick > this.lastTick)) tick = this.lastTick + 1; // also catches NaN
    this.push(tick & this.mask, id);
  }

  /** Removes id's deadline; a no-op when it has none. */
  cancel(id: number): void {
    if (id < 0 || id >= this.capacityValue || this.listOf[id] === NONE) return;
    this.unlink(id);
    this.count--;
  }

  isScheduled(id: number): boolean {
    return id >= 0 && id < this.capacityValue && this.listOf[id] !== NONE;
  }

  /** id's deadline in ms (the clock's scale), or -1 when it has none. */
  expiresAt(id: number): number {
    return this.isScheduled(id) ? this.expires[id] : -1;
  }

  /** Cancels everything. */
  clear(): void {
    for (let b = 0; b <= this.slots; b++) {
      let id = this.heads[b];
      while (id !== NONE) {
        this.listOf[id] = NONE;
        id = this.next[id];
      }
      this.heads[b] = NONE;
    }
    this.count = 0;
  }

  /**
   * Moves the clock to nowMs and calls onExpire(id) once for every id whose deadline is
   * <= nowMs, removing it first: the callback may schedule it again or schedule and cancel
   * any other id. Returns the number of ids expired. A clock that goes backwards expires
   * nothing.
   */
  advance(nowMs: number, onExpire: (id: number) => void): number {
    const target = Math.floor((nowMs - this.originMs) / this.tickMs);
    if (!(target > this.lastTick)) return 0;
    // After a long pause one revolution visits every bucket: checking each entry against
    // nowMs catches everything that is due, however many ticks were skipped.
    if (target - this.lastTick > this.slots) this.lastTick = target - this.slots;
    const processing = this.slots;
    const heads = this.heads;
    let fired = 0;
    while (this.lastTick < target) {
      const tick = ++this.lastTick;
      const bucket = tick & this.mask;
      let id = heads[bucket];
      if (id === NONE) continue;
      // Move the bucket's list aside so the callback can change any list, this one included.
      heads[bucket] = NONE;
      heads[processing] = id;
      while (id !== NONE) {
        this.listOf[id] = processing;
        id = this.next[id];
      }
      while ((id = heads[processing]) !== NONE) {
        this.unlink(id);
        const due = this.expires[id];
        if (due <= nowMs) {
          this.count--;
          fired++;
          onExpire(id);
        } else {
          // A later revolution: back into the bucket its deadline hashes to.
          let t = Math.ceil((due - this.originMs) / this.tickMs);
          if (!(t > this.lastTick)) t = this.lastTick + 1;
          this.push(t & this.mask, id);
        }
      }
    }
    return fired;
  }

  private push(list: number, id: number): void {
    const head = this.heads[list];
    this.next[id] = head;
    this.prev[id] = NONE;
    if (head !== NONE) this.prev[head] = id;
    this.heads[list] = id;
    this.listOf[id] = list;
  }

  private unlink(id: number): void {
    const n = this.next[id];
    const p = this.prev[id];
    if (p !== NONE) this.next[p] = n;
    else this.heads[this.listOf[id]] = n;
    if (n !== NONE) this.prev[n] = p;
    this.listOf[id] = NONE;
  }
}
