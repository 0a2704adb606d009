// The entry of a director-host tool (lvs-sysctl, lvs-stats): run it when its file is the
// program, exit with its code, and turn an error into one line prefixed with the tool's name.

/**
 * Exits with `code` once stdout and stderr have taken everything written: Node writes to a
 * pipe asynchronously, and process.exit() right after a large write cuts the output at the
 * pipe's 64 KiB (`ipvsadm -L -n -c` with a thousand connections, read through docker exec).
 */
export function exitAfterOutput(code: number): void {
  let pending = 2;
  const done = () => {
    if (--pending === 0) process.exit(code);
  };
  process.stdout.write("", done);
  process.stderr.write("", done);
}

export function runAsProgram(
  moduleUrl: string,
  name: string,
  run: (argv: string[]) => Promise<number>,
): void {
  if (moduleUrl !== `file://${process.argv[1]}`) return;
  run(process.argv.slice(2)).then(
    (code) => exitAfterOutput(code),
    (err: Error) => {
      process.stderr.write(`${name}: ${err.message}\n`);
      exitAfterOutput(1);
    },
  );
}
