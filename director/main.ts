// `lvslab-director`: runs the userspace LVS director in the current network namespace.
import { Command, InvalidArgumentError, Option } from "commander";
import {
  AUTO_HANDOFF_BACKLOG,
  DEFAULT_NAT_TRANSMIT,
  DEFAULT_TRANSMIT_THREADS,
  Director,
  MAX_TRANSMIT_THREADS,
  NAT_TRANSMIT_MODES,
  type NatTransmitMode,
  TRANSMIT_MODES,
  type TransmitMode,
} from "./director.ts";
import { parseCpuMask } from "./host/rps.ts";
import { loadDirectorConfig, parseDirectorConfig } from "./config/service-config.ts";
import { READY_LINES } from "./ready-lines.ts";
import { DEFAULT_TUN_READ, TUN_READ_MODES, type TunReadOption } from "./tun/tun-reader.ts";

function parseCpuMaskOption(text: string): string {
  try {
    return parseCpuMask(text);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

function parseBacklog(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 65536) {
    throw new InvalidArgumentError("give a whole number of packets from 0 to 65536");
  }
  return n;
}

function parseTransmitThreads(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > MAX_TRANSMIT_THREADS) {
    throw new InvalidArgumentError(
      `give a whole number of threads from 1 to ${MAX_TRANSMIT_THREADS}`,
    );
  }
  return n;
}

const program = new Command()
  .name("lvslab-director")
  .description("Userspace Linux Virtual Server director reading a TUN device")
  .option("-c, --config <file>", "service table (YAML); without it the table starts empty")
  .option("--tun <name>", "TUN device name", "lvs0")
  .option(
    "--private-dev <dev>",
    "interface facing the real servers (their replies are routed to the director)",
  )
  .option("--no-offload", "do not ask the kernel for TSO super-packets and partial checksums")
  .addOption(
    new Option(
      "--transmit <mode>",
      "who writes packets back: the packet thread (off), a transmit thread (always), " +
        "or the transmit thread when the packet thread falls behind (auto)",
    ).choices(TRANSMIT_MODES).default("auto"),
  )
  .addOption(
    new Option(
      "--nat-transmit <mode>",
      "how VS/NAT packets leave: in frames from a packet socket on the interface their " +
        "route names (packet), or written back into the TUN device for the kernel to " +
        "forward (tun)",
    ).choices(NAT_TRANSMIT_MODES).default(DEFAULT_NAT_TRANSMIT),
  )
  .addOption(
    new Option(
      "--tun-read <mode>",
      "how the packet thread reads the TUN device: a batch of reads per io_uring_enter " +
        "(uring), or one read(2) per packet (read)",
    ).choices(TUN_READ_MODES).default(DEFAULT_TUN_READ),
  )
  .option(
    "--handoff-backlog <n>",
    "--transmit auto: packets read in a row, without the TUN queue running empty, after " +
      "which writes and frames move to the transmit thread",
    parseBacklog,
    AUTO_HANDOFF_BACKLOG,
  )
  .option(
    "--transmit-threads <n>",
    "transmit threads (with --transmit auto or always): each writes and sends the flows " +
      "a hash of their addresses and ports gives it, in the order they were read",
    parseTransmitThreads,
    DEFAULT_TRANSMIT_THREADS,
  )
  .addOption(
    new Option(
      "--frame-handoff <mode>",
      "whether frames (VS/DR, VS/NAT by packet sockets) move to the transmit thread under " +
        "backlog like TUN writes (on), or are always sent by the packet thread (off)",
    ).choices(["on", "off"]).default("on"),
  )
  .option(
    "--rps-cpus <mask>",
    "steer what the director writes to these CPUs (hexadecimal mask, e.g. 3): the kernel " +
      "forwards it there instead of in the director's write(2); helps parallel streams",
    parseCpuMaskOption,
  )
  .option(
    "--allow-test-fill",
    "accept the bench's control request that fills the connection table with synthetic " +
      "ESTABLISHED entries (npm run bench -- --scaling); never on a director serving users",
    false,
  )
  .parse();

const opts = program.opts<
  {
    config?: string;
    tun: string;
    privateDev?: string;
    offload: boolean;
    transmit: TransmitMode;
    natTransmit: NatTransmitMode;
    handoffBacklog: number;
    transmitThreads: number;
    frameHandoff: "on" | "off";
    tunRead: TunReadOption;
    rpsCpus?: string;
    allowTestFill: boolean;
  }
>();

async function main(): Promise<void> {
  if (opts.transmit === "off" && opts.transmitThreads > 1) {
    throw new Error(
      `--transmit off has no transmit thread, so --transmit-threads ${opts.transmitThreads} ` +
        "cannot apply; use --transmit auto or always",
    );
  }
  const config = opts.config ? loadDirectorConfig(opts.config) : parseDirectorConfig("", "(none)");
  const director = new Director({
    tunName: opts.tun,
    privateDev: opts.privateDev,
    offload: opts.offload,
    transmit: opts.transmit,
    natTransmit: opts.natTransmit,
    handoffBacklog: opts.handoffBacklog,
    transmitThreads: opts.transmitThreads,
    frameHandoff: opts.frameHandoff === "on",
    tunRead: opts.tunRead,
    rpsCpus: opts.rpsCpus,
    allowTestFill: opts.allowTestFill,
    config,
  });
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await director.stop();
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  if (director.tunReadFallback !== undefined) {
    console.log(
      `--tun-read auto: no io_uring here (${director.tunReadFallback}); one read(2) per packet`,
    );
  }
  try {
    await director.start();
  } catch (err) {
    await director.stop().catch(() => {});
    throw err;
  }
  console.log(
    `${READY_LINES.director}: tun ${opts.tun}, offload ${
      opts.offload ? "on" : "off"
    }, transmit ${opts.transmit}${
      opts.transmit === "off" ? "" : ` (${opts.transmitThreads} thread(s))`
    }, nat-transmit ${opts.natTransmit}, tun-read ${director.tunRead}, ${config.services.length} service(s)`,
  );
}

main().catch((err: Error) => {
  console.error(`lvslab-director: ${err.message}`);
  process.exit(1);
});
