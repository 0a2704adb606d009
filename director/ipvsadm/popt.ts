// The slice of libpopt's option scanning that ipvsadm relies on: short-option clusters
// ("-Ln"), an argument glued to a short option ("-w3", "-w=3") or a long one
// ("--weight=3"), optional arguments that never take a word starting with '-', non-option
// words set aside as leftovers wherever they appear, and "--" ending the options.

export type PoptArg = "none" | "required" | "optional";

export interface PoptOption {
  long: string;
  /** One character, or "" when the option has no short form. */
  short: string;
  arg: PoptArg;
  /** What the scanner reports for this option (ipvsadm's "val"). */
  tag: string;
}

/** poptStrerror() texts for the errors the scanner can meet. */
export const POPT_ERRORS = {
  noArg: "missing argument",
  badOpt: "unknown option",
  unwantedArg: "option does not take an argument",
} as const;

export type PoptResult =
  /** `word` is what poptBadOption() would name: the last word consumed. */
  | { kind: "option"; tag: string; arg: string | null; word: string }
  | { kind: "error"; error: string; word: string }
  | { kind: "end" };

export class PoptScanner {
  private next = 0;
  private cluster: string | null = null;
  private rest = false;
  readonly leftovers: string[] = [];

  constructor(
    private readonly argv: readonly string[],
    private readonly table: readonly PoptOption[],
  ) {}

  /** poptGetNextOpt(): the next option, an error, or the end of the words. */
  nextOption(): PoptResult {
    for (;;) {
      if (this.cluster !== null) return this.shortOption();
      if (this.next >= this.argv.length) return { kind: "end" };
      const word = this.argv[this.next++];
      if (this.rest || word[0] !== "-" || word === "-") {
        this.leftovers.push(word);
        continue;
      }
      if (word === "--") {
        this.rest = true;
        continue;
      }
      if (word[1] !== "-") {
        this.cluster = word.slice(1);
        continue;
      }
      return this.longOption(word);
    }
  }

  private option(opt: PoptOption, arg: string | null): PoptResult {
    return { kind: "option", tag: opt.tag, arg, word: this.argv[this.next - 1] };
  }

  private error(error: string): PoptResult {
    return { kind: "error", error, word: this.argv[this.next - 1] };
  }

  private longOption(word: string): PoptResult {
    const eq = word.indexOf("=");
    const name = eq < 0 ? word.slice(2) : word.slice(2, eq);
    const opt = this.table.find((o) => o.long === name);
    if (!opt) return this.error(POPT_ERRORS.badOpt);
    const glued = eq < 0 ? null : word.slice(eq + 1);
    if (opt.arg === "none") {
      if (glued !== null) return this.error(POPT_ERRORS.unwantedArg);
      return this.option(opt, null);
    }
    if (glued !== null) return this.option(opt, glued);
    return this.takeArgument(opt);
  }

  private shortOption(): PoptResult {
    const cluster = this.cluster ?? "";
    const opt = cluster[0] === undefined
      ? undefined
      : this.table.find((o) => o.short === cluster[0]);
    const remainder = cluster.slice(1);
    this.cluster = remainder === "" ? null : remainder;
    if (!opt) return this.error(POPT_ERRORS.badOpt);
    if (opt.arg === "none") return this.option(opt, null);
    if (remainder !== "") {
      this.cluster = null;
      const arg = remainder[0] === "=" ? remainder.slice(1) : remainder;
      return this.option(opt, arg);
    }
    return this.takeArgument(opt);
  }

  /** The argument is the next word; an optional one is skipped when that word is an option. */
  private takeArgument(opt: PoptOption): PoptResult {
    if (this.next >= this.argv.length) {
      if (opt.arg === "required") return this.error(POPT_ERRORS.noArg);
      return this.option(opt, null);
    }
    const candidate = this.argv[this.next];
    if (opt.arg === "optional" && candidate[0] === "-") {
      return this.option(opt, null);
    }
    this.next++;
    return this.option(opt, candidate);
  }
}
