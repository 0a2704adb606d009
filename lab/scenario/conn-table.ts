// Reads the director's connection table as `ipvsadm -L -n -c` prints it, so scenarios can
// check entries, their states and their remaining time the way an operator would.

export interface TableEntry {
  protocol: "tcp" | "udp";
  /** Seconds left before the entry expires (the "expire" column, mm:ss). */
  expireSeconds: number;
  state: string;
  /** "address:port" of the client. */
  source: string;
  /** "address:port" of the virtual service. */
  virtual: string;
  /** "address:port" of the real server. */
  destination: string;
}

/** Parses ipvsadm -L -n -c output; throws a sentence when it is not that listing. */
export function parseConnectionTable(text: string): TableEntry[] {
  const lines = text.split("\n").map((l) => l.trim()).filter(Boolean);
  if (lines[0] !== "IPVS connection entries" || !/^pro expire state/.test(lines[1] ?? "")) {
    throw new Error(
      `'ipvsadm -L -n -c' printed something else than a connection listing: ${
        text.slice(0, 120).trim() || "(nothing)"
      }`,
    );
  }
  return lines.slice(2).map((line) => {
    const f = line.split(/\s+/);
    const m = /^(\d+):(\d{2})$/.exec(f[1] ?? "");
    if (f.length < 6 || !m || !/^(TCP|UDP)$/.test(f[0])) {
      throw new Error(`cannot read the connection entry '${line}'`);
    }
    return {
      protocol: f[0].toLowerCase() as "tcp" | "udp",
      expireSeconds: Number(m[1]) * 60 + Number(m[2]),
      state: f[2],
      source: f[3],
      virtual: f[4],
      destination: f[5],
    };
  });
}
