// Wraps CLI actions so any error a user can meet ends as one "lvslab: <sentence>" line.
export function runAction<A extends unknown[]>(
  action: (...args: A) => Promise<number | void> | number | void,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      const code = await action(...args);
      if (typeof code === "number") process.exitCode = code;
    } catch (err) {
      console.error(`lvslab: ${(err as Error).message}`);
      process.exitCode = 1;
    }
  };
}
