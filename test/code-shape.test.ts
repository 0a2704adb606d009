// The tree's own shape rule (issue 13): no function over 120 lines, in code or in tests. A
// describe() or test() callback that only groups subtests is a list, not a function, and is
// not counted; the functions inside it are.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { execFileSync } from "node:child_process";
import ts from "typescript";
import { REPO_ROOT } from "../lab/paths.ts";

const MAX_LINES = 120;

function trackedTypeScript(): string[] {
  return execFileSync("git", ["-C", REPO_ROOT, "ls-files", "*.ts"], { encoding: "utf8" })
    .split("\n").filter((f) => f !== "" && fs.existsSync(`${REPO_ROOT}/${f}`));
}

const GROUPERS = new Set(["describe", "test", "it"]);

function callName(call: ts.CallExpression): string {
  const e = call.expression;
  if (ts.isIdentifier(e)) return e.text;
  if (ts.isPropertyAccessExpression(e)) return e.name.text;
  return "";
}

/** A callback of describe()/test() whose body runs subtests: a grouping. */
function isGroup(fn: ts.Node): boolean {
  const call = fn.parent;
  if (!call || !ts.isCallExpression(call) || !GROUPERS.has(callName(call))) return false;
  let groups = false;
  const look = (n: ts.Node): void => {
    if (ts.isCallExpression(n) && GROUPERS.has(callName(n)) && n !== call) groups = true;
    if (!groups) ts.forEachChild(n, look);
  };
  look(fn);
  return groups;
}

/** "file:line name (N lines)" for every function longer than MAX_LINES in `text`. */
export function longFunctions(file: string, text: string): string[] {
  const src = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (n: ts.Node): void => {
    if (ts.isFunctionLike(n) && (n as ts.FunctionLikeDeclaration).body && !isGroup(n)) {
      const first = src.getLineAndCharacterOfPosition(n.getStart()).line;
      const last = src.getLineAndCharacterOfPosition(n.getEnd()).line;
      const lines = last - first + 1;
      if (lines > MAX_LINES) {
        const name = (n as ts.FunctionDeclaration).name?.getText(src) ?? "(anonymous)";
        found.push(`${file}:${first + 1} ${name} (${lines} lines)`);
      }
    }
    ts.forEachChild(n, visit);
  };
  visit(src);
  return found;
}

test("the rule sees a long function and passes a long group of short tests", () => {
  const body = Array.from({ length: MAX_LINES }, (_, i) => `  const x${i} = ${i};`).join("\n");
  assert.equal(longFunctions("a.ts", `function big() {\n${body}\n}\n`).length, 1);
  const group = Array.from({ length: 70 }, (_, i) => `  test("t${i}", () => {\n    f();\n  });`);
  assert.deepEqual(longFunctions("b.ts", `describe("g", () => {\n${group.join("\n")}\n});\n`), []);
});

test(`no function in the tree is over ${MAX_LINES} lines`, () => {
  const long = trackedTypeScript().flatMap((f) =>
    longFunctions(f, fs.readFileSync(`${REPO_ROOT}/${f}`, "utf8"))
  );
  assert.deepEqual(long, []);
});
