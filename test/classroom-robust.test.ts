// The classroom under bad conditions, in a real browser (Debian's chromium, playwright-core):
// - a recording (`--replay classroom/recordings/nat-ftp`, no lab): live controls off with the
//   server's sentence, paused on event 1, stepped, the FTP helper's 227 rewrite opened;
// - the event stream cut from the server's side and the server restarted on the same port:
//   the page reconnects by itself, says so and holds the recording again; left idle, nothing
//   grows (DOM, events, the server's streams) while heartbeats come;
// - on a NAT lab (lvstclsb), bursts of 1,000 HTTP connections (over 10,000 packets on each
//   segment's pcap) while the page is open: the server keeps answering, its ring stays at
//   2,000 events and its heap does not grow from one burst to the next, the page keeps 2,000
//   events and a 300-line list and says how many older events are only in the pcaps.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import v8 from "node:v8";
import vm from "node:vm";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { type Browser, chromium, type Page } from "playwright-core";
import { labDown, labUp } from "../lab/netns/lab.ts";
import { createBackend } from "../lab/backends.ts";
import { topologyNamed } from "../lab/topologies/index.ts";
import { REPO_ROOT } from "../lab/paths.ts";
import { labTestBlocker, requireRoot } from "../lab/testing/require-root.ts";
import { readPcap } from "../lab/analysis/read-pcap.ts";
import { type Classroom, startClassroom } from "../classroom/start.ts";
import { findRecording, RecordingSession } from "../classroom/replay.ts";
import { type ClassroomServer, serveClassroom } from "../classroom/server.ts";
import { RING_SIZE } from "../classroom/session.ts";
import type { StateView } from "../classroom/event-types.ts";

const LAB = process.env.LVSLAB_CLASSROOM_ROBUST_LAB ?? "lvstclsb";
const CHROMIUM = process.env.LVSLAB_CHROMIUM ?? "/usr/bin/chromium";
const RECORDING = path.join(REPO_ROOT, "classroom", "recordings", "nat-ftp");
/** Short heartbeats, so an idle minute is a few seconds here. */
const HEARTBEAT_MS = 300;
/** Connections per burst (session.send's most). */
const BURST = 1000;

v8.setFlagsFromString("--expose-gc");
const gc = vm.runInNewContext("gc") as () => void;

let browser: Browser | null = null;
const consoleErrors: string[] = [];

function browserBlocker(): string | null {
  return fs.existsSync(CHROMIUM)
    ? null
    : `${CHROMIUM} is missing; install Debian's chromium (apt-get install chromium)`;
}

function ready(t: { skip(reason: string): void }, lab: boolean): boolean {
  if (lab && !requireRoot(t)) return false;
  const blocker = browserBlocker();
  if (blocker === null) return true;
  if (process.env.CI === "true") throw new Error(`the browser test must run in CI: ${blocker}`);
  t.skip(blocker);
  return false;
}

before(async () => {
  if (browserBlocker()) return;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--disable-gpu", "--disable-quic", "--disable-sync"],
  });
});

after(async () => {
  await browser?.close();
});

async function openPage(url: string): Promise<Page> {
  consoleErrors.length = 0;
  const page = await browser!.newPage({ viewport: { width: 1280, height: 720 } });
  page.on("console", (m) => {
    if (m.type() === "error") consoleErrors.push(m.text());
  });
  page.on("pageerror", (e) => consoleErrors.push(e.message));
  await page.goto(url);
  return page;
}

