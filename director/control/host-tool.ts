// The entry of a director-host tool (lvs-sysctl, lvs-stats): run it when its file is the
// program, exit with its code, and turn an error into one line prefixed with the tool's name.
export function runAsProgram(
  moduleUrl: string,
  name: string,
  run: (argv: string[]) => Promise<number>,
): void {
  if (moduleUrl !== `file://${process.argv[1]}`) return;
  run(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: Error) => {
      process.stderr.write(`${name}: ${err.message}\n`);
      process.exit(1);
    },
  );
}
