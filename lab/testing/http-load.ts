// Lab tests' HTTP load: clients/http-client.ts on the lab's client host, its JSON summary back
// (answers per real server, errors).
import { execIn, repoProgram } from "../netns/lab.ts";
import type { LoadSummary } from "../../clients/http-load.ts";

export async function httpLoadFromClient(
  lab: string,
  url: string,
  count: number,
  concurrency = 1,
): Promise<LoadSummary> {
  const argv = repoProgram("clients/http-client.ts", [
    "--url",
    url,
    "--count",
    String(count),
    "--concurrency",
    String(concurrency),
    "--json",
    "--quiet",
  ]);
  const r = await execIn("client", argv, { name: lab, timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`http-client exited with ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as LoadSummary;
}