async function waitFor<T>(what: string, f: () => Promise<T | null | false>, ms = 15_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f().catch(() => null);
    if (v) return v;
    if (Date.now() > deadline) assert.fail(`${what} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function serveRecording(
  port = 0,
): Promise<{ server: ClassroomServer; rec: RecordingSession }> {
  const rec = new RecordingSession(findRecording(RECORDING));
  rec.load();
  return {
    server: await serveClassroom(rec, rec.rec.name, port, { heartbeatMs: HEARTBEAT_MS }),
    rec,
  };
}

/** What on the page could grow with time. */
function pageSize(page: Page) {
  return page.evaluate(() => ({
    nodes: document.getElementsByTagName("*").length,
    items: document.querySelectorAll("#events li").length,
    status: document.getElementById("status")!.textContent ?? "",
  }));
}

test("a recording in the browser: live controls off, stepped, the FTP rewrite opened", async (t) => {
  if (!ready(t, false)) return;
  const { server, rec } = await serveRecording();
  const page = await openPage(server.url);
  try {
    const n = rec.ring.length;
    await waitFor(
      "paused on event 1",
      async () => (await pageSize(page)).status.startsWith(`paused · event 1 of ${n}`),
    );
    assert.match(await page.textContent("#title") ?? "", /VS\/NAT · recording natsmall/);
    for (const id of ["send", "burst", "fail"]) {
      assert.equal(await page.isDisabled(`#${id}`), true, `${id} is off`);
    }
    assert.match(await page.textContent("#recording") ?? "", /there is no lab to send to/);
    await page.keyboard.press("ArrowRight");
    await waitFor("event 2", async () => (await pageSize(page)).status.includes(`event 2 of ${n}`));
    await page.click("#events li:has-text('227 reply rewritten to the VIP')");
    const row = page.locator("#after tr[data-field='Payload first line']");
    await waitFor("the rewritten 227 line", async () => (await row.count()) === 1);
    assert.equal(await row.getAttribute("class"), "changed");
    assert.match(
      await row.textContent() ?? "",
      /227 Entering Passive Mode \(203,0,113,5,\d+,\d+\)\..*\(was 227 Entering Passive Mode \(172,16,0,3,/,
    );
    // The export is the recording's packets.
    const pcap = await (await fetch(`${server.url}api/pcap`)).arrayBuffer();
    assert.ok(pcap.byteLength > 1000);
    // A refused control says why, and the page shows the sentence.
    const r = await fetch(`${server.url}api/send`, { method: "POST", body: "{}" });
    assert.equal(r.status, 400);
    assert.match(((await r.json()) as { error: string }).error, /shows a recording/);
    assert.deepEqual(consoleErrors, []);
  } finally {
    await page.close();
    await server.close();
  }
});

test("the stream cut and the server restarted: the page reconnects and says so; idle, nothing grows", async (t) => {
  if (!ready(t, false)) return;
  let { server, rec } = await serveRecording();
  const port = Number(new URL(server.url).port);
  const page = await openPage(server.url);
  try {
    const n = rec.ring.length;
    await waitFor("the page's stream", async () => server.clients() === 1);
    await waitFor("the recording", async () => (await pageSize(page)).status.includes(`of ${n}`));
    // Left open: heartbeats come (every 300 ms here), nothing on the page or server grows.
    const idle0 = await pageSize(page);
    await new Promise((r) => setTimeout(r, 20 * HEARTBEAT_MS));
    const idle1 = await pageSize(page);
    assert.deepEqual(idle1, idle0);
    assert.equal(server.clients(), 1);

    // Cut from the server's side: the page reconnects (EventSource, retry 1 s) and says so.
    server.dropClients();
    await waitFor("the page back on the stream", async () => server.clients() === 1);
    await waitFor(
      "the page saying it reconnected",
      async () => /reconnected .*, events reloaded/.test((await pageSize(page)).status),
    );
    assert.equal(await page.isHidden("#problem"), true);

    // A new server on the same port (numbering from 1 again): the page takes its recording.
    await server.close();
    await waitFor("the page noticing", async () => !(await page.isHidden("#problem")));
    assert.match(
      await page.textContent("#problem") ?? "",
      /connection to the classroom server is lost/,
    );
    ({ server, rec } = await serveRecording(port));
    await waitFor("the page on the new server", async () => server.clients() === 1);
    await waitFor("the recording again", async () => {
      const s = await pageSize(page);
      return s.status.includes(`of ${rec.ring.length}`) && /reconnected/.test(s.status) &&
        await page.isHidden("#problem");
    });
    const back = await pageSize(page);
    assert.equal(back.items, idle0.items);
    assert.equal(server.clients(), 1, "one stream: the old ones are gone");
    assert.deepEqual(
      consoleErrors.filter((e) => !/ERR_CONNECTION_REFUSED|Failed to load/.test(e)),
      [],
    );
  } finally {
    await page.close();
    await server.close();
  }
});

let classroom: Classroom | null = null;

