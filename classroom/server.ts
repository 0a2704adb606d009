// classroom/: the browser view of a running lab (`lvslab classroom`). This file is the HTTP
// side: node:http on 127.0.0.1 only, the page and its one script (bundled by esbuild from
// page/main.ts at start, so nothing comes from a CDN), Server-Sent Events for the live
// events (one-way is all the page needs; buttons are plain POSTs), and the controls.
//   GET  /               the page            GET /api/state   ring, tables, topology
//   GET  /app.js, /style.css                 GET /api/events  SSE: event / tables messages
//   GET  /api/pcap       the ring's packets   POST /api/send {count}, /api/fail {host},
//                                                 /api/restore {host}, /api/weight
//                                                 {service, server, weight}, /api/scheduler
//                                                 {service, scheduler}, /api/method
//                                                 {method}: rebuilds the lab (method-switch.ts)
import http from "node:http";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import type { ClassroomSession } from "./session.ts";
import { BURST } from "./session.ts";
import { SCHEDULER_NAMES } from "../director/schedulers/index.ts";
import type { StateView } from "./event-types.ts";
import { type MethodSwitch, methodSwitcher } from "./method-switch.ts";

const PAGE_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), "page");
/** Only this address: the page drives a lab, so nothing outside the machine may reach it. */
export const LISTEN_ADDRESS = "127.0.0.1";
export const DEFAULT_PORT = 8480;
/**
 * How often each event stream gets a heartbeat (an SSE event the page sees, not a comment it
 * cannot): the page reconnects when two are missed (page/main.ts), and each carries the last
 * event's number, so a page that missed events while idle takes the recording again.
 */
export const HEARTBEAT_MS = 15_000;
/** How soon a page's EventSource tries again after the stream ends. */
const RETRY_MS = 1000;
/** Bytes waiting to go to one page beyond which its events are left out (about 400 events). */
const STREAM_BACKLOG = 1 << 20;
/** A POST body larger than this is not a button press. */
const MAX_BODY = 4096;

/** Bundles the page's script into one file, in memory. */
export async function bundlePage(): Promise<string> {
  const r = await build({
    entryPoints: [path.join(PAGE_DIR, "main.ts")],
    bundle: true,
    write: false,
    format: "esm",
    target: "es2022",
    logLevel: "silent",
  });
  return r.outputFiles[0].text;
}

function send(res: http.ServerResponse, status: number, type: string, body: string | Buffer) {
  res.writeHead(status, { "content-type": type, "cache-control": "no-store" });
  res.end(body);
}

function json(res: http.ServerResponse, status: number, value: unknown) {
  send(res, status, "application/json; charset=utf-8", JSON.stringify(value));
}

function readBody(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (c: string) => {
      body += c;
      if (body.length > MAX_BODY) {
        reject(new Error("the request body is too large"));
        req.destroy();
      }
    });
    req.on("end", () => {
      if (!body.trim()) return resolve({});
      try {
        const v = JSON.parse(body);
        if (typeof v !== "object" || v === null || Array.isArray(v)) throw new Error();
        resolve(v);
      } catch {
        reject(new Error("the request body must be a JSON object"));
      }
    });
    req.on("error", reject);
  });
}

export interface ClassroomServer {
  url: string;
  close(): Promise<void>;
  /** Event streams open now (one per page). */
  clients(): number;
  /** Cuts every event stream, as a network drop would (the pages reconnect by themselves). */
  dropClients(): void;
}

/**
 * One page's event stream (server-sent events): the session's events and tables as they come,
 * the heartbeat from the start; the page's entry in `streams` until it goes.
 */
function openStream(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  session: ClassroomSession,
  streams: Set<http.ServerResponse>,
  heartbeat: () => string,
): void {
  res.writeHead(200, {
    "content-type": "text/event-stream",
    "cache-control": "no-store",
    connection: "keep-alive",
  });
  res.write(`retry: ${RETRY_MS}\n${heartbeat()}`);
  streams.add(res);
  let behind = false;
  const unsubscribe = session.subscribe((m) => {
    // A page that does not keep up (a burst, a busy machine) is not buffered for without
    // bound: its events are left out until it catches up, and it sees the gap in their
    // numbers and takes the ring from /api/state (page/main.ts).
    if (m.event && res.writableLength > STREAM_BACKLOG) {
      // Once it has caught up, a heartbeat names the last event: the page sees it missed some.
      if (!behind) res.once("drain", () => (behind = false, res.write(heartbeat())));
      behind = true;
      return;
    }
    if (m.event) res.write(`event: event\ndata: ${JSON.stringify(m.event)}\n\n`);
    if (m.tables) res.write(`event: tables\ndata: ${JSON.stringify(m.tables)}\n\n`);
  });
  const done = () => {
    unsubscribe();
    streams.delete(res);
  };
  req.on("close", done);
  res.on("error", done);
}

