// The classroom page: the recorded events (live from /api/events, the ring from /api/state),
// one of them selected and shown (topology path lit, before/after with the changed fields,
// the connection's row marked); live, paused, stepped or replayed over the recording: live
// packets are never held, stepping moves over what was recorded (as Packet Tracer steps its
// event list). Plain DOM, bundled by esbuild into /app.js; no library, no CDN.
import type {
  ClassroomEvent,
  Field,
  PacketView,
  StateView,
  TablesView,
  TopologyView,
} from "../event-types.ts";
import type { MethodNews } from "../method-switch.ts";
import { isRecording, showRecording } from "./recording.ts";

/** Events the page keeps (the server's ring is the same size). */
const MAX_EVENTS = 2000;
const REPLAY_STEP_MS = 900;
/** Fields shown before "every header field" is ticked (changed ones are always shown). */
const SHORT_FIELDS = new Set([
  "Ethernet source MAC",
  "Ethernet destination MAC",
  "IP TTL",
  "IP header checksum",
  "IP source",
  "IP destination",
  "TCP source port",
  "TCP destination port",
  "TCP flags",
  "TCP checksum",
  "UDP source port",
  "UDP destination port",
  "UDP checksum",
  "ICMP type/code",
  "ICMP checksum",
  "ICMP quoted packet",
  "Payload first line",
  // A tunnel's outer header (all new): where it goes and how; the rest with "a".
  "Outer IP source",
  "Outer IP destination",
  "Outer IP tunnel",
  "Outer UDP destination port",
  "Outer UDP checksum",
  "GRE checksum",
]);
/** Layers that are new in a tunnel packet: listed short unless every field is asked for. */
const NEW_LAYERS = /^(Outer IP|Outer UDP|GUE|GRE)$/;

type Mode = "live" | "paused" | "replay";

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

const events: ClassroomEvent[] = [];
let cursor = -1;
let mode: Mode = "live";
let tables: TablesView | null = null;
let schedulers: string[] = [];
/** The service table is redrawn only when it changed (a select keeps its focus). */
let servicesHtml = "";
let topology: TopologyView | null = null;
let replayTimer: number | null = null;
let renderQueued = false;
let failed = false;
let listDirty = true;
/** "DR" while the server rebuilds the lab for VS/DR (the method control). */
let rebuilding: string | null = null;

