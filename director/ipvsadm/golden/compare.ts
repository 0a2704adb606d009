// Runs an ipvsadm 1.31 built against stub-libipvs.c and compares what it prints with the
// expectations committed in format.test.ts and parse-args.test.ts. The expectations are read
// out of the test files themselves (TypeScript's parser, not a copy), so what is checked here
// is exactly what the tests assert of lvslab.
//   format.test.ts      every `const NAME = lines(...)` golden: stdout of the command line
//                       GOLDEN_COMMANDS maps it to; plus the timeouts line, the size=1048576
//                       case and the 33/28-character cuts
//   parse-args.test.ts  every rejects(argv, message, status): stderr is message + "\n" and
//                       the exit status matches
// Usage: node --import tsx director/ipvsadm/golden/compare.ts IPVSADM FIXTUREDIR [OUTDIR]
// Prints a unified diff for each difference and exits 1 if there is any.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const here = dirname(fileURLToPath(import.meta.url));
const [bin, fixtures, outDir] = process.argv.slice(2);
if (!bin || !fixtures) throw new Error("usage: compare.ts IPVSADM FIXTUREDIR [OUTDIR]");

/** ipvsadm's command line for each golden in format.test.ts. */
const GOLDEN_COMMANDS: Record<string, string[]> = {
  plain: ["-L"],
  plainN: ["-L", "-n"],
  nosortN: ["-L", "-n", "--nosort"],
  statsN: ["-L", "-n", "--stats"],
  statsExactN: ["-L", "-n", "--stats", "--exact"],
  rateN: ["-L", "-n", "--rate"],
  rateExactN: ["-L", "-n", "--rate", "--exact"],
  thresholdsN: ["-L", "-n", "--thresholds"],
  pconnN: ["-L", "-n", "--persistent-conn"],
  tuninfoN: ["-L", "-n", "--tun-info"],
  saveN: ["-S", "-n"],
  save: ["-S"],
  serviceN: ["-L", "-n", "-t", "203.0.113.5:80", "--stats"],
  connN: ["-L", "-n", "-c"],
  conn: ["-L", "-c"],
  connPcN: ["-L", "-n", "-c", "--persistent-conn"],
  tunnelsTuninfoN: ["-L", "-n", "--tun-info"],
  tunnelsSaveN: ["-S", "-n"],
};

/** Goldens of another fixture table than table.txt (labSnapshot). */
const GOLDEN_TABLES: Record<string, string> = {
  tunnelsTuninfoN: "tunnels.txt",
  tunnelsSaveN: "tunnels.txt",
};

interface Run {
  stdout: string;
  stderr: string;
  status: number | null;
}

function ipvsadm(argv: string[], env: Record<string, string> = {}, input = ""): Run {
  const r = spawnSync(bin, argv, {
    argv0: "ipvsadm", // the try-help line names argv[0]
    input,
    encoding: "utf8",
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      LC_ALL: "C",
      LVSLAB_STUB_TABLE: join(fixtures, "table.txt"),
      LVSLAB_STUB_CONN: join(fixtures, "ip_vs_conn"),
      ...env,
    },
  });
  if (r.error) throw r.error;
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}

function parse(file: string): ts.SourceFile {
  const path = join(here, "..", file);
  return ts.createSourceFile(path, readFileSync(path, "utf8"), ts.ScriptTarget.ES2022, true);
}

function walk(node: ts.Node, visit: (n: ts.Node) => void) {
  visit(node);
  node.forEachChild((c) => walk(c, visit));
}

/** String constants (`const V = "..."`) so that rejects(["-A", "-t", V], TRY, 2) resolves. */
function stringConstants(src: ts.SourceFile): Map<string, string> {
  const out = new Map<string, string>();
  walk(src, (n) => {
    if (
      ts.isVariableDeclaration(n) && ts.isIdentifier(n.name) && n.initializer &&
      ts.isStringLiteral(n.initializer)
    ) out.set(n.name.text, n.initializer.text);
  });
  return out;
}

