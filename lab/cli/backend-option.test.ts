import { test } from "node:test";
import assert from "node:assert/strict";
import { labBackend, labFlags } from "./backend-option.ts";

test("--backend accepts netns and compose and refuses anything else with a sentence", () => {
  assert.equal(labBackend({ backend: "netns", name: "lvslab" }).kind, "netns");
  assert.equal(labBackend({ backend: "compose", name: "lvslab" }).kind, "compose");
  assert.throws(
    () => labBackend({ backend: "docker", name: "lvslab" }),
    /backend 'docker' is unknown; use one of netns, compose/,
  );
});

test("a hint names the lab again only where it is not the default", () => {
  assert.equal(labFlags(labBackend({ backend: "netns", name: "lvslab" })), "");
  assert.equal(labFlags(labBackend({ backend: "netns", name: "lab2" })), " --name lab2");
  assert.equal(labFlags(labBackend({ backend: "compose", name: "lvslab" })), " --backend compose");
});