function esc(s: string): string {
  return s.replace(
    /[&<>"]/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!,
  );
}

function key(f: Field): string {
  return `${f.layer} ${f.name}`;
}

function current(): ClassroomEvent | null {
  return cursor >= 0 && cursor < events.length ? events[cursor] : null;
}

/** Coalesces renders: a burst of thousands of events draws at most once per frame. */
function render(): void {
  if (renderQueued) return;
  renderQueued = true;
  requestAnimationFrame(() => {
    renderQueued = false;
    draw();
  });
}

function draw(): void {
  const e = current();
  $("explanation").textContent = e ? e.text : "Send a request to see the director at work.";
  drawList();
  drawPackets(e);
  drawTopology(e);
  drawTables(e);
  const position = events.length ? `${cursor + 1} of ${events.length}` : "no events yet";
  const newer = mode !== "live" && cursor < events.length - 1
    ? ` · ${events.length - 1 - cursor} newer`
    : "";
  // The ring keeps the latest events; the first one's number says how many went before it.
  const older = events.length && events[0].seq > 1
    ? ` · ${events[0].seq - 1} older events only in the pcaps`
    : "";
  $("status").textContent = rebuilding
    ? `rebuilding the lab for VS/${rebuilding}…`
    : `${mode} · event ${position}${newer}${older}${connection}`;
  for (const b of document.querySelectorAll<HTMLButtonElement>("button.method")) {
    const on = b.dataset.method === topology?.name;
    b.classList.toggle("on", on);
    // A recording has no lab to rebuild.
    b.disabled = rebuilding !== null || isRecording();
  }
  $("pause").textContent = mode === "live" ? "Pause" : "Live";
  $("pause").classList.toggle("on", mode !== "live");
  $("replay").classList.toggle("on", mode === "replay");
  $("fail").textContent = failed ? "Restore rs2" : "Fail rs2";
}

function drawList(): void {
  const list = $("events");
  if (listDirty) {
    // The last 300 around the cursor: the DOM stays small however long the run.
    list.innerHTML = "";
    listDirty = false;
  }
  const from = Math.max(0, Math.min(cursor - 150, events.length - 300));
  const shown = events.slice(from, from + 300);
  const html = shown.map((e, i) => {
    const cls = [e.kind, from + i === cursor ? "current" : ""].join(" ");
    return `<li value="${e.seq}" class="${cls}" data-index="${from + i}">${esc(e.text)}</li>`;
  }).join("");
  list.innerHTML = html;
  list.querySelector(".current")?.scrollIntoView({ block: "nearest" });
}

function fieldRows(p: PacketView, changed: Set<string>, other: PacketView | undefined): string {
  const all = ($("allfields") as HTMLInputElement).checked;
  const old = new Map(other?.fields.map((f) => [key(f), f.value]) ?? []);
  const shown = (f: Field) =>
    all || SHORT_FIELDS.has(key(f)) || (changed.has(key(f)) && !NEW_LAYERS.test(f.layer));
  return p.fields.filter(shown)
    .map((f) => {
      const k = key(f);
      const was = !changed.has(k) || !other
        ? ""
        : old.has(k)
        ? ` <span class="was">(was ${esc(old.get(k)!)})</span>`
        : ` <span class="was">(new)</span>`;
      return `<tr class="${changed.has(k) ? "changed" : ""}" data-field="${esc(k)}">` +
        `<td class="layer">${f.layer}</td><td class="name">${esc(f.name)}</td>` +
        `<td class="value">${esc(f.value)}${was}</td></tr>`;
    }).join("");
}

function packetCard(
  title: string,
  p: PacketView | undefined,
  changed: Set<string>,
  other?: PacketView,
): string {
  if (!p) return `<h3>${title}</h3><p>—</p>`;
  return `<h3>${title} <small>(${esc(p.segment)} #${p.frame}, ${esc(p.summary)})</small></h3>` +
    `<div class="sd">${esc(p.sourceDest)}</div><table>${fieldRows(p, changed, other)}</table>`;
}

function drawPackets(e: ClassroomEvent | null): void {
  const changed = new Set(e?.changed ?? []);
  if (e?.kind === "pair") {
    $("before").innerHTML = packetCard("Before the director", e.before, new Set());
    $("after").innerHTML = packetCard("After the director", e.after, changed, e.before);
  } else {
    $("before").innerHTML = packetCard("Seen on one side only", e?.packet, new Set());
    $("after").innerHTML = packetCard("After the director", undefined, new Set());
  }
}

interface NodeBox {
  x: number;
  y: number;
}

function layout(t: TopologyView): Map<string, NodeBox> {
  const column: Record<string, number> = { client: 0, router: 1, director: 2, realserver: 3 };
  const xs = [40, 130, 200, 310];
  const byColumn = new Map<number, string[]>();
  for (const h of t.hosts) {
    const c = column[h.role] ?? 1;
    byColumn.set(c, [...(byColumn.get(c) ?? []), h.name]);
  }
  const boxes = new Map<string, NodeBox>();
  for (const [c, names] of byColumn) {
    names.forEach((n, i) => boxes.set(n, { x: xs[c], y: (190 / (names.length + 1)) * (i + 1) }));
  }
  // Behind a router (VS/DR, VS/TUN) the director hangs below it, off the lines from the
  // router to the servers.
  const director = t.hosts.find((h) => h.role === "director")?.name;
  if (director && t.hosts.some((h) => h.role === "router")) {
    boxes.set(director, { x: xs[2], y: 150 });
  }
  return boxes;
}

/** The hosts the selected packet passed, in order. */
function pathOf(e: ClassroomEvent | null, t: TopologyView): string[] {
  if (!e || (e.kind !== "pair" && e.kind !== "packet")) return [];
  const role = (r: string) => t.hosts.find((h) => h.role === r)?.name;
  const [client, router, director] = [role("client"), role("router"), role("director")];
  const serverAddr = e.server?.split(":")[0];
  const server = t.hosts.find((h) => h.addresses.includes(serverAddr ?? ""))?.name;
  const hops = (list: (string | undefined)[]) => list.filter((x): x is string => !!x);
  // A reply that bypasses the director (VS/DR): the real server, the router, the client.
  if (e.kind === "packet" && server && router) return hops([server, router, client]);
  // VS/TUN: the tunnel packet goes back through the router to a server behind it.
  const via = server && router && !sharesNetwork(t, director, server) ? router : undefined;
  const path = hops([client, router, director, ...(e.kind === "pair" ? [via, server] : [])]);
  return e.direction === "to-client" ? path.reverse() : path;
}

function sharesNetwork(t: TopologyView, a: string | undefined, b: string): boolean {
  return t.networks.some((n) => n.hosts.includes(a ?? "") && n.hosts.includes(b));
}

/** Lines of the picture: each host to its network's router (else director), and on a LAN
 * the director to each real server too (VS/DR's frames). */
function links(t: TopologyView): [string, string][] {
  const roleOf = (n: string) => t.hosts.find((h) => h.name === n)?.role;
  const out: [string, string][] = [];
  for (const net of t.networks) {
    const hub = net.hosts.find((h) => roleOf(h) === "router") ??
      net.hosts.find((h) => roleOf(h) === "director");
    if (!hub) continue;
    for (const h of net.hosts) if (h !== hub) out.push([hub, h]);
    const director = net.hosts.find((h) => roleOf(h) === "director");
    if (director && director !== hub) {
      for (const h of net.hosts) if (roleOf(h) === "realserver") out.push([director, h]);
    }
  }
  return out;
}

function drawTopology(e: ClassroomEvent | null): void {
  const t = topology;
  if (!t) return;
  const boxes = layout(t);
  const lit = pathOf(e, t);
  const litPairs = new Set(lit.slice(1).map((n, i) => [lit[i], n].sort().join("|")));
  let svg = "";
  for (const [from, to] of links(t)) {
    const pair = [from, to].sort().join("|");
    const a = boxes.get(from)!;
    const b = boxes.get(to)!;
    svg += `<line x1="${a.x}" y1="${a.y}" x2="${b.x}" y2="${b.y}" class="${
      litPairs.has(pair) ? "lit" : ""
    }" data-link="${esc(pair)}"/>`;
  }
  for (const h of t.hosts) {
    const b = boxes.get(h.name)!;
    svg +=
      `<rect x="${b.x - 34}" y="${b.y - 16}" width="68" height="32" class="${
        lit.includes(h.name) ? "lit" : ""
      }" data-host="${esc(h.name)}"/>` +
      `<text x="${b.x}" y="${b.y - 2}">${esc(h.name)}</text>` +
      `<text x="${b.x}" y="${b.y + 11}">${esc(h.addresses[0] ?? "")}</text>`;
    if (h.role === "director") svg += `<text x="${b.x}" y="${b.y + 28}">VIP ${esc(t.vip)}</text>`;
  }
  $("topology").innerHTML = svg;
}

function drawTables(e: ClassroomEvent | null): void {
  if (!tables) return;
  let s = "<tr><th>service / real server</th><th>sched/wt</th><th>act</th><th>conns</th>" +
    "<th>in</th><th>out</th></tr>";
  for (const svc of tables.services) {
    const options = schedulers.map((n) =>
      `<option${n === svc.scheduler ? " selected" : ""}>${n}</option>`
    ).join("");
    s += `<tr class="service"><td>${svc.protocol} ${svc.address}</td><td><select ` +
      `data-service="${svc.address}" aria-label="scheduler of ${svc.address}">${options}` +
      `</select></td>` +
      `<td></td><td>${svc.conns}</td><td>${svc.inpkts}</td><td>${svc.outpkts}</td></tr>`;
    for (const d of svc.destinations) {
      const marked = e?.server === d.address ? "marked" : "";
      s +=
        `<tr class="${marked}" data-server="${d.address}"><td>  → ${d.address} ${d.method}</td>` +
        `<td><button class="w" data-service="${svc.address}" data-server="${d.address}" ` +
        `data-weight="${d.weight - 1}" aria-label="weight down">−</button>${d.weight}` +
        `<button class="w" data-service="${svc.address}" data-server="${d.address}" ` +
        `data-weight="${d.weight + 1}" aria-label="weight up">+</button></td>` +
        `<td>${d.active}</td><td>${d.conns}</td><td>${d.inpkts}</td><td>${d.outpkts}</td></tr>`;
    }
  }
  if (s !== servicesHtml) $("services").innerHTML = servicesHtml = s;
  // The protocol and virtual address columns are left out: one VIP, TCP, in this lab.
  let c = "<tr><th>expire</th><th>state</th><th>source</th><th>destination</th></tr>";
  for (const r of tables.connections) {
    const marked = e?.connection === `${r.protocol.toLowerCase()} ${r.client}` ? "marked" : "";
    c += `<tr class="${marked}" data-client="${r.client}" title="${r.protocol} ${r.virtual}">` +
      `<td>${r.expires}</td><td>${r.state}</td><td>${r.client}</td><td>${r.destination}</td></tr>`;
  }
  $("connections").innerHTML = c;
}

function addEvent(e: ClassroomEvent): void {
  if (events.length && e.seq <= events[events.length - 1].seq) return;
  events.push(e);
  if (events.length > MAX_EVENTS) {
    events.shift();
    cursor = Math.max(0, cursor - 1);
  }
  if (e.kind === "action" && e.text.startsWith("rs2 failed")) failed = true;
  if (e.kind === "action" && e.text.startsWith("rs2 restored")) failed = false;
  if (e.kind === "problem") showProblem(e.text);
  if (mode === "live") cursor = events.length - 1;
  render();
}

function showProblem(text: string): void {
  const p = $("problem");
  p.textContent = text;
  p.hidden = false;
}

function setMode(m: Mode): void {
  if (replayTimer !== null) clearInterval(replayTimer);
  replayTimer = null;
  mode = m;
  if (m === "live") cursor = events.length - 1;
  if (m === "replay") {
    cursor = 0;
    replayTimer = setInterval(() => {
      if (cursor >= events.length - 1) return setMode("paused");
      cursor++;
      render();
    }, REPLAY_STEP_MS) as unknown as number;
  }
  render();
}

function step(by: number): void {
  if (mode !== "paused") setMode("paused");
  cursor = Math.max(0, Math.min(events.length - 1, cursor + by));
  render();
}

async function post(action: string, body: unknown = {}): Promise<void> {
  const buttons = ["send", "burst", "fail"].map((id) => $<HTMLButtonElement>(id));
  buttons.forEach((b) => (b.disabled = true));
  try {
    const r = await fetch(`/api/${action}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    if (!r.ok) showProblem(((await r.json()) as { error: string }).error);
  } catch (err) {
    showProblem(`the classroom server does not answer (${(err as Error).message})`);
  } finally {
    buttons.forEach((b) => (b.disabled = isRecording()));
  }
}

function wire(): void {
  $("send").onclick = () => post("send", { count: 1 });
  $("burst").onclick = () => post("burst");
  $("fail").onclick = () => post(failed ? "restore" : "fail", { host: "rs2" });
  $("pause").onclick = () => setMode(mode === "live" ? "paused" : "live");
  $("back").onclick = () => step(-1);
  $("step").onclick = () => step(1);
  $("replay").onclick = () => setMode("replay");
  for (const b of document.querySelectorAll<HTMLButtonElement>("button.method")) {
    b.onclick = () => switchMethod(b.dataset.method!);
  }
  $("allfields").onchange = () => render();
  $("services").onclick = (ev) => {
    const b = (ev.target as HTMLElement).closest("button.w") as HTMLButtonElement | null;
    if (!b || Number(b.dataset.weight) < 0) return;
    void post("weight", {
      service: b.dataset.service,
      server: b.dataset.server,
      weight: Number(b.dataset.weight),
    });
  };
  $("services").onchange = (ev) => {
    const sel = ev.target as HTMLSelectElement;
    void post("scheduler", { service: sel.dataset.service, scheduler: sel.value });
  };
  $("events").onclick = (ev) => {
    const li = (ev.target as HTMLElement).closest("li");
    if (!li) return;
    if (mode !== "paused") setMode("paused");
    cursor = Number(li.dataset.index);
    render();
  };
  document.addEventListener("keydown", (ev) => {
    if (
      ev.target instanceof HTMLInputElement || ev.target instanceof HTMLSelectElement ||
      ev.ctrlKey || ev.metaKey || ev.altKey
    ) return;
    const keys: Record<string, () => void> = {
      " ": () => $("pause").click(),
      ArrowLeft: () => step(-1),
      ArrowRight: () => step(1),
      s: () => $("send").click(),
      b: () => $("burst").click(),
      f: () => $("fail").click(),
      r: () => setMode("replay"),
      l: () => setMode("live"),
      e: () => $("export").click(),
      n: () => switchMethod("nat"),
      d: () => switchMethod("dr"),
      t: () => switchMethod("tun"),
      a: () => {
        const box = $<HTMLInputElement>("allfields");
        box.checked = !box.checked;
        render();
      },
    };
    const k = keys[ev.key];
    if (!k) return;
    ev.preventDefault();
    k();
  });
}

/** The method control: the server rebuilds the lab; the page says so until it is up. */
function switchMethod(method: string): void {
  if (rebuilding !== null || method === topology?.name) return;
  rebuilding = method.toUpperCase();
  $("problem").hidden = true;
  render();
  void post("method", { method });
}

/** The server's news about a switch: rebuilding, ready (load the new view) or failed. */
function methodNews(news: MethodNews): void {
  if (news.state === "ready") return location.reload();
  rebuilding = news.state === "rebuilding" ? news.method : null;
  if (news.state === "failed") showProblem(news.text);
  render();
}

/** The reload in flight (one at a time: a burst's gaps would start hundreds). */
let reloading: Promise<void> | null = null;
/** Events that arrived during it, applied after it (at most MAX_EVENTS). */
let arrived: ClassroomEvent[] = [];

function reload(): Promise<void> {
  if (reloading) return reloading;
  reloading = (async () => {
    const state = await (await fetch("/api/state")).json() as StateView;
    // Another lab than the one drawn (the method was switched while the stream was down).
    if (topology && state.topology.name !== topology.name && state.rebuilding === null) {
      return location.reload();
    }
    rebuilding = state.rebuilding;
    events.length = 0;
    for (const e of state.events) addEvent(e);
    tables = state.tables;
    cursor = Math.min(cursor, events.length - 1);
  })().finally(() => {
    reloading = null;
    const later = arrived;
    arrived = [];
    for (const e of later) receive(e);
    render();
  });
  return reloading;
}

/** An event from the stream: added, or, after a gap (events passed unseen), a reload. */
function receive(e: ClassroomEvent): void {
  if (reloading) {
    arrived.push(e);
    if (arrived.length > MAX_EVENTS) arrived.shift();
    return;
  }
  const last = events.at(-1);
  if (last && e.seq > last.seq + 1) void reload();
  else addEvent(e);
}

/** What the status line says about the connection: "", "reconnected 12:03:04 …". */
let connection = "";
let source: EventSource | null = null;
let heartbeatTimer: number | null = null;

/** Reconnects when two heartbeats are missed (a connection that died without a close). */
function watchHeartbeat(every: number): void {
  if (heartbeatTimer !== null) clearTimeout(heartbeatTimer);
  heartbeatTimer = setTimeout(() => {
    showProblem(`no heartbeat from the classroom server for ${(2 * every) / 1000} s; reconnecting`);
    connect(true);
  }, 2 * every) as unknown as number;
}

/** The event stream; `lost`: opened again after a loss, so the recording is taken again. */
function connect(lost: boolean): EventSource {
  source?.close();
  const s = source = new EventSource("/api/events");
  s.addEventListener("event", (m) => {
    const e = JSON.parse((m as MessageEvent).data) as ClassroomEvent;
    if (pending) return void pending.push(e);
    receive(e);
  });
  s.addEventListener("method", (m) => methodNews(JSON.parse((m as MessageEvent).data)));
  s.addEventListener("tables", (m) => {
    tables = JSON.parse((m as MessageEvent).data);
    render();
  });
  s.addEventListener("heartbeat", (m) => {
    const h = JSON.parse((m as MessageEvent).data) as { every: number; last: number };
    watchHeartbeat(h.every);
    // Events passed unseen, or the server is a new one numbering from 1 again.
    const last = events.at(-1)?.seq ?? 0;
    if (!pending && h.last !== last) void reload();
  });
  s.onopen = () => {
    $("problem").hidden = true;
    // Back after a loss: the server may be a new one (numbering from 1 again), or events
    // passed meanwhile; take its recording as it is now, and say so.
    if (lost) {
      connection = ` · reconnected ${new Date().toLocaleTimeString()}, events reloaded`;
      void reload();
    }
    lost = false;
  };
  s.onerror = () => {
    lost = true;
    connection = " · disconnected";
    showProblem("the connection to the classroom server is lost; it retries by itself");
    render();
  };
  return s;
}

let pending: ClassroomEvent[] | null = [];

async function start(): Promise<void> {
  wire();
  // The stream first, then the recording: nothing passes between the two unseen.
  connect(false);
  const state = await (await fetch("/api/state")).json() as StateView;
  topology = state.topology;
  tables = state.tables;
  schedulers = state.schedulers;
  rebuilding = state.rebuilding;
  $("title").textContent = `lvslab classroom · VS/${state.topology.method} · lab ${state.lab}`;
  for (const e of state.events) addEvent(e);
  for (const e of pending!) addEvent(e); // addEvent skips those the recording already held
  pending = null;
  if (showRecording(state.recording)) {
    $("title").textContent =
      `lvslab classroom · VS/${state.topology.method} · recording ${state.lab}`;
    step(-events.length);
  }
  render();
}

void start();