function literal(e: ts.Expression, consts: Map<string, string>, where: string): string {
  if (ts.isStringLiteral(e) || ts.isNoSubstitutionTemplateLiteral(e)) return e.text;
  if (ts.isIdentifier(e) && consts.has(e.text)) return consts.get(e.text)!;
  throw new Error(`${where}: cannot read ${e.getText()}`);
}

function isCall(n: ts.Node, name: string): n is ts.CallExpression {
  return ts.isCallExpression(n) && ts.isIdentifier(n.expression) && n.expression.text === name;
}

let passed = 0;
let failed = 0;
let lineCount = 0;
const report: string[] = [];

function diff(label: string, expected: string, actual: string): string {
  const dir = join(outDir ?? "/tmp", "diff");
  mkdirSync(dir, { recursive: true });
  const a = join(dir, "expected"), b = join(dir, "actual");
  writeFileSync(a, expected);
  writeFileSync(b, actual);
  const r = spawnSync("diff", ["-u", "--label", `${label} (committed)`, a, "--label", label, b], {
    encoding: "utf8",
  });
  return r.stdout;
}

function check(label: string, expected: string, actual: string, save?: string) {
  if (outDir && save) writeFileSync(join(outDir, save), actual);
  if (expected === actual) {
    passed++;
    lineCount += expected.split("\n").length - 1;
    return;
  }
  failed++;
  report.push(`MISMATCH ${label}\n${diff(label, expected, actual)}`);
}

if (outDir) mkdirSync(outDir, { recursive: true });

// ---- format.test.ts ----
const fmt = parse("format.test.ts");
const fmtConsts = stringConstants(fmt);
const goldens = new Map<string, string>();
walk(fmt, (n) => {
  if (
    ts.isVariableDeclaration(n) && ts.isIdentifier(n.name) && n.initializer &&
    isCall(n.initializer, "lines")
  ) {
    const name = n.name.text;
    const rows = n.initializer.arguments.map((a) => literal(a, fmtConsts, name));
    goldens.set(name, rows.map((x) => x + "\n").join(""));
  }
});
for (const [name, expected] of goldens) {
  const argv = GOLDEN_COMMANDS[name];
  if (!argv) {
    failed++;
    report.push(`MISMATCH ${name}: no ipvsadm command line for this golden in compare.ts`);
    continue;
  }
  const table = GOLDEN_TABLES[name];
  const r = ipvsadm(argv, table ? { LVSLAB_STUB_TABLE: join(fixtures, table) } : {});
  const label = `format.test.ts ${name}: ipvsadm ${argv.join(" ")}${table ? ` (${table})` : ""}`;
  check(
    label,
    expected,
    r.stdout + r.stderr + (r.status === 0 ? "" : `[exit ${r.status}]\n`),
    name,
  );
}
for (const name of Object.keys(GOLDEN_COMMANDS)) {
  if (!goldens.has(name)) {
    failed++;
    report.push(`MISMATCH ${name}: in compare.ts but not a golden in format.test.ts`);
  }
}

// formatTimeouts: the one "Timeout (...)" literal.
let timeoutLine: string | undefined;
walk(fmt, (n) => {
  if (ts.isStringLiteral(n) && n.text.startsWith("Timeout (tcp tcpfin udp): ")) {
    timeoutLine = n.text;
  }
});
if (!timeoutLine) throw new Error("format.test.ts: no Timeout line found");
{
  const r = ipvsadm(["-L", "--timeout"]);
  check("format.test.ts formatTimeouts: ipvsadm -L --timeout", timeoutLine, r.stdout, "timeout");
}

// "prints the connection table size it is given": the version line, then the title.
{
  const r = ipvsadm(["-L", "-n"], { LVSLAB_STUB_TABLE: join(fixtures, "big-empty.txt") });
  const title = goldens.get("plainN")!.split("\n").slice(1, 3).join("\n") + "\n";
  check(
    "format.test.ts size=1048576: ipvsadm -L -n (no services)",
    "IP Virtual Server version 1.2.1 (size=1048576)\n" + title,
    r.stdout,
    "big-empty",
  );
}

