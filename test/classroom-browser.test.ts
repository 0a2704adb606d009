// `lvslab classroom` in a real browser: Debian's chromium driven by playwright-core (pinned to
// the same Chromium major, research/wave2-classroom.md), against a real NAT lab. The page
// loads without a console error; "send request" (the s key) makes a before/after pair whose
// highlighted fields are exactly those that differ between the two packets in the segment
// pcaps (read by lab/analysis, matched by twins.ts over the whole files, not by the page's
// live matching), checksums shown with old and new values; the connection's row is marked;
// "fail rs2" takes rs2 out of the service table and the next burst goes to rs1 only;
// back and step walk the recorded events in the server's order, replay goes forward from
// the first; the export is a pcap of those packets. Then the method is switched from the page
// (d, t): the lab is rebuilt as VS/DR, whose pair highlights exactly the fields that differ
// between the director's two copies of the client's packet on the LAN (the MACs, the TTL,
// the IP checksum), then as VS/TUN, whose tunnel packet's outer header is all new and whose
// inner packet is the client's from the pcap. Each view is screenshotted into docs/classroom/
// (the README shows them).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { labDown, labUp } from "../lab/netns/lab.ts";
import { createBackend } from "../lab/backends.ts";
import { topologyNamed } from "../lab/topologies/index.ts";
import { REPO_ROOT } from "../lab/paths.ts";
import { labTestBlocker, requireRoot } from "../lab/testing/require-root.ts";
import { readPcap } from "../lab/analysis/read-pcap.ts";
import { matchTwins } from "../lab/analysis/twins.ts";
import { type Packet, TCP_ACK, TCP_SYN } from "../lab/analysis/packet.ts";
import { pathKey } from "../lab/analysis/dr-path.ts";
import { decodeTunnel } from "../lab/analysis/tunnel-decode.ts";
import { readHostLinks } from "../lab/capture/host-links.ts";
import { captureSegments } from "../lab/capture/segments.ts";
import { labNamespaces } from "../lab/topology.ts";
import { type Classroom, startClassroom } from "../classroom/start.ts";
import type { StateView } from "../classroom/event-types.ts";

const LAB = process.env.LVSLAB_CLASSROOM_TEST_LAB ?? "lvstcls";
const CHROMIUM = process.env.LVSLAB_CHROMIUM ?? "/usr/bin/chromium";
const SHOTS = path.join(REPO_ROOT, "docs", "classroom");
const canRun = labTestBlocker() === null;

let classroom: Classroom | null = null;
let browser: Browser | null = null;
let page: Page;
let workDir = "";
const consoleErrors: string[] = [];

/** Why the browser cannot run here, or null. */
function browserBlocker(): string | null {
  if (!fs.existsSync(CHROMIUM)) {
    return `${CHROMIUM} is missing; install Debian's chromium (apt-get install chromium)`;
  }
  return null;
}

before(async () => {
  if (!canRun || browserBlocker()) return;
  const version = spawnSync(CHROMIUM, ["--version"], { encoding: "utf8" }).stdout.trim();
  const pinned = JSON.parse(
    fs.readFileSync(path.join(REPO_ROOT, "node_modules/playwright-core/browsers.json"), "utf8"),
  ).browsers.find((b: { name: string }) => b.name === "chromium").browserVersion as string;
  const major = (v: string) => /(\d+)\./.exec(v)?.[1];
  if (major(version) !== major(pinned)) {
    console.error(`warning: ${version}, but playwright-core expects Chromium ${pinned}`);
  }
  await labDown(LAB);
  // Up first with a generous ready timeout: a loaded CI machine can take the director past
  // the default 15 s; the classroom then uses the lab that is up.
  await labUp({ name: LAB, readyTimeoutMs: 60_000 });
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), `lvslab-${LAB}-`));
  classroom = await startClassroom({
    backend: createBackend("netns", LAB, topologyNamed("nat")),
    topologyName: "nat",
    artifactsDir: workDir,
    port: 0,
  });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--disable-gpu", "--disable-quic", "--disable-sync"],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
  page.on("console", (m) => {
    if (m.type() === "error") consoleErrors.push(m.text());
  });
  page.on("pageerror", (e) => consoleErrors.push(e.message));
  fs.mkdirSync(SHOTS, { recursive: true });
});

