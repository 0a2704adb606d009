import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type PoptOption, type PoptResult, PoptScanner } from "./popt.ts";

const table: PoptOption[] = [
  { long: "list", short: "L", arg: "none", tag: "L" },
  { long: "numeric", short: "n", arg: "none", tag: "n" },
  { long: "weight", short: "w", arg: "required", tag: "w" },
  { long: "persistent", short: "p", arg: "optional", tag: "p" },
];

function scan(argv: string[]): { results: PoptResult[]; leftovers: string[] } {
  const s = new PoptScanner(argv, table);
  const results: PoptResult[] = [];
  for (let r = s.nextOption(); r.kind !== "end"; r = s.nextOption()) {
    results.push(r);
    if (r.kind === "error") break;
  }
  return { results, leftovers: s.leftovers };
}

const tags = (rs: PoptResult[]) =>
  rs.map((r) =>
    r.kind === "option" ? `${r.tag}=${r.arg}` : r.kind === "error" ? `!${r.error}@${r.word}` : "end"
  );

describe("PoptScanner", () => {
  it("clusters, glued and separate arguments", () => {
    assert.deepEqual(
      tags(scan(["-Lnw3", "-w", "4", "-w=5", "--weight=6", "--weight", "7"]).results),
      [
        "L=null",
        "n=null",
        "w=3",
        "w=4",
        "w=5",
        "w=6",
        "w=7",
      ],
    );
  });
  it("optional arguments skip words that start with '-'", () => {
    assert.deepEqual(tags(scan(["-p", "-n", "-p", "60", "-p"]).results), [
      "p=null",
      "n=null",
      "p=60",
      "p=null",
    ]);
  });
  it("a required argument takes even a '-' word", () => {
    assert.deepEqual(tags(scan(["-w", "-n"]).results), ["w=-n"]);
  });
  it("leftovers anywhere, '-' alone, and everything after '--'", () => {
    const { results, leftovers } = scan(["a", "-L", "-", "b", "--", "-n", "c"]);
    assert.deepEqual(tags(results), ["L=null"]);
    assert.deepEqual(leftovers, ["a", "-", "b", "-n", "c"]);
  });
  it("errors name the word as poptBadOption does", () => {
    assert.deepEqual(tags(scan(["-Lq"]).results), ["L=null", "!unknown option@-Lq"]);
    assert.deepEqual(tags(scan(["--nope"]).results), ["!unknown option@--nope"]);
    assert.deepEqual(tags(scan(["-w"]).results), ["!missing argument@-w"]);
    assert.deepEqual(tags(scan(["--list=1"]).results), [
      "!option does not take an argument@--list=1",
    ]);
  });
});
