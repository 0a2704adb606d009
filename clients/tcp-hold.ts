// `tcp-hold`: opens long-lived HTTP connections one after another (each answered before the
// next is opened, so a least-connection scheduler sees the previous ones as active), prints
// which real server holds each, keeps them open (a keep-alive GET every --interval-ms, so
// the real server's idle timeout never closes them), and reports what became of each one
// when it is stopped (SIGTERM) or --hold-ms is over.
// Output lines: "tcp-hold ready <json>" once all are open, "tcp-hold result <json>" at the end.
import net from "node:net";
import { Command } from "commander";
import { checkBounded } from "./options.ts";
import { attributeResponse } from "./attribute-response.ts";
import { READY_LINES } from "../director/ready-lines.ts";

/** What became of a held connection. */
export type HeldState =
  | "open" // still open and answering at the end
  | "closed-by-server" // the real server (or its kernel) sent FIN
  | "reset" // an RST arrived
  | "stalled" // a request got no answer in time (e.g. the director drops its packets)
  | "not-opened"; // connect or the first request failed

export interface HeldConnection {
  index: number;
  /** The client's own address and port of the connection (as the director's table shows it). */
  localAddress: string | null;
  localPort: number | null;
  /** Real server name from the first answer, e.g. "rs1". */
  server: string | null;
  /** "address:port" the real server saw the first request on. */
  serverAddress: string | null;
  /** Every answer's server name, in order (stickiness: all the same). */
  servers: string[];
  answered: number;
  state: HeldState;
  error: string | null;
}

export interface HoldReport {
  target: string;
  connections: HeldConnection[];
}

const MAX_RESPONSE = 1 << 20;

/** One HTTP/1.1 keep-alive connection with one request in flight at most. */
class HeldConn {
  readonly info: HeldConnection;
  private socket: net.Socket | null = null;
  private buffer = Buffer.alloc(0);
  private waiting: ((err: Error | null, body?: string) => void) | null = null;

  constructor(index: number, private readonly host: string, private readonly port: number) {
    this.info = {
      index,
      localAddress: null,
      localPort: null,
      server: null,
      serverAddress: null,
      servers: [],
      answered: 0,
      state: "not-opened",
      error: null,
    };
  }

