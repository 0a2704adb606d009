// The bench's lab, tuned for tens of thousands of short connections, with nginx and iperf3 on
// the real servers; and the one way a bench mode runs on it: the lab comes up, the mode runs,
// and whatever happens (an error, Ctrl-C) every program started is stopped and the lab removed.
import { labDown, labUp } from "../lab/netns/lab.ts";
import { setSysctls } from "../lab/netns/namespaces.ts";
import { namespaceName } from "../lab/topology.ts";
import { benchTopology, LAB } from "./config.ts";
import { stopAll } from "./procs.ts";
import { startRealServers } from "./realservers.ts";

type Log = (line: string) => void;

/**
 * Brings the lab up; nginx also listens on `extraPorts` of each real server. Returns the PIDs
 * of rs1's iperf3 servers (the bulk receivers, whose CPU the bench counts).
 */
async function prepareLab(workDir: string, log: Log, extraPorts: number[]): Promise<number[]> {
  await labDown(LAB);
  log(`bringing up lab '${LAB}' (work files in ${workDir})`);
  await labUp({ name: LAB, director: false, topology: benchTopology() });
  const ns = (host: string) => namespaceName(LAB, host);
  // Wide port range, quick port reuse, deep backlogs.
  setSysctls(ns("client"), {
    "net.ipv4.ip_local_port_range": "1024 65000",
    "net.ipv4.tcp_tw_reuse": "1",
  });
  for (const host of ["director", "rs1", "rs2"]) {
    setSysctls(ns(host), {
      "net.core.somaxconn": "4096",
      "net.ipv4.tcp_max_syn_backlog": "4096",
    });
  }
  return (await startRealServers(workDir, extraPorts)).iperf3.map((p) => p.pid);
}

/**
 * Runs `fn` on a fresh lab (given rs1's iperf3 server PIDs) and removes the lab afterwards, on
 * error and on SIGINT/SIGTERM too.
 */
export async function onBenchLab<T>(
  workDir: string,
  log: Log,
  fn: (serverPids: number[]) => Promise<T>,
  extraPorts: number[] = [],
): Promise<T> {
  let cleaning: Promise<void> | null = null;
  const cleanup = () =>
    cleaning ??= (async () => {
      await stopAll().catch(() => {});
      await labDown(LAB).catch((err: Error) => log(`lab teardown: ${err.message}`));
    })();
  const onSignal = (sig: NodeJS.Signals) => {
    log(`${sig}: stopping the load and removing lab '${LAB}'`);
    void cleanup().then(() => process.exit(130));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    return await fn(await prepareLab(workDir, log, extraPorts));
  } finally {
    await cleanup();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}
