// `ftp-server`: the lab's FTP real server. Writes a vsftpd configuration (see vsftpd.ts),
// prepares the anonymous root with a writable pub/ directory, runs vsftpd in the
// foreground, and prints its ready line once vsftpd answers with its 220 banner.
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { Command } from "commander";
import { parseListen } from "./listen-address.ts";
import { findVsftpd, renderVsftpdConfig } from "./vsftpd.ts";
import { READY_LINES } from "../director/ready-lines.ts";

const READY_TIMEOUT_MS = 10_000;

/** The ftp user vsftpd runs anonymous sessions as (Debian's package creates "ftp"). */
function ftpUser(): { name: string; uid: number; gid: number } {
  for (const name of ["ftp", "nobody"]) {
    const r = spawnSync("id", ["-u", name], { encoding: "utf8" });
    const g = spawnSync("id", ["-g", name], { encoding: "utf8" });
    if (r.status === 0 && g.status === 0) {
      return { name, uid: Number(r.stdout.trim()), gid: Number(g.stdout.trim()) };
    }
  }
  throw new Error("neither user 'ftp' nor 'nobody' exists; reinstall the vsftpd package");
}

/** Resolves once a connection to host:port reads a 220 banner; false when it does not. */
function bannerSeen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    let text = "";
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.on("data", (d) => {
      text += d.toString("latin1");
      if (text.includes("\n")) {
        socket.end("QUIT\r\n");
        done(text.startsWith("220"));
      }
    });
    socket.on("error", () => done(false));
  });
}

async function main(): Promise<void> {
  const opts = new Command()
    .name("ftp-server")
    .description("lvslab FTP real server: vsftpd with an anonymous, writable pub/ directory")
    .requiredOption("--listen <addr:port>", "address to listen on, e.g. 172.16.0.3:21")
    .requiredOption("--root <dir>", "anonymous FTP root (created; uploads go to <dir>/pub)")
    .option("--name <name>", "server name for the ready line", "ftp")
    .option("--pasv-min <port>", "lowest passive data port", "30000")
    .option("--pasv-max <port>", "highest passive data port", "30100")
    .option(
      "--pasv-address <addr>",
      "address the 227 reply names (default: the control connection's; a DR real server: the VIP)",
    )
    .parse()
    .opts<
      {
        listen: string;
        root: string;
        name: string;
        pasvMin: string;
        pasvMax: string;
        pasvAddress?: string;
      }
    >();

  const vsftpd = findVsftpd();
  if (vsftpd === null) {
    throw new Error("vsftpd is not installed; install the Debian package: apt-get install vsftpd");
  }
  const { host, port } = parseListen(opts.listen);
  const pasvMin = Number(opts.pasvMin);
  const pasvMax = Number(opts.pasvMax);
  if (!(pasvMin >= 1024 && pasvMax >= pasvMin && pasvMax <= 65535)) {
    throw new Error(
      `passive ports ${opts.pasvMin}-${opts.pasvMax} must be 1024..65535, low to high`,
    );
  }
  if (opts.pasvAddress !== undefined && !net.isIPv4(opts.pasvAddress)) {
    throw new Error(`--pasv-address ${opts.pasvAddress} is not an IPv4 address like 203.0.113.5`);
  }
  const root = path.resolve(opts.root);
  const base = path.dirname(root);
  const user = ftpUser();
  // vsftpd refuses a chroot root its session user can write to: root-owned 755, pub/ writable.
  fs.mkdirSync(root, { recursive: true, mode: 0o755 });
  fs.chmodSync(root, 0o755);
  const pub = path.join(root, "pub");
  fs.mkdirSync(pub, { recursive: true });
  fs.chownSync(pub, user.uid, user.gid);
  fs.chmodSync(pub, 0o755);
  const emptyDir = path.join(base, `vsftpd-${opts.name}-empty`);
  fs.mkdirSync(emptyDir, { recursive: true, mode: 0o755 });
  const configFile = path.join(base, `vsftpd-${opts.name}.conf`);
  const logFile = path.join(base, `vsftpd-${opts.name}.log`);
  fs.writeFileSync(
    configFile,
    renderVsftpdConfig({
      listenAddress: host,
      listenPort: port,
      root,
      emptyDir,
      ftpUser: user.name,
      pasvMinPort: pasvMin,
      pasvMaxPort: pasvMax,
      pasvAddress: opts.pasvAddress,
      logFile,
    }),
  );

  const child = spawn(vsftpd, [configFile], { stdio: "inherit" });
  let exited = false;
  child.on("exit", (code, signal) => {
    exited = true;
    console.error(
      `ftp-server: vsftpd ${signal ? `was killed by ${signal}` : `exited with ${code}`}`,
    );
    process.exit(code ?? 1);
  });
  const stop = () => {
    child.kill("SIGTERM");
    setTimeout(() => process.exit(0), 500).unref();
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);

  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!exited && Date.now() < deadline) {
    if (await bannerSeen(host, port)) {
      console.log(
        `${READY_LINES.ftpServer}: ${opts.name} vsftpd on ${host}:${port}, root ${root}, ` +
          `passive ports ${pasvMin}-${pasvMax}, config ${configFile}`,
      );
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  if (!exited) {
    child.kill("SIGKILL");
    throw new Error(`vsftpd did not answer on ${host}:${port} within ${READY_TIMEOUT_MS / 1000} s`);
  }
}

main().catch((err: Error) => {
  console.error(`ftp-server: ${err.message}`);
  process.exit(1);
});
