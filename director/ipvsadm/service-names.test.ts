import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BUILTIN_SERVICES, parseServicesText } from "./service-names.ts";

describe("service names", () => {
  it("reads /etc/services lines: names, aliases, comments, first entry wins", () => {
    const t = parseServicesText(
      "# c\nhttp\t80/tcp www # web\nwebcache 80/tcp\nfsp 21/udp fspd\nbad line\n",
    );
    assert.equal(t.portOf("http", "tcp"), 80);
    assert.equal(t.portOf("www", "tcp"), 80);
    assert.equal(t.portOf("http", "udp"), null);
    assert.equal(t.nameOf(80, "tcp"), "http");
    assert.equal(t.nameOf(21, "udp"), "fsp");
    assert.equal(t.portOf("fspd", "udp"), 21);
    assert.equal(t.nameOf(8000, "tcp"), null);
  });
  it("the built-in table knows the lab's ports", () => {
    assert.equal(BUILTIN_SERVICES.nameOf(80, "tcp"), "http");
    assert.equal(BUILTIN_SERVICES.nameOf(21, "tcp"), "ftp");
    assert.equal(BUILTIN_SERVICES.nameOf(53, "udp"), "domain");
    assert.equal(BUILTIN_SERVICES.portOf("https", "tcp"), 443);
  });
});