after(async () => {
  await browser?.close();
  await classroom?.close();
  if (canRun) await labDown(LAB);
});

function ready(t: Parameters<typeof requireRoot>[0]): boolean {
  if (!requireRoot(t)) return false;
  const blocker = browserBlocker();
  if (blocker === null) return true;
  if (process.env.CI === "true") throw new Error(`the browser test must run in CI: ${blocker}`);
  t.skip(blocker);
  return false;
}

async function state(): Promise<StateView> {
  return await (await fetch(`${classroom!.url}api/state`)).json() as StateView;
}

/** Waits until the server's recorded events hold one whose text matches. */
async function waitForEvent(re: RegExp, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await state()).events.some((e) => re.test(e.text))) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.fail(`no event matching ${re} within ${timeoutMs} ms`);
}

function u16(b: Uint8Array, at: number): number {
  return (b[at] << 8) | b[at + 1];
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(4, "0")}`;
}

/** The page's name for each field that differs, computed from the two packets directly. */
function differences(a: Packet, b: Packet): Map<string, [string, string]> {
  const d = new Map<string, [string, string]>();
  const put = (name: string, x: unknown, y: unknown) => {
    if (String(x) !== String(y)) d.set(name, [String(x), String(y)]);
  };
  put("Ethernet source MAC", a.srcMac, b.srcMac);
  put("Ethernet destination MAC", a.dstMac, b.dstMac);
  put("IP TTL", a.ttl, b.ttl);
  put("IP header checksum", hex(u16(a.ipBytes, 10)), hex(u16(b.ipBytes, 10)));
  put("IP source", a.src, b.src);
  put("IP destination", a.dst, b.dst);
  put("TCP source port", a.srcPort, b.srcPort);
  put("TCP destination port", a.dstPort, b.dstPort);
  const sum = (p: Packet) => hex(u16(p.ipBytes, p.headerLength + 16));
  put("TCP checksum", sum(a), sum(b));
  return d;
}

test("the classroom page in chromium: pairs, tables, failure, stepping, export", async (t) => {
  if (!ready(t)) return;
  const url = classroom!.url;
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  await page.goto(url);
  await page.waitForFunction(() =>
    document.title !== "" &&
    document.getElementById("title")!.textContent!.includes("VS/NAT")
  );
  await page.waitForSelector("#services tr.service");

  // "send request" from the keyboard: a new connection, paired across the director.
  await sendAndSelect();
  const explanation = await page.locator("#explanation").textContent();
  assert.match(
    explanation!,
    /^new connection: wrr picked 172\.16\.0\.[23]:(80|8000) \(weight [12]\)/,
  );
  const shown = await page.locator("#after tr.changed").evaluateAll((rows) =>
    rows.map((r) => [
      (r as HTMLElement).dataset.field!,
      r.querySelectorAll("td")[2].textContent!,
    ])
  );
  // The same connection's SYN in the segment pcaps, paired over whole files.
  const pub = await readPcap(path.join(workDir, "public.pcap"));
  const priv = await readPcap(path.join(workDir, "private.pcap"));
  const syn = matchTwins(pub.packets, priv.packets, { vip: "203.0.113.5" }).pairs.find((p) =>
    p.direction === "to-server" && p.before.tcp !== null &&
    (p.before.tcp.flags & (TCP_SYN | TCP_ACK)) === TCP_SYN
  );
  assert.ok(syn, "the pcaps hold the request's SYN and its twin");
  const expected = differences(syn.before, syn.after);
  assert.deepEqual(new Set(shown.map(([f]) => f)), new Set(expected.keys()));
  for (const name of ["IP destination", "TCP destination port", "IP header checksum"]) {
    assert.ok(expected.has(name), `NAT changes ${name}`);
  }
  // Checksums with old and new values.
  for (const name of ["IP header checksum", "TCP checksum"]) {
    const [old, now] = expected.get(name)!;
    const text = shown.find(([f]) => f === name)![1];
    assert.ok(text.startsWith(now) && text.includes(`(was ${old}`), `${name}: ${text}`);
  }
  // The connection's row in the director's table is marked.
  const client = `${syn.before.src}:${syn.before.srcPort}`;
  await page.waitForSelector(`#connections tr.marked[data-client="${client}"]`);
  await page.screenshot({ path: path.join(SHOTS, "pair.png") });

  // Every header field opens with a key.
  await page.keyboard.press("a");
  assert.ok(await page.locator('#after tr[data-field="TCP sequence"]').count() === 1);
  await page.keyboard.press("a");

  // Fail rs2: it leaves the table, and the next burst goes to rs1 only.
  await page.keyboard.press("l");
  await page.keyboard.press("f");
  await waitForEvent(/^rs2 failed/);
  await page.waitForFunction(() =>
    !document.getElementById("services")!.textContent!.includes("172.16.0.3:8000")
  );
  await page.keyboard.press("b");
  await waitForEvent(/^20 of 20 answered \(rs1 20\)$/);
  const afterFail = (await state()).events.filter((e) => /^new connection/.test(e.text));
  assert.ok(afterFail.at(-1)!.text.includes("picked 172.16.0.2:80"), afterFail.at(-1)!.text);
  await page.screenshot({ path: path.join(SHOTS, "failed.png") });
  await page.keyboard.press("f");
  await waitForEvent(/^rs2 restored/);
  await page.waitForFunction(() =>
    document.getElementById("services")!.textContent!.includes("172.16.0.3:8000")
  );

  // Pause, back, step: the page walks the server's recording in its order.
  const recorded = (await state()).events;
  await page.waitForFunction(
    (n) =>
      document.querySelectorAll("#events li").length > 0 &&
      document.getElementById("status")!.textContent!.includes(`of ${n}`),
    recorded.length,
  );
  await page.keyboard.press(" ");
  await page.waitForFunction(() =>
    document.getElementById("status")!.textContent!.startsWith("paused")
  );
  const status = async () => (await page.locator("#status").textContent())!;
  assert.match(await status(), /^paused · event (\d+) of/);
  const at = () =>
    page.locator("#events li.current").evaluate((l) => Number(l.getAttribute("value")));
  // The page draws on the next animation frame: wait (bounded) for the event a key should
  // select, then read what is selected, so a wrong step still fails with the value seen.
  const atAfterKey = async (keyName: string, expected: number) => {
    await page.keyboard.press(keyName);
    await page.waitForFunction(
      (s) => Number(document.querySelector("#events li.current")?.getAttribute("value")) === s,
      expected,
      { timeout: 5_000 },
    ).catch(() => {});
    return await at();
  };
  const start = await at();
  const startIndex = recorded.findIndex((e) => e.seq === start);
  for (let i = 1; i <= 3; i++) {
    const expected = recorded[startIndex - i].seq;
    assert.equal(await atAfterKey("ArrowLeft", expected), expected);
  }
  const forward = recorded[startIndex - 2].seq;
  assert.equal(await atAfterKey("ArrowRight", forward), forward);
  const shownText = await page.locator("#explanation").textContent();
  assert.equal(shownText, recorded[startIndex - 2].text);

  // Replay from the first event, forward in order.
  await page.keyboard.press("r");
  await page.waitForFunction(() =>
    document.getElementById("status")!.textContent!.startsWith("replay")
  );
  assert.match(await status(), /^replay · event [12] of/);
  const seen: number[] = [await at()];
  for (let i = 0; i < 3; i++) {
    await page.waitForFunction(
      (s) => Number(document.querySelector("#events li.current")!.getAttribute("value")) > s,
      seen.at(-1)!,
    );
    seen.push(await at());
  }
  // Sampled from outside (a sample may fall between two 900 ms steps on a loaded machine):
  // from the first recorded event, forward, over recorded events only.
  const order = seen.map((seq) => recorded.findIndex((e) => e.seq === seq));
  assert.equal(order[0], 0, `replay starts at the first event (${seen})`);
  assert.ok(order.every((i, k) => i >= 0 && (k === 0 || i > order[k - 1])), `in order: ${seen}`);
  await page.screenshot({ path: path.join(SHOTS, "replay.png") });
  await page.keyboard.press("l");

  // The export is a pcap of the recorded packets.
  const pcap = Buffer.from(await (await fetch(`${url}api/pcap`)).arrayBuffer());
  const file = path.join(workDir, "export.pcap");
  fs.writeFileSync(file, pcap);
  const exported = await readPcap(file);
  const inRing = (await state()).events.reduce(
    (n, e) => n + (e.kind === "pair" ? 2 : e.kind === "packet" ? 1 : 0),
    0,
  );
  assert.equal(exported.packets.length, inRing);
  assert.ok(exported.packets.some((p) => p.dst === "203.0.113.5" && p.tcp?.flags === TCP_SYN));

  assert.deepEqual(consoleErrors, [], "the page logs no console error");
});