  open(source: string | undefined, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: this.host, port: this.port, localAddress: source });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`no connection within ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once("connect", () => {
        clearTimeout(timer);
        this.socket = socket;
        this.info.localAddress = socket.localAddress ?? null;
        this.info.localPort = socket.localPort ?? null;
        this.info.state = "open";
        resolve();
      });
      socket.on("data", (d: Buffer) => this.onData(d));
      socket.on("end", () => this.onClose("closed-by-server", "the server closed the connection"));
      socket.on("error", (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        if (this.info.state === "not-opened") reject(err);
        else this.onClose(err.code === "ECONNRESET" ? "reset" : "stalled", err.message);
      });
    });
  }

  private onClose(state: HeldState, why: string): void {
    if (this.info.state === "open") {
      this.info.state = state;
      this.info.error = why;
    }
    this.waiting?.(new Error(why));
    this.waiting = null;
  }

  private onData(d: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, d]);
    if (this.buffer.length > MAX_RESPONSE) {
      this.socket?.destroy();
      return;
    }
    const head = this.buffer.indexOf("\r\n\r\n");
    if (head < 0 || !this.waiting) return;
    const match = /content-length:\s*(\d+)/i.exec(this.buffer.subarray(0, head).toString());
    const length = match ? Number(match[1]) : 0;
    if (this.buffer.length < head + 4 + length) return;
    const body = this.buffer.subarray(head + 4, head + 4 + length).toString("utf8");
    this.buffer = this.buffer.subarray(head + 4 + length);
    const done = this.waiting;
    this.waiting = null;
    done(null, body);
  }

  /** Sends one GET and records who answered; failures end the connection's story. */
  request(timeoutMs: number): Promise<void> {
    if (this.info.state !== "open" || !this.socket) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting = null;
        this.info.state = "stalled";
        this.info.error = `no answer within ${timeoutMs} ms`;
        resolve();
      }, timeoutMs);
      this.waiting = (err, body) => {
        clearTimeout(timer);
        if (err) {
          resolve();
          return;
        }
        const a = attributeResponse(body ?? "");
        this.info.answered++;
        this.info.servers.push(a?.server ?? "?");
        if (this.info.server === null) {
          this.info.server = a?.server ?? null;
          this.info.serverAddress = a?.serverAddress ?? null;
        }
        resolve();
      };
      this.socket!.write(`GET / HTTP/1.1\r\nHost: ${this.host}\r\nConnection: keep-alive\r\n\r\n`);
    });
  }

  close(): void {
    this.socket?.destroy();
  }
}

export interface HoldOptions {
  target: string;
  count: number;
  holdMs: number;
  intervalMs: number;
  timeoutMs: number;
  source?: string;
}

/** Opens the connections one by one; returns them once all are open (or failed). */
export async function openHeld(opts: HoldOptions): Promise<HeldConn[]> {
  const [host, portText] = opts.target.split(":");
  const port = Number(portText);
  if (!host || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`--target '${opts.target}' is not address:port like 203.0.113.5:80`);
  }
  const conns: HeldConn[] = [];
  for (let i = 1; i <= opts.count; i++) {
    const c = new HeldConn(i, host, port);
    conns.push(c);
    try {
      await c.open(opts.source, opts.timeoutMs);
      await c.request(opts.timeoutMs);
    } catch (err) {
      c.info.error = (err as Error).message;
    }
  }
  return conns;
}

function integer(value: string): number {
  return /^\d+$/.test(value) ? Number(value) : NaN;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const opts = new Command()
    .name("tcp-hold")
    .description("hold long-lived HTTP connections and report what becomes of them")
    .requiredOption("--target <addr:port>", "service, e.g. 203.0.113.5:80")
    .option("--count <n>", "connections (1-1000)", integer, 1)
    .option("--hold-ms <ms>", "how long to hold them at most (1-600000)", integer, 60_000)
    .option("--interval-ms <ms>", "a GET on each this often; 0: only the first", integer, 1000)
    .option("--timeout-ms <ms>", "deadline per connect and per answer", integer, 2000)
    .option("--source <addr>", "local address to connect from")
    .parse()
    .opts<HoldOptions>();
  try {
    checkBounded("--count", opts.count, 1000);
    checkBounded("--hold-ms", opts.holdMs, 600_000);
    checkBounded("--interval-ms", opts.intervalMs, 600_000, 0);
    checkBounded("--timeout-ms", opts.timeoutMs, 60_000);
  } catch (err) {
    console.error(`tcp-hold: ${(err as Error).message}`);
    process.exit(2);
  }
  const started = Date.now();
  let conns: HeldConn[] = [];
  const report = () => ({ target: opts.target, connections: conns.map((c) => c.info) });
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    console.log(`tcp-hold result ${JSON.stringify(report())}`);
    for (const c of conns) c.close();
    process.exit(0);
  };
  process.on("SIGTERM", finish);
  process.on("SIGINT", finish);
  try {
    conns = await openHeld(opts);
  } catch (err) {
    console.error(`tcp-hold: ${(err as Error).message}`);
    process.exit(2);
  }
  console.log(`${READY_LINES.tcpHold} ${JSON.stringify(report())}`);
  const end = started + opts.holdMs;
  while (!finished && Date.now() < end) {
    const pause = opts.intervalMs > 0 ? opts.intervalMs : end - Date.now();
    await new Promise((r) => setTimeout(r, Math.max(1, Math.min(pause, end - Date.now()))));
    if (opts.intervalMs > 0 && Date.now() < end) {
      await Promise.all(conns.map((c) => c.request(opts.timeoutMs)));
    }
  }
  finish();
}