// "cuts names at 33 (service) and 28 (server) characters": rows 2 and 3 of -L -t, and -S
// ending in the uncut name.
{
  const text = readFileSync(join(here, "..", "format.test.ts"), "utf8");
  const cut = [...text.matchAll(/out\.split\("\\n"\)\[[23]\],\s*"([^"]*)"/g)].map((m) => m[1]);
  if (cut.length !== 2) throw new Error("format.test.ts: 33/28 cut expectations not found");
  const env = {
    LVSLAB_STUB_TABLE: join(fixtures, "long-name.txt"),
    LVSLAB_STUB_SERVICES: join(fixtures, "long-services"),
  };
  const list = ipvsadm(["-L", "-t", "198.51.100.200:8080"], env);
  check(
    "format.test.ts 33/28 cut: ipvsadm -L -t 198.51.100.200:8080 (rows 2-3)",
    cut.join("\n") + "\n",
    list.stdout.split("\n").slice(2, 4).join("\n") + "\n",
    "long-name-list",
  );
  const saved = ipvsadm(["-S"], env);
  const tail = saved.stdout.split("\n").at(-2) ?? "";
  check(
    "format.test.ts 33/28 cut: ipvsadm -S keeps the name (last line's end)",
    ":an-unusually-long-service-name -m -w 2",
    tail.slice(tail.lastIndexOf(":")),
    "long-name-save",
  );
}
const formatChecks = passed + failed;

// ---- parse-args.test.ts ----
const pa = parse("parse-args.test.ts");
const paConsts = stringConstants(pa);
const errorCases: string[] = [];
// TUNNEL_REJECTS rows: [argv after "-a -t V -r 172.16.0.2", message], exit status 2.
const TUNNEL_PREFIX = ["-a", "-t", paConsts.get("V")!, "-r", "172.16.0.2"];
let tunnelRows = 0;
walk(pa, (n) => {
  const where = `parse-args.test.ts:${pa.getLineAndCharacterOfPosition(n.pos).line + 1}`;
  if (
    ts.isVariableDeclaration(n) && ts.isIdentifier(n.name) && n.name.text === "TUNNEL_REJECTS" &&
    n.initializer && ts.isArrayLiteralExpression(n.initializer)
  ) {
    for (const row of n.initializer.elements) {
      if (!ts.isArrayLiteralExpression(row) || !ts.isArrayLiteralExpression(row.elements[0])) {
        throw new Error(`${where}: cannot read ${row.getText()}`);
      }
      const argv = row.elements[0].elements.map((e) => literal(e, paConsts, where));
      checkError(where, [...TUNNEL_PREFIX, ...argv], literal(row.elements[1], paConsts, where), 2);
      tunnelRows++;
    }
    return;
  }
  if (!isCall(n, "rejects") || n.arguments.length !== 3) return;
  const [argvNode, msgNode, statusNode] = n.arguments;
  if (!ts.isArrayLiteralExpression(argvNode) || !ts.isNumericLiteral(statusNode)) return;
  if (argvNode.elements.some(ts.isSpreadElement)) return; // the TUNNEL_REJECTS loop
  const argv = argvNode.elements.map((e) => literal(e, paConsts, where));
  checkError(where, argv, literal(msgNode, paConsts, where), Number(statusNode.text));
});
if (tunnelRows === 0) throw new Error("parse-args.test.ts: TUNNEL_REJECTS not found");

function checkError(where: string, argv: string[], message: string, status: number) {
  const r = ipvsadm(argv);
  const label = `${where} ipvsadm ${JSON.stringify(argv)}`;
  errorCases.push(`$ ipvsadm ${argv.join(" ")}\n${r.stdout}${r.stderr}[exit ${r.status}]\n`);
  check(label, `${message}\n[exit ${status}]\n`, `${r.stdout}${r.stderr}[exit ${r.status}]\n`);
}
if (outDir) writeFileSync(join(outDir, "errors"), errorCases.join(""));

for (const line of report) console.log(line);
console.log(
  `format.test.ts: ${formatChecks} outputs (${goldens.size} goldens + timeouts, size, 2 cut ` +
    `checks); parse-args.test.ts: ${errorCases.length} error cases; ` +
    `${lineCount} lines matched in total`,
);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
