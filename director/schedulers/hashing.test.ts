// dh and sh: 256-bucket tables and hash_32.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DestinationHashingScheduler } from "./dh.ts";
import { hash32 } from "./hash.ts";
import { SH_TAB_SIZE, shHashKey, SourceHashingScheduler } from "./sh.ts";
import { CLIENT, dests, service } from "./test-support.ts";

// hash_32 written out independently: low 32 bits of val * 0x61C88647, top `bits` bits.
function refHash32(val: number, bits: number): number {
  const product = (BigInt(val >>> 0) * 0x61c88647n) & 0xffffffffn;
  return Number(product >> BigInt(32 - bits));
}

describe("hash_32", () => {
  for (const v of [0, 1, 0xc6336402, 0xcb007105, 0xffffffff, 0x80000000]) {
    it(`matches the kernel formula for ${v.toString(16)}`, () => {
      assert.equal(hash32(v, 8), refHash32(v, 8));
      assert.equal(hash32(v, 10), refHash32(v, 10));
    });
  }
});

describe("dh", () => {
  it("fills buckets round-robin and maps a destination address by hash_32", () => {
    const svc = service(dests([{}, {}, {}]));
    const s = new DestinationHashingScheduler();
    s.update(svc);
    for (const addr of [0xc0000201, 0xc0000202, 0xcb007105, 0x0a000001]) {
      const want = svc.destinations[refHash32(addr, 8) % 3];
      assert.equal(s.schedule(svc, CLIENT, 1, addr, 80), want);
      assert.equal(s.schedule(svc, CLIENT + 7, 2, addr, 80), want, "source does not matter");
    }
  });

  it("spreads destination addresses evenly regardless of weight", () => {
    const svc = service(dests([{ w: 1 }, { w: 5 }]));
    const s = new DestinationHashingScheduler();
    s.update(svc);
    const counts = [0, 0];
    for (let i = 0; i < 256 * 40; i++) {
      counts[svc.destinations.indexOf(s.schedule(svc, CLIENT, 1, 0xc0000000 + i, 80)!)]++;
    }
    assert.ok(Math.abs(counts[0] - counts[1]) < 256 * 40 * 0.1, `counts ${counts}`);
  });

  it("has no fallback: weight 0, overloaded or removed servers give null", () => {
    const svc = service(dests([{}, {}]));
    const s = new DestinationHashingScheduler();
    s.update(svc);
    const addr = 0xc0000201;
    const d = s.schedule(svc, CLIENT, 1, addr, 80)!;
    d.weight = 0;
    assert.equal(s.schedule(svc, CLIENT, 1, addr, 80), null);
    d.weight = 1;
    d.overloaded = true;
    assert.equal(s.schedule(svc, CLIENT, 1, addr, 80), null);
    d.overloaded = false;
    d.available = false;
    assert.equal(s.schedule(svc, CLIENT, 1, addr, 80), null);
  });

  it("an empty service has an empty table", () => {
    const svc = service([]);
    const s = new DestinationHashingScheduler();
    s.update(svc);
    assert.equal(s.schedule(svc, CLIENT, 1, 0xc0000201, 80), null);
  });
});

describe("sh", () => {
  it("tiles the table by weight: weights 1 and 2 give A B B A B B ...", () => {
    const svc = service(dests([{ w: 1 }, { w: 2 }]));
    const s = new SourceHashingScheduler();
    s.update(svc);
    const [a, b] = svc.destinations;
    assert.deepEqual([0, 1, 2, 3, 4, 5].map((i) => s.bucket(i)), [a, b, b, a, b, b]);
    let na = 0;
    for (let i = 0; i < SH_TAB_SIZE; i++) if (s.bucket(i) === a) na++;
    assert.equal(na, 86); // 85 full cycles of 3 plus bucket 255 = A
  });

  it("weight 0 still takes one bucket, but gets no connection", () => {
    const svc = service(dests([{ w: 0 }, { w: 1 }]));
    const s = new SourceHashingScheduler();
    s.update(svc);
    assert.equal(s.bucket(0), svc.destinations[0]);
    assert.equal(s.bucket(1), svc.destinations[1]);
    // A source hashing to an even bucket finds A (weight 0): no destination.
    let src = 0;
    while (shHashKey(src, 0, 0) % 2 !== 0) src++;
    assert.equal(s.schedule(svc, src, 1, svc.addr, 80), null);
  });

  it("maps a source to the same server and spreads sources by weight", () => {
    const svc = service(dests([{ w: 1 }, { w: 3 }]));
    const s = new SourceHashingScheduler();
    s.update(svc);
    const counts = [0, 0];
    for (let i = 0; i < 20000; i++) {
      const src = (0xc6336400 + i * 7919) >>> 0;
      const d = s.schedule(svc, src, 1000 + i, svc.addr, 80)!;
      assert.equal(s.schedule(svc, src, 2000 + i, svc.addr, 80), d, "port ignored without sh-port");
      assert.equal(d, s.bucket(refHash32(src, 8)));
      counts[svc.destinations.indexOf(d)]++;
    }
    assert.ok(Math.abs(counts[0] / 20000 - 0.25) < 0.03, `counts ${counts}`);
  });

  it("sh-port hashes port + address", () => {
    const svc = service(dests([{}, {}, {}]), ["sh-port"]);
    const s = new SourceHashingScheduler(["sh-port"]);
    s.update(svc);
    const seen = new Set<unknown>();
    for (let port = 1024; port < 1064; port++) {
      const d = s.schedule(svc, CLIENT, port, svc.addr, 80);
      assert.equal(d, s.bucket(refHash32((CLIENT + port) >>> 0, 8)));
      seen.add(d);
    }
    assert.equal(seen.size, 3, "one client's ports spread over all servers");
  });

  it("without sh-fallback an unavailable server gives null; with it, the table walk finds another", () => {
    const specs = [{}, {}, {}];
    const plain = service(dests(specs));
    const s = new SourceHashingScheduler();
    s.update(plain);
    const fb = service(dests(specs), ["sh-fallback"]);
    const f = new SourceHashingScheduler(["sh-fallback"]);
    f.update(fb);
    for (let i = 0; i < 50; i++) {
      const src = (CLIENT + i * 104729) >>> 0;
      const ihash = shHashKey(src, 0, 0);
      const home = ihash % 3;
      plain.destinations[home].overloaded = true;
      fb.destinations[home].weight = 0;
      assert.equal(s.schedule(plain, src, 1, plain.addr, 80), null);
      // Expected: the first bucket along hashkey(src, 0, ihash + k) that is usable.
      let want = null;
      for (let k = 0; k < SH_TAB_SIZE && want === null; k++) {
        const bucket = shHashKey(src, 0, (ihash + k) % SH_TAB_SIZE);
        if (bucket % 3 !== home) want = fb.destinations[bucket % 3];
      }
      assert.equal(f.schedule(fb, src, 1, fb.addr, 80), want);
      plain.destinations[home].overloaded = false;
      fb.destinations[home].weight = 1;
      assert.equal(f.schedule(fb, src, 1, fb.addr, 80), fb.destinations[home], "back home");
    }
  });

  it("rejects unknown flags", () => {
    assert.throws(
      () => new SourceHashingScheduler(["sh-prot"]),
      /unknown scheduler flag 'sh-prot'/,
    );
  });
});
