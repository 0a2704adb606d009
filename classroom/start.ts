// Starts a classroom on a lab: brings the lab up if needed (lab/cli/lab-ready.ts), starts the
// session (captures, tables) and the page's server. What `lvslab classroom` and the browser
// test both call.
import type { LabBackend } from "../lab/backend.ts";
import { topologyNamed } from "../lab/topologies/index.ts";
import { ensureLabUp } from "../lab/cli/lab-ready.ts";
import { ClassroomSession } from "./session.ts";
import { type ClassroomServer, serveClassroom } from "./server.ts";

export interface Classroom {
  url: string;
  session: ClassroomSession;
  /** Stops the server, the captures and the feed; the lab stays up. */
  close(): Promise<void>;
}

export async function startClassroom(options: {
  backend: LabBackend;
  topologyName: string;
  artifactsDir: string;
  port?: number;
  log?: (line: string) => void;
}): Promise<Classroom> {
  const { backend } = options;
  await ensureLabUp(backend, options.topologyName);
  const session = new ClassroomSession({
    backend,
    topology: topologyNamed(options.topologyName),
    artifactsDir: options.artifactsDir,
    log: options.log,
  });
  try {
    await session.start();
  } catch (err) {
    // Whatever started (captures, the feed) ends with it.
    await session.stop().catch(() => {});
    throw err;
  }
  let server: ClassroomServer;
  try {
    server = await serveClassroom(session, backend.name, options.port);
  } catch (err) {
    await session.stop();
    throw err;
  }
  return {
    url: server.url,
    session,
    close: async () => {
      await server.close();
      await session.stop();
    },
  };
}
