// Option checks the traffic generators share: every bound is enforced before any traffic.

/** Throws a sentence unless `text` is an http:// URL. */
export function checkHttpUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`--url '${text}' is not a URL like http://203.0.113.5/`);
  }
  if (url.protocol !== "http:") throw new Error(`--url must be http://, not ${url.protocol}//`);
  return url;
}

/** Throws a sentence unless value is a whole number from min (default 1) to max. */
export function checkBounded(name: string, value: number, max: number, min = 1): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be a whole number from ${min} to ${max}, not '${value}'`);
  }
}