/** The rows the page highlights in "after the director": [field, shown value]. */
function changedRows(): Promise<string[][]> {
  return page.locator("#after tr.changed").evaluateAll((rows) =>
    rows.map((r) => [(r as HTMLElement).dataset.field!, r.querySelectorAll("td")[2].textContent!])
  );
}

const isSyn = (p: Packet) => p.tcp !== null && (p.tcp.flags & (TCP_SYN | TCP_ACK)) === TCP_SYN;

const namespaces = () =>
  spawnSync("ip", ["netns", "list"], { encoding: "utf8" }).stdout.split("\n")
    .map((l) => l.split(" ")[0]).filter((n) => n.startsWith(`${LAB}-`)).sort();
const captures = () =>
  spawnSync("pgrep", ["-a", "tcpdump"], { encoding: "utf8" }).stdout.split("\n")
    .filter((l) => l.includes(`-w ${workDir}/`));

/** Presses the method's key; the page says it rebuilds, then shows the new lab's view. */
async function switchTo(keyName: string, method: string): Promise<StateView> {
  const started = Date.now();
  await page.keyboard.press(keyName);
  await page.waitForFunction(
    (m) => document.getElementById("status")!.textContent === `rebuilding the lab for VS/${m}…`,
    method,
    { timeout: 5_000 },
  );
  await page.waitForFunction(
    (m) => document.getElementById("title")!.textContent!.includes(`VS/${m} `),
    method,
    { timeout: 120_000 },
  );
  await page.waitForSelector("#services tr.service");
  console.error(`rebuilt for VS/${method} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const s = await state();
  assert.equal(s.topology.method, method);
  // Nothing of the old lab is left: the new topology's namespaces only, and its captures.
  const topology = topologyNamed(s.topology.name);
  assert.deepEqual(namespaces(), labNamespaces(LAB, topology).sort());
  const running = captures();
  assert.equal(running.length, captureSegments(topology).length, running.join("\n"));
  assert.ok(running.every((l) => l.includes(`-w ${s.artifacts}/`)), running.join("\n"));
  return s;
}

/** One request from the page; the new connection's first pair selected. */
async function sendAndSelect(): Promise<void> {
  await page.keyboard.press("s");
  await waitForEvent(/^1 of 1 answered/);
  const li = page.locator("#events li", { hasText: "new connection" }).first();
  await li.waitFor();
  await li.click();
  await page.locator("#after tr.changed").first().waitFor();
}

test("the method switched from the page: VS/DR and VS/TUN views", async (t) => {
  if (!ready(t)) return;
  // VS/DR: the same IP packet in a new frame; the page marks exactly what differs.
  const dr = await switchTo("d", "DR");
  await sendAndSelect();
  assert.match(
    (await page.locator("#explanation").textContent())!,
    /^new connection: wrr picked 172\.16\.0\.[23]:80 .*frame to rs[12]'s MAC/,
  );
  const links = readHostLinks(dr.artifacts)!;
  const directorMac = links.find((l) => l.role === "director" && l.network === "lan")!.mac;
  const lan = (await readPcap(path.join(dr.artifacts, "lan.pcap"))).packets;
  const arrived = lan.find((p) => p.dst === "203.0.113.5" && isSyn(p) && p.dstMac === directorMac);
  assert.ok(arrived, "lan.pcap holds the SYN as the router handed it to the director");
  const copy = lan.find((p) => p.srcMac === directorMac && pathKey(p) === pathKey(arrived));
  assert.ok(copy, "lan.pcap holds the director's copy of the SYN");
  const drShown = await changedRows();
  const drExpected = differences(arrived, copy);
  assert.deepEqual(new Set(drShown.map(([f]) => f)), new Set(drExpected.keys()));
  for (const name of ["Ethernet source MAC", "Ethernet destination MAC"]) {
    assert.ok(drExpected.has(name), `DR changes the ${name}`);
  }
  assert.ok(!drExpected.has("IP destination") && !drExpected.has("IP source"), "not the addresses");
  await page.screenshot({ path: path.join(SHOTS, "dr.png") });

  // VS/TUN: the client's packet inside a new outer header to the real server.
  const tun = await switchTo("t", "TUN");
  await sendAndSelect();
  const explained = (await page.locator("#explanation").textContent())!;
  assert.match(
    explained,
    /^new connection: wrr picked 172\.16\.([23])\.2:80 .*; tunnel: (IPIP|GUE udp\/6080 csum) to 172\.16\.\1\.2 \(rs[12]\), inner packet unchanged/,
  );
  const dirnet = (await readPcap(path.join(tun.artifacts, "dirnet.pcap"))).packets;
  const came = dirnet.find((p) => p.dst === "203.0.113.5" && isSyn(p) && p.src !== "172.16.1.2");
  assert.ok(came, "dirnet.pcap holds the SYN as the router handed it to the director");
  const tunnel = dirnet.map((p) => decodeTunnel(p, "172.16.1.2")).find((x) =>
    x?.inner && pathKey(x.inner) === pathKey(came)
  );
  assert.ok(tunnel, "dirnet.pcap holds the director's tunnel packet with the SYN inside");
  // Inside: the client's packet byte for byte, but the TTL and the header checksum.
  const strip = (p: Packet) => {
    const b = Buffer.from(p.ipBytes);
    b[8] = 0;
    b.writeUInt16BE(0, 10);
    return b;
  };
  assert.deepEqual(strip(tunnel.inner!), strip(came));
  // Every header field open ("a"): the whole outer header is there, all of it new.
  await page.keyboard.press("a");
  await page.locator('#after tr[data-field="Outer IP id"]').waitFor();
  const tunShown = await changedRows();
  const outer = tunShown.filter(([f]) => /^(Outer IP|Outer UDP|GUE|GRE) /.test(f));
  const inner = tunShown.filter(([f]) => !/^(Outer IP|Outer UDP|GUE|GRE) /.test(f));
  // Every outer field the page lists is highlighted, as new.
  const outerListed = await page.locator("#after tr").evaluateAll((rows) =>
    rows.map((r) => (r as HTMLElement).dataset.field!).filter((f) =>
      /^(Outer IP|Outer UDP|GUE|GRE) /.test(f)
    )
  );
  assert.deepEqual(outer.map(([f]) => f), outerListed);
  assert.ok(outer.every(([, v]) => v.endsWith("(new)")), JSON.stringify(outer));
  const value = (f: string) => outer.find(([k]) => k === f)?.[1].replace(/ \(new\)$/, "");
  assert.equal(value("Outer IP source"), "172.16.1.2");
  assert.equal(value("Outer IP destination"), tunnel.outer.dst);
  // The rest: exactly what differs between the packet that came and the one that left.
  const expected = new Map([
    ...[...differences(came, tunnel.outer)].filter(([k]) => k.startsWith("Ethernet ")),
    ...[...differences(came, tunnel.inner!)].filter(([k]) => !k.startsWith("Ethernet ")),
  ]);
  assert.deepEqual(new Set(inner.map(([f]) => f)), new Set(expected.keys()));
  // The path is lit through the router to the server behind it.
  const server = tunnel.outer.dst === "172.16.2.2" ? "rs1" : "rs2";
  const lit = await page.locator("#topology rect.lit").evaluateAll((r) =>
    r.map((x) => (x as HTMLElement).dataset.host).sort()
  );
  assert.deepEqual(lit, ["client", "director", "router", server]);
  assert.equal(await page.locator(`#topology line.lit[data-link="router|${server}"]`).count(), 1);
  await page.keyboard.press("a");
  await page.screenshot({ path: path.join(SHOTS, "tun.png") });

  assert.deepEqual(consoleErrors, [], "the page logs no console error");
});