/** Listens on 127.0.0.1:port; a port in use is a sentence that says what to do. */
function listen(server: http.Server, port: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once("error", (err: NodeJS.ErrnoException) =>
      reject(
        err.code === "EADDRINUSE"
          ? new Error(`port ${port} on ${LISTEN_ADDRESS} is in use; pick another with --port`)
          : err,
      ));
    server.listen(port, LISTEN_ADDRESS, () => resolve());
  });
}

export async function serveClassroom(
  first: ClassroomSession,
  labName: string,
  port = DEFAULT_PORT,
  options: { switchMethod?: MethodSwitch; heartbeatMs?: number } = {},
): Promise<ClassroomServer> {
  const heartbeatMs = options.heartbeatMs ?? HEARTBEAT_MS;
  // The session changes when the page switches the method.
  let session = first;
  const script = await bundlePage();
  const html = fs.readFileSync(path.join(PAGE_DIR, "index.html"), "utf8");
  const css = fs.readFileSync(path.join(PAGE_DIR, "style.css"), "utf8");
  const streams = new Set<http.ServerResponse>();

  const state = (): StateView => ({
    lab: labName,
    topology: session.topologyView(),
    events: session.ring.items().map((x) => x.event),
    tables: session.tables,
    schedulers: [...SCHEDULER_NAMES],
    artifacts: session.artifactsDir,
    dropped: session.ring.dropped,
    problems: session.problems,
    rebuilding: switcher.rebuilding,
    recording: session.recording,
  });

  const tell = (type: string, value: unknown) => {
    for (const s of streams) s.write(`event: ${type}\ndata: ${JSON.stringify(value)}\n\n`);
  };
  const switcher = methodSwitcher(() => session, options.switchMethod, tell, (next) => {
    session = next;
    // The streams were the old session's: the pages reconnect to the new one.
    for (const s of streams) s.end();
  });

  const actions: Record<string, (body: Record<string, unknown>) => Promise<string>> = {
    send: (b) => session.send(b.count === undefined ? 1 : Number(b.count)),
    burst: () => session.send(BURST),
    fail: (b) => session.fail(String(b.host ?? "")),
    restore: (b) => session.restore(String(b.host ?? "")),
    weight: (b) => session.setWeight(String(b.service), String(b.server), Number(b.weight)),
    scheduler: (b) => session.setScheduler(String(b.service), String(b.scheduler)),
    method: (b) => switcher.switchTo(String(b.method ?? "")),
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const route = `${req.method} ${url.pathname}`;
    if (route === "GET /") return send(res, 200, "text/html; charset=utf-8", html);
    if (route === "GET /app.js") return send(res, 200, "text/javascript; charset=utf-8", script);
    if (route === "GET /style.css") return send(res, 200, "text/css; charset=utf-8", css);
    if (route === "GET /favicon.ico") return send(res, 204, "image/x-icon", "");
    if (route === "GET /api/state") return json(res, 200, state());
    if (route === "GET /api/events") return openStream(req, res, session, streams, heartbeat);
    if (route === "GET /api/pcap") {
      res.setHeader("content-disposition", `attachment; filename="${labName}-classroom.pcap"`);
      return send(res, 200, "application/vnd.tcpdump.pcap", session.exportPcap());
    }
    const action = req.method === "POST" && url.pathname.startsWith("/api/")
      ? actions[url.pathname.slice(5)]
      : undefined;
    if (!action) return json(res, 404, { error: `nothing at ${route}` });
    readBody(req)
      .then((body) => switcher.refuseWhileRebuilding(url.pathname) ?? action(body))
      .then((text) => json(res, 200, { ok: true, text }))
      .catch((err: Error) => {
        session.problem(err.message);
        json(res, 400, { error: err.message });
      });
  });
  const heartbeat = () =>
    `event: heartbeat\ndata: ${
      JSON.stringify({ every: heartbeatMs, last: session.ring.nextSeq - 1 })
    }\n\n`;
  const keepalive = setInterval(() => {
    for (const s of streams) s.write(heartbeat());
  }, heartbeatMs);
  await listen(server, port);
  const bound = (server.address() as { port: number }).port;
  return {
    url: `http://${LISTEN_ADDRESS}:${bound}/`,
    clients: () => streams.size,
    dropClients: () => {
      for (const s of streams) s.destroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(keepalive);
        for (const s of streams) s.end();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
