// lab/assertions/: judgements from captures (distribution, rewrite, checksums, outcomes, payload);
// the scenario's assertion kinds in lab/scenario/assertions/ call them.
//
// The shape every assertion returns: a verdict and a sentence a student can read.

export interface AssertionResult {
  /** Short identifier, e.g. "distribution 203.0.113.5:80 (private capture)". */
  name: string;
  passed: boolean;
  /** "PASS: ..." or "FAIL: ...", one plain-language sentence. */
  line: string;
  /** Further lines for the report (offending packets, per-server counts). */
  details: string[];
  /** The numbers behind the sentence, for JSON reports. */
  data: Record<string, unknown>;
  /**
   * Set when the verdict is a PASS only because packets tcpdump lost excuse what is missing
   * (twins): how many packets were excused. Reports (the sentence, JUnit) say so.
   */
  excusedByCaptureLoss?: number;
}

export function verdict(
  name: string,
  passed: boolean,
  sentence: string,
  details: string[] = [],
  data: Record<string, unknown> = {},
): AssertionResult {
  return { name, passed, line: `${passed ? "PASS" : "FAIL"}: ${sentence}`, details, data };
}

/** "1 packet", "3 packets". */
export function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}

/** At most `max` items, then "... and N more". */
export function firstFew(lines: string[], max = 10): string[] {
  return lines.length <= max
    ? lines
    : [...lines.slice(0, max), `... and ${lines.length - max} more`];
}
