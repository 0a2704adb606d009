// Starts a classroom on a lab: brings the lab up if needed (lab/cli/lab-ready.ts), starts the
// session (captures, tables) and the page's server. What `lvslab classroom` and the browser
// test both call. The page may switch the method: the session stops, the lab goes down
// (every namespace, process and capture of it: its teardown must leave nothing), the other
// method's lab comes up under the same name by the same path `lvslab classroom --method X`
// takes, and a new session starts on it, its pcaps in a folder of its own.
import fs from "node:fs";
import path from "node:path";
import type { LabBackend } from "../lab/backend.ts";
import { createBackend } from "../lab/backends.ts";
import { METHOD_TOPOLOGIES, topologyNamed } from "../lab/topologies/index.ts";
import { ensureLabUp } from "../lab/cli/lab-ready.ts";
import { ClassroomSession } from "./session.ts";
import { type ClassroomServer, serveClassroom } from "./server.ts";

export interface Classroom {
  url: string;
  /** The session on the lab now (a new one after each switch of the method). */
  readonly session: ClassroomSession;
  /** The lab's topology now. */
  readonly topologyName: string;
  /** Stops the server, the captures and the feed; the lab stays up. */
  close(): Promise<void>;
}

interface StartOptions {
  backend: LabBackend;
  topologyName: string;
  artifactsDir: string;
  port?: number;
  log?: (line: string) => void;
}

/** Brings the lab up (or takes the one up) and starts a session on it. */
async function openSession(
  backend: LabBackend,
  topologyName: string,
  artifactsDir: string,
  log?: (line: string) => void,
): Promise<ClassroomSession> {
  await ensureLabUp(backend, topologyName);
  const session = new ClassroomSession({
    backend,
    topology: topologyNamed(topologyName),
    artifactsDir,
    log,
  });
  try {
    await session.start();
  } catch (err) {
    // Whatever started (captures, the feed) ends with it.
    await session.stop().catch(() => {});
    throw err;
  }
  return session;
}

/** Takes the lab down and says what is left, if anything, as a sentence. */
async function takeDown(backend: LabBackend): Promise<void> {
  const report = await backend.teardown();
  if (report.remaining.length > 0) {
    throw new Error(
      `lab '${backend.name}' did not go down fully (left: ${report.remaining.join("; ")}); ` +
        `run 'lvslab down --name ${backend.name}' and pick the method again`,
    );
  }
}

export async function startClassroom(options: StartOptions): Promise<Classroom> {
  let backend = options.backend;
  let topologyName = options.topologyName;
  let session = await openSession(backend, topologyName, options.artifactsDir, options.log);
  let switches = 0;

  const switchMethod = async (method: string): Promise<ClassroomSession> => {
    const next = METHOD_TOPOLOGIES[method];
    await session.stop();
    await takeDown(backend);
    backend = createBackend(backend.kind, backend.name, topologyNamed(next));
    topologyName = next;
    const dir = path.join(options.artifactsDir, `${++switches}-${next}`);
    fs.mkdirSync(dir, { recursive: true });
    try {
      session = await openSession(backend, next, dir, options.log);
    } catch (err) {
      // Half a lab helps no one: down again, so the next pick starts clean.
      await takeDown(backend).catch(() => {});
      throw err;
    }
    return session;
  };

  let server: ClassroomServer;
  try {
    server = await serveClassroom(session, backend.name, options.port, { switchMethod });
  } catch (err) {
    await session.stop();
    throw err;
  }
  return {
    url: server.url,
    get session() {
      return session;
    },
    get topologyName() {
      return topologyName;
    },
    close: async () => {
      await server.close();
      await session.stop();
    },
  };
}
