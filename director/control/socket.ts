// director/control/: how the table changes and how it is read: this socket, the requests applied in
// the packet worker (apply.ts), and the snapshots ipvsadm prints (snapshot.ts).
//
// The director's control API: newline-delimited JSON over a unix socket in the abstract
// namespace. Abstract sockets belong to the network namespace they were made in, so each
// director host has exactly one, nothing is left on disk, and only local processes of
// that host can reach it.
import net from "node:net";

/** The control socket's name; the leading NUL puts it in the abstract namespace. */
export const CONTROL_SOCKET = "\0lvslab-director";

export type ControlHandler = (request: Record<string, unknown>) => Promise<unknown>;

/** Serves requests: one JSON object per line in, one `{ok, result | error}` per line out. */
export function serveControl(handler: ControlHandler, path = CONTROL_SOCKET): Promise<net.Server> {
  const server = net.createServer((socket) => {
    let pending = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      pending += chunk;
      let newline: number;
      while ((newline = pending.indexOf("\n")) >= 0) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        if (line.trim() === "") continue;
        void answer(line).then((reply) => socket.write(JSON.stringify(reply) + "\n"));
      }
    });
    socket.on("error", () => socket.destroy());
  });
  const answer = async (line: string) => {
    let request: unknown;
    try {
      request = JSON.parse(line);
    } catch {
      return { ok: false, error: "control request is not valid JSON" };
    }
    if (typeof request !== "object" || request === null || Array.isArray(request)) {
      return { ok: false, error: "control request must be a JSON object" };
    }
    try {
      return { ok: true, result: await handler(request as Record<string, unknown>) };
    } catch (err) {
      return { ok: false, error: (err as Error).message };
    }
  };
  return new Promise((resolve, reject) => {
    server.once("error", (err: NodeJS.ErrnoException) => {
      reject(
        err.code === "EADDRINUSE"
          ? new Error("another director already runs in this network namespace")
          : err,
      );
    });
    server.listen(path, () => resolve(server));
  });
}

/** Sends one request to the director of this network namespace and returns its result. */
export function callDirector(
  request: Record<string, unknown>,
  path = CONTROL_SOCKET,
  timeoutMs = 10_000,
): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const socket = net.createConnection(path);
    let reply = "";
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the director did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.setEncoding("utf8");
    socket.on("connect", () => socket.write(JSON.stringify(request) + "\n"));
    socket.on("data", (chunk: string) => {
      reply += chunk;
      const newline = reply.indexOf("\n");
      if (newline < 0) return;
      clearTimeout(timer);
      socket.end();
      const parsed = JSON.parse(reply.slice(0, newline)) as
        | { ok: true; result: unknown }
        | { ok: false; error: string };
      if (parsed.ok) resolve(parsed.result);
      else reject(new Error(parsed.error));
    });
    socket.on("error", (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(
        err.code === "ECONNREFUSED" || err.code === "ENOENT"
          ? new Error("no lvslab director is running in this network namespace")
          : err,
      );
    });
  });
}
