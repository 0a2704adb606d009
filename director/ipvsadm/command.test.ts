import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { serverError } from "./command.ts";
import { usageText, versionText } from "./usage.ts";

describe("serverError (libipvs ipvs_strerror)", () => {
  it("names the failure per command, as libipvs does", () => {
    assert.equal(
      serverError("add-service", "ENOENT").message,
      "Scheduler or persistence engine not found",
    );
    assert.equal(serverError("add-service", "EEXIST").message, "Service already exists");
    assert.equal(serverError("edit-service", "ESRCH").message, "No such service");
    assert.equal(serverError("add-server", "ESRCH").message, "Service not defined");
    assert.equal(serverError("add-server", "EEXIST").message, "Destination already exists");
    assert.equal(serverError("delete-server", "ENOENT").message, "No such destination");
    assert.equal(serverError("clear", "EPERM").message, "Permission denied (you must be root)");
  });
  it("exit status: 255 for changes (main returns -1), 1 for listing", () => {
    assert.equal(serverError("add-service", "ENOENT").exitCode, 255);
    assert.equal(serverError("list", "ESRCH").exitCode, 1);
  });
});

describe("usage and version", () => {
  it("-v", () =>
    assert.equal(versionText(), "ipvsadm v1.31 2019/12/24 (compiled with popt and IPVS v1.2.1)\n"));
  it("-h starts with the version and names the program", () => {
    const text = usageText("ipvsadm");
    assert.ok(text.startsWith(versionText() + "Usage:\n  ipvsadm -A|E virtual-service"));
    assert.match(text, /one of rr\|wrr\|lc\|wlc\|lblc\|lblcr\|dh\|sh\|sed\|nq\|fo\|ovf\|mh,\n/);
    assert.ok(text.endsWith("  --mcast-ttl ttl                     Multicast TTL (default=1)\n"));
    assert.match(usageText("/sbin/ipvsadm"), /\n {2}\/sbin\/ipvsadm -h\n\n/);
  });
});
