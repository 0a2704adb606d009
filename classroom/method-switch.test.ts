// The page's method control against the real HTTP server (serveClassroom on 127.0.0.1): while
// a rebuild runs the state says so and the other controls are refused in a sentence; a rebuild
// that fails is said on the stream and in the answer, and the server goes on serving; one
// that works puts the new session's lab on /api/state. The rebuild here is a function the test
// holds (start.ts's, which takes real labs down and up, is run by the browser test).
import { test } from "node:test";
import assert from "node:assert/strict";
import os from "node:os";
import type { LabBackend } from "../lab/backend.ts";
import { topologyNamed } from "../lab/topologies/index.ts";
import { ClassroomSession } from "./session.ts";
import { serveClassroom } from "./server.ts";
import type { StateView } from "./event-types.ts";

/** A session that is never started: the server only reads its recording and topology. */
function idle(topology: string): ClassroomSession {
  const backend = { kind: "netns", name: "lvsmsw" } as LabBackend;
  return new ClassroomSession({
    backend,
    topology: topologyNamed(topology),
    artifactsDir: os.tmpdir(),
  });
}

test("switching the method: refused controls meanwhile, a failure said, then a success", async () => {
  let release = () => {};
  let outcome: "fail" | "work" = "fail";
  const asked: string[] = [];
  const server = await serveClassroom(idle("nat"), "lvsmsw", 0, {
    switchMethod: async (method) => {
      asked.push(method);
      await new Promise<void>((r) => (release = r));
      if (outcome === "fail") throw new Error("the director did not start");
      return idle(method);
    },
  });
  const url = server.url;
  const post = async (action: string, body: unknown) => {
    const r = await fetch(`${url}api/${action}`, { method: "POST", body: JSON.stringify(body) });
    return { status: r.status, body: await r.json() as { text?: string; error?: string } };
  };
  const state = async () => await (await fetch(`${url}api/state`)).json() as StateView;
  // The stream, read as it comes.
  const controller = new AbortController();
  const stream = await fetch(`${url}api/events`, { signal: controller.signal });
  let said = "";
  const reading = (async () => {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of stream.body!) said += decoder.decode(chunk as Uint8Array);
    } catch { /* aborted at the end */ }
  })();
  const until = async (f: () => boolean | Promise<boolean>) => {
    for (let i = 0; i < 100 && !(await f()); i++) await new Promise((r) => setTimeout(r, 20));
    assert.ok(await f());
  };
  try {
    assert.deepEqual(await post("method", { method: "xx" }), {
      status: 400,
      body: { error: "'xx' is no method with a lab; pick one of nat, dr, tun" },
    });
    assert.equal(
      (await post("method", { method: "nat" })).body.text,
      "the lab already shows VS/NAT",
    );
    assert.deepEqual(asked, []);

    const failing = post("method", { method: "dr" });
    await until(async () => (await state()).rebuilding === "DR");
    assert.deepEqual(await post("send", { count: 1 }), {
      status: 400,
      body: { error: "the lab is being rebuilt for VS/DR; wait until it is up" },
    });
    assert.match((await post("method", { method: "tun" })).body.error!, /already being rebuilt/);
    release();
    const failed = await failing;
    assert.equal(failed.status, 400);
    assert.equal(
      failed.body.error,
      "the lab could not be rebuilt for VS/DR: the director did not start (pick a method to try again)",
    );
    const after = await state();
    assert.equal(after.rebuilding, null);
    assert.equal(after.topology.name, "nat");
    assert.ok(after.problems.includes(failed.body.error!));
    await until(() => said.includes('"state":"failed"'));
    assert.match(said, /event: method\ndata: \{"state":"rebuilding","method":"DR"\}/);

    // After a failure the lab is down: the same method again is rebuilt, not "already shown".
    outcome = "work";
    const working = post("method", { method: "nat" });
    await until(() => asked.length === 2);
    release();
    assert.deepEqual(await working, {
      status: 200,
      body: { ok: true, text: "the lab is rebuilt for VS/NAT" },
    });
    assert.deepEqual(asked, ["dr", "nat"]);
    outcome = "work";
    const toTun = post("method", { method: "tun" });
    await until(() => asked.length === 3);
    release();
    assert.equal((await toTun).status, 200);
    assert.equal((await state()).topology.name, "tun");
    assert.equal((await state()).topology.method, "TUN");
  } finally {
    controller.abort();
    await reading;
    await server.close();
  }
});