test("bursts of 1,000 connections with the page open: bounded ring, page and heap", async (t) => {
  if (!ready(t, true)) return;
  assert.equal(labTestBlocker(), null);
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), `lvslab-${LAB}-`));
  await labDown(LAB);
  let page: Page | null = null;
  try {
    await labUp({ name: LAB, readyTimeoutMs: 60_000 });
    classroom = await startClassroom({
      backend: createBackend("netns", LAB, topologyNamed("nat")),
      topologyName: "nat",
      artifactsDir: workDir,
      port: 0,
    });
    page = await openPage(classroom.url);
    await waitFor("live", async () => (await pageSize(page!)).status.startsWith("live"));
    const heaps: number[] = [];
    for (let round = 1; round <= 2; round++) {
      // The server answers while the burst passes through it.
      // The page (small) shows the server's own delay; the state (the 2,000 events) its
      // heaviest answer.
      let slowest = 0;
      let slowestState = 0;
      let answers = 0;
      let biggest = 0;
      let bursting = true;
      const loop = monitorEventLoopDelay({ resolution: 20 });
      loop.enable();
      const probe = (async () => {
        for (let i = 0; bursting; i++) {
          const t0 = Date.now();
          if (i % 4 === 3) {
            const body = await (await fetch(`${classroom!.url}api/state`)).text();
            assert.ok((JSON.parse(body) as StateView).events.length <= RING_SIZE);
            biggest = Math.max(biggest, body.length);
            slowestState = Math.max(slowestState, Date.now() - t0);
          } else {
            assert.equal((await fetch(classroom!.url)).status, 200);
            slowest = Math.max(slowest, Date.now() - t0);
          }
          answers++;
          await new Promise((r) => setTimeout(r, 200));
        }
      })();
      const sent: Response = await fetch(`${classroom.url}api/send`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ count: BURST }),
      });
      const text = ((await sent.json()) as { text: string }).text;
      // The pcap tails catch up with tcpdump.
      await new Promise((r) => setTimeout(r, 2000));
      bursting = false;
      await probe;
      assert.equal(sent.status, 200, text);
      // On a busy 2-core machine a few of curl's 3 s transfers may time out; the lab, not the
      // classroom, is slow then.
      const ok = Number(/^(\d+) of/.exec(text)?.[1]);
      assert.ok(ok >= BURST * 0.95, text);
      loop.disable();
      console.error(
        `burst ${round}: ${text}; ${answers} answers, slowest page ${slowest} ms, slowest ` +
          `state ${slowestState} ms (${(biggest / 1e6).toFixed(1)} MB); event loop delay ` +
          `p99 ${(loop.percentile(99) / 1e6).toFixed(0)} ms, max ${(loop.max / 1e6).toFixed(0)} ms`,
      );
      assert.ok(answers >= 5, `the server answered ${answers} times during the burst`);
      // Bounds for a 2-core machine that CI and other runs share (load 10 seen).
      assert.ok(slowest < 3000, `slowest page: ${slowest} ms`);
      assert.ok(slowestState < 10_000, `slowest /api/state: ${slowestState} ms`);
      gc();
      heaps.push(process.memoryUsage().heapUsed);
    }
    const session = classroom.session;
    const packets = (await readPcap(path.join(workDir, "public.pcap"))).packets.length;
    assert.ok(packets >= 10_000, `${packets} packets on the public segment`);
    assert.equal(session.ring.length, RING_SIZE);
    assert.ok(
      session.ring.dropped >= 10_000,
      `${session.ring.dropped} events dropped from the ring`,
    );
    const grew = (heaps[1] - heaps[0]) / 1e6;
    console.error(
      `server heap after each burst: ${heaps.map((h) => (h / 1e6).toFixed(0)).join(", ")} MB`,
    );
    assert.ok(grew < 40, `the server's heap grew ${grew.toFixed(1)} MB in the second burst`);
    // The page: 2,000 events, a 300-line list, and the count of older ones.
    const size = await waitFor("the page caught up", async () => {
      const s = await pageSize(page!);
      const older = /event 2000 of 2000 · (\d+) older events only in the pcaps/.exec(s.status);
      return older && Number(older[1]) === session.ring.dropped && s;
    });
    assert.ok(size.items <= 300, `${size.items} list items`);
    assert.ok(size.nodes < 2000, `${size.nodes} DOM nodes`);
    const cdp = await page.context().newCDPSession(page);
    await cdp.send("Performance.enable");
    const { metrics } = await cdp.send("Performance.getMetrics");
    const heap = metrics.find((m) => m.name === "JSHeapUsedSize")?.value ?? 0;
    console.error(
      `page: ${size.status}; ${size.nodes} DOM nodes; JS heap ${(heap / 1e6).toFixed(0)} MB`,
    );
    assert.ok(heap > 0 && heap < 150e6, `the page's JS heap: ${heap} bytes`);
    assert.deepEqual(consoleErrors, []);
  } finally {
    await page?.close();
    await classroom?.close();
    await labDown(LAB);
  }
});
