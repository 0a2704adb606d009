// Parses the real servers' `--listen address:port` arguments.

/** Splits "172.16.0.2:80" (or "[::1]:80") into host and port, or throws a sentence. */
export function parseListen(text: string): { host: string; port: number } {
  const match = /^(\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-fA-F:]+\]):(\d{1,5})$/.exec(text);
  const port = match ? Number(match[2]) : NaN;
  if (!match || port < 1 || port > 65535) {
    throw new Error(`--listen '${text}' is not address:port, e.g. 172.16.0.2:80`);
  }
  return { host: match[1].replace(/^\[|\]$/g, ""), port };
}
