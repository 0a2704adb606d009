// The one root check: network namespaces, TUN devices, tcpdump and Docker's socket all need
// root. Callers say what they need it for; the sentence tells the user to use sudo.
export class NotRootError extends Error {}

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** Throws the sentence users see when they forgot sudo: "lvslab needs root to <what>; ...". */
export function requireRoot(what = "create network namespaces"): void {
  if (!isRoot()) throw new NotRootError(`lvslab needs root to ${what}; run it with sudo`);
}
