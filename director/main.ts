// `lvslab-director`: runs the userspace LVS director in the current network namespace.
import { Command, Option } from "commander";
import { Director, TRANSMIT_MODES, type TransmitMode } from "./director.ts";
import { loadDirectorConfig, parseDirectorConfig } from "./config/service-config.ts";

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
  .parse();

const opts = program.opts<
  {
    config?: string;
    tun: string;
    privateDev?: string;
    offload: boolean;
    transmit: TransmitMode;
  }
>();

async function main(): Promise<void> {
  const config = opts.config ? loadDirectorConfig(opts.config) : parseDirectorConfig("", "(none)");
  const director = new Director({
    tunName: opts.tun,
    privateDev: opts.privateDev,
    offload: opts.offload,
    transmit: opts.transmit,
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
  try {
    await director.start();
  } catch (err) {
    await director.stop().catch(() => {});
    throw err;
  }
  console.log(
    `lvslab-director ready: tun ${opts.tun}, offload ${
      opts.offload ? "on" : "off"
    }, transmit ${opts.transmit}, ${config.services.length} service(s)`,
  );
}

main().catch((err: Error) => {
  console.error(`lvslab-director: ${err.message}`);
  process.exit(1);
});
