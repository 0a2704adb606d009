// ipvsadm 1.31's command line. Every expected message and exit status here was checked
// against ipvsadm 1.31 itself (ipvsadm.c + popt 1.19, built against a stub libipvs that
// prints the structs it would send to the kernel).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type IpvsadmCommand,
  IpvsadmRestoreError,
  IpvsadmUnsupportedError,
  IpvsadmUsageError,
} from "./command.ts";
import { parseIpvsadmArgs, parseRestoreInput } from "./parse-args.ts";
import { BUILTIN_SERVICES as services } from "./service-names.ts";
import { ip } from "./test-fixtures.ts";

const parse = (...argv: string[]) => parseIpvsadmArgs(argv, { services });
const VIP80 = { protocol: "tcp", addr: ip("203.0.113.5"), port: 80 } as const;
const ALL_ONES = 0xffffffff;

function rejects(argv: string[], message: string, exitCode: number) {
  it(`${JSON.stringify(argv)} -> ${JSON.stringify(message)} (${exitCode})`, () => {
    assert.throws(() => parseIpvsadmArgs(argv, { services }), (err: unknown) => {
      assert.ok(err instanceof IpvsadmUsageError);
      assert.equal(err.message, message);
      assert.equal(err.exitCode, exitCode);
      return true;
    });
  });
}

describe("service commands", () => {
  it("-A takes wlc, no persistence, mask 255.255.255.255 by default", () => {
    assert.deepEqual(parse("-A", "-t", "203.0.113.5:80"), {
      kind: "add-service",
      service: VIP80,
      scheduler: "wlc",
      schedFlags: [],
      persistent: 0,
      netmask: ALL_ONES,
      onePacket: false,
    });
  });
  it("long options, --opt=value and service names for ports", () => {
    const cmd = parse("--add-service", "--tcp-service=203.0.113.5:http", "--scheduler=wrr");
    assert.equal(cmd.kind, "add-service");
    assert.deepEqual(cmd.kind === "add-service" && [cmd.service, cmd.scheduler], [VIP80, "wrr"]);
  });
  it("a bare -p is 360 s (libipvs's IPVS_SVC_PERSISTENT_TIMEOUT), and takes no '-' word", () => {
    const cmd = parse("-A", "-t", "203.0.113.5:80", "-p", "-s", "rr");
    assert.ok(cmd.kind === "add-service");
    assert.equal(cmd.persistent, 360);
    assert.equal(cmd.scheduler, "rr");
  });
  it("-p with a value, glued or not; -M as inet_aton reads it", () => {
    for (const argv of [["-p", "600"], ["-p600"], ["--persistent=600"]]) {
      const cmd = parse("-A", "-t", "203.0.113.5:80", ...argv, "-M", "255.255.255.0");
      assert.ok(cmd.kind === "add-service");
      assert.equal(cmd.persistent, 600);
      assert.equal(cmd.netmask, ip("255.255.255.0"));
    }
    const odd = parse("-A", "-t", "203.0.113.5:80", "-p", "-M", "24");
    assert.ok(odd.kind === "add-service");
    assert.equal(odd.netmask, 24); // inet_aton("24") is 0.0.0.24, not a /24
  });
  it("port 0 is fine for a persistent service", () => {
    const cmd = parse("-A", "-t", "203.0.113.5", "-p");
    assert.ok(cmd.kind === "add-service");
    assert.equal(cmd.service.port, 0);
  });
  it("-o for UDP, scheduler flags canonical for the scheduler", () => {
    const ops = parse(
      "-A",
      "-u",
      "203.0.113.5:domain",
      "-s",
      "sh",
      "-b",
      "sh-fallback,sh-port",
      "-o",
    );
    assert.deepEqual(ops, {
      kind: "add-service",
      service: { protocol: "udp", addr: ip("203.0.113.5"), port: 53 },
      scheduler: "sh",
      schedFlags: ["sh-fallback", "sh-port"],
      persistent: 0,
      netmask: ALL_ONES,
      onePacket: true,
    });
    const generic = parse("-A", "-t", "203.0.113.5:80", "-b", "flag-3,,flag-1");
    assert.ok(generic.kind === "add-service");
    assert.deepEqual(generic.schedFlags, ["flag-1", "flag-3"]);
    const mh = parse("-A", "-t", "203.0.113.5:80", "-s", "mh", "-b", "flag-2");
    assert.ok(mh.kind === "add-service");
    assert.deepEqual(mh.schedFlags, ["mh-port"]);
  });
  it("scheduler names are cut at 15 characters and left to the director to check", () => {
    const cmd = parse("-A", "-t", "203.0.113.5:80", "-s", "averyveryverylongschedulername");
    assert.ok(cmd.kind === "add-service");
    assert.equal(cmd.scheduler, "averyveryverylo");
  });
  it("-E sends a complete service: no -s means wlc again", () => {
    const cmd = parse("-E", "-t", "203.0.113.5:80");
    assert.ok(cmd.kind === "edit-service");
    assert.equal(cmd.scheduler, "wlc");
    assert.equal(cmd.persistent, 0);
  });
  it("-D, -C, -Z", () => {
    assert.deepEqual(parse("-D", "-t", "203.0.113.5:80"), {
      kind: "delete-service",
      service: VIP80,
    });
    assert.deepEqual(parse("-C"), { kind: "clear" });
    assert.deepEqual(parse("--clear"), { kind: "clear" });
    assert.deepEqual(parse("-Z"), { kind: "zero" });
    assert.deepEqual(parse("-Z", "-t", "203.0.113.5:80"), { kind: "zero", service: VIP80 });
  });
  it("fwmark services parse (the director decides whether to serve them)", () => {
    assert.deepEqual(parse("-D", "-f", "7"), {
      kind: "delete-service",
      service: { protocol: "fwmark", addr: 0, port: 0, fwmark: 7 },
    });
  });
  it("inet_aton forms and a clustered -At", () => {
    const a = parse("-A", "-t", "0xcb.0.113.5:80");
    const b = parse("-At", "203.0.28933:80");
    const c = parse("-At203.0.113.5:80");
    for (const cmd of [a, b, c]) assert.deepEqual(cmd.kind === "add-service" && cmd.service, VIP80);
  });
});

describe("server commands", () => {
  it("-a defaults: gatewaying (route), weight 1, no thresholds, the service's port", () => {
    assert.deepEqual(parse("-a", "-t", "203.0.113.5:80", "-r", "172.16.0.2:8000"), {
      kind: "add-server",
      service: VIP80,
      server: { addr: ip("172.16.0.2"), port: 80 }, // DR cannot change the port
      method: "route",
      weight: 1,
      upper: 0,
      lower: 0,
    });
  });
  it("-m keeps the server's port; without one it takes the service's", () => {
    const nat = parse(
      "-a",
      "-t",
      "203.0.113.5:80",
      "-r",
      "172.16.0.3:8000",
      "-m",
      "-w",
      "2",
      "-x",
      "100",
      "-y",
      "50",
    );
    assert.deepEqual(nat, {
      kind: "add-server",
      service: VIP80,
      server: { addr: ip("172.16.0.3"), port: 8000 },
      method: "masq",
      weight: 2,
      upper: 100,
      lower: 50,
    });
    const noPort = parse("-a", "-t", "203.0.113.5:80", "-r", "172.16.0.2", "-m");
    assert.ok(noPort.kind === "add-server");
    assert.equal(noPort.server.port, 80);
  });
  it("-r before -t takes the service port as it was then (none)", () => {
    const cmd = parse("-a", "-r", "172.16.0.2", "-t", "203.0.113.5:80", "-m");
    assert.ok(cmd.kind === "add-server");
    assert.equal(cmd.server.port, 0);
  });
  it("-i carries tunnel options; -mw3 clusters with a glued value; -w 0 and +5", () => {
    const tun = parse("-a", "-t", "203.0.113.5:80", "-r", "172.16.0.2", "-i");
    assert.ok(tun.kind === "add-server");
    assert.equal(tun.method, "tunnel");
    assert.deepEqual(tun.tunnel, { type: "ipip", port: 0, checksum: "nocsum" });
    const gue = parse(
      "-a",
      "-t",
      "203.0.113.5:80",
      "-r",
      "172.16.0.2",
      "-i",
      "--tun-type",
      "gue",
      "--tun-port",
      "6080",
      "--tun-csum",
    );
    assert.ok(gue.kind === "add-server");
    assert.deepEqual(gue.tunnel, { type: "gue", port: 6080, checksum: "csum" });
    const tunnelOf = (...extra: string[]) => {
      const cmd = parse("-e", "-t", "203.0.113.5:80", "-r", "172.16.0.2", "-i", ...extra);
      assert.ok(cmd.kind === "edit-server");
      return cmd.tunnel;
    };
    assert.deepEqual(tunnelOf("--tun-type", "gre", "--tun-csum"), {
      type: "gre",
      port: 0,
      checksum: "csum",
    });
    assert.deepEqual(tunnelOf("--tun-type", "gre"), { type: "gre", port: 0, checksum: "nocsum" });
    assert.deepEqual(tunnelOf("--tun-port", "65535", "--tun-remcsum", "--tun-type", "gue"), {
      type: "gue",
      port: 65535,
      checksum: "remcsum",
    });
    assert.deepEqual(tunnelOf("--tun-type", "ipip"), { type: "ipip", port: 0, checksum: "nocsum" });
    const routed = parse("-a", "-t", "203.0.113.5:80", "-r", "172.16.0.2", "-g");
    assert.ok(routed.kind === "add-server" && routed.tunnel === undefined);
    for (
      const [argv, weight] of [[["-mw3"], 3], [["-mw=3"], 3], [["-m", "-w", "0"], 0], [[
        "-m",
        "-w",
        "+5",
      ], 5]] as const
    ) {
      const cmd = parse("-a", "-t", "203.0.113.5:80", "-r", "172.16.0.2", ...argv);
      assert.ok(cmd.kind === "add-server");
      assert.equal(cmd.weight, weight);
    }
  });
  it("-e sends a complete server: no -w means weight 1", () => {
    const cmd = parse("-e", "-t", "203.0.113.5:80", "-r", "172.16.0.3:8000", "-m");
    assert.ok(cmd.kind === "edit-server");
    assert.equal(cmd.weight, 1);
    assert.equal(cmd.server.port, 8000);
  });
  it("-d keeps the given port (no forwarding-method rule applies)", () => {
    assert.deepEqual(parse("-d", "-t", "203.0.113.5:80", "-r", "172.16.0.3:8000"), {
      kind: "delete-server",
      service: VIP80,
      server: { addr: ip("172.16.0.3"), port: 8000 },
    });
  });
  it("fwmark services leave the server port alone", () => {
    const cmd = parse("-a", "-f", "5", "-r", "172.16.0.2:8000", "-g");
    assert.ok(cmd.kind === "add-server");
    assert.equal(cmd.server.port, 8000);
  });
});

describe("list, save, restore, set, help, version", () => {
  const list = (over: Partial<Extract<IpvsadmCommand, { kind: "list" }>>) => ({
    kind: "list",
    view: "services",
    format: "plain",
    numeric: false,
    exact: false,
    sort: true,
    ...over,
  });
  it("no arguments lists the table, as a bare ipvsadm does", () =>
    assert.deepEqual(parseIpvsadmArgs([]), list({})));
  it("-L, -l, -Ln", () => {
    assert.deepEqual(parse("-L"), list({}));
    assert.deepEqual(parse("-l"), list({}));
    assert.deepEqual(parse("-Ln"), list({ numeric: true }));
  });
  it("formats, first one wins as in print_title", () => {
    assert.deepEqual(
      parse("-L", "--rate", "--stats", "--exact"),
      list({ format: "stats", exact: true }),
    );
    assert.deepEqual(parse("-L", "-X", "--rate"), list({ format: "rate", exact: true }));
    assert.deepEqual(parse("-L", "--thresholds"), list({ format: "thresholds" }));
    assert.deepEqual(parse("-L", "--persistent-conn"), list({ format: "persistent-conn" }));
    assert.deepEqual(parse("-L", "--tun-info"), list({ format: "tun-info" }));
  });
  it("--nosort, and --sort is a no-op (even twice)", () => {
    assert.deepEqual(parse("-L", "--nosort"), list({ sort: false }));
    assert.deepEqual(parse("-L", "--sort", "--sort"), list({}));
  });
  it("one service, connections, timeouts", () => {
    assert.deepEqual(
      parse("-L", "-n", "-t", "203.0.113.5:80"),
      list({ numeric: true, service: VIP80 }),
    );
    assert.deepEqual(parse("-L", "-c", "-n"), list({ view: "connections", numeric: true }));
    assert.deepEqual(
      parse("-L", "-c", "--persistent-conn"),
      list({ view: "connections", format: "persistent-conn" }),
    );
    assert.deepEqual(parse("-L", "--timeout"), list({ view: "timeouts" }));
  });
  it("-S, -R, --set, -h, -v", () => {
    assert.deepEqual(parse("-S"), { kind: "save", numeric: false });
    assert.deepEqual(parse("-S", "-n"), { kind: "save", numeric: true });
    assert.deepEqual(parse("-R"), { kind: "restore" });
    assert.deepEqual(parse("--set", "900", "120", "300"), {
      kind: "set-timeouts",
      tcp: 900,
      tcpfin: 120,
      udp: 300,
    });
    assert.deepEqual(parse("--set", "0", "0", "0"), {
      kind: "set-timeouts",
      tcp: 0,
      tcpfin: 0,
      udp: 0,
    });
    assert.deepEqual(parse("-h"), { kind: "help" });
    assert.deepEqual(parse("-h", "--bogus"), { kind: "help" }); // ipvsadm exits before reading on
    assert.deepEqual(parse("--version"), { kind: "version" });
  });
});

describe("errors, as ipvsadm prints them", () => {
  const TRY = "Try `ipvsadm -h' or 'ipvsadm --help' for more information.";
  const V = "203.0.113.5:80";
  rejects(["--bogus"], TRY, 255);
  rejects(["-t", V, "-A"], TRY, 255); // the command must come first
  rejects(["-nL"], TRY, 255);
  rejects(["foo"], TRY, 255);
  rejects(["foo", "-L"], "unexpected argument foo", 2);
  rejects(["-A", "-t"], "-t: missing argument", 255);
  rejects(["-A", "--tcp-service"], "--tcp-service: missing argument", 255);
  rejects(["-A", "-q"], "-q: unknown option", 255);
  rejects(["-Aq"], "-Aq: unknown option", 255);
  rejects(["-L", "--numeric=1"], "--numeric=1: option does not take an argument", 255);
  rejects(["--set", "-1", "120", "300"], "-1: unknown option", 255);
  rejects(["-A", "-t", V, "-E"], "invalid option `-E'", 2);
  rejects(["-A", "-t", V, "-h"], "invalid option `-h'", 2);
  rejects(["-A", "-t", V, "extra"], "unexpected argument extra", 2);
  rejects(["-A", "-t", V, "--", "-s"], "unexpected argument -s", 2);
  rejects(["-A", "-t", "-n"], "illegal virtual server address[:port] specified", 2);
  rejects(["-A", "-t", "80"], "illegal virtual server address[:port] specified", 2);
  rejects(
    ["-A", "-t", "www.example.invalid:80"],
    "illegal virtual server address[:port] specified",
    2,
  );
  rejects(
    ["-A", "-t", "203.0.113.5:nosuchservice"],
    "illegal virtual server address[:port] specified",
    2,
  );
  rejects(["-A", "-t", "203.0.113.5:65536"], "illegal virtual server address[:port] specified", 2);
  rejects(["-A", "-t", "203.0.113.5:"], "illegal virtual server address[:port] specified", 2);
  rejects(["-A", "-t", "203.0.113.5"], "Zero port specified for non-persistent service", 2);
  rejects(
    ["-A", "-t", "203.0.113.5:53", "-o"],
    "One-Packet Scheduling is only for UDP virtual services",
    2,
  );
  rejects(["-A", "-t", V, "-p", "0"], "invalid timeout value `0' specified", 2);
  rejects(["-A", "-t", V, "-p", "2678401"], "invalid timeout value `2678401' specified", 2);
  rejects(["-A", "-t", V, "-M", "foo"], "illegal virtual server persistent mask specified", 2);
  rejects(["-A", "-t", V, "-b", "sh-port"], "incompatible scheduler flag `sh-port'", 2);
  rejects(["-A", "-t", V, "-b", "flag-9"], "invalid scheduler flag `flag-9'", 2);
  rejects(
    ["-A", "-t", V, "-t", "203.0.113.5:81"],
    "multiple 'service-address' options specified",
    2,
  );
  rejects(["-A", "-t", V, "-s"], "-s: missing argument", 255);
  rejects(
    ["-A"],
    "You need to supply the 'service-address' option for the 'add-service' command",
    2,
  );
  rejects(
    ["-A", "-t", V, "-r", "172.16.0.2"],
    "Illegal 'real-server' option with the 'add-service' command",
    2,
  );
  rejects(["-A", "-t", V, "-w", "3"], "Illegal 'weight' option with the 'add-service' command", 2);
  rejects(["-A", "-t", V, "-n"], "Illegal 'numeric' option with the 'add-service' command", 2);
  rejects(
    ["-A", "-t", V, "--mcast-interface", "eth0"],
    "Illegal 'mcast-interface' option with the 'add-service' command",
    2,
  );
  rejects(["-A", "-t", V, "-6"], "-6 used before -f\n", 2);
  rejects(["-A", "-f", "0"], "invalid fwmark value `0' specified", 2);
  rejects(["-A", "-f", "4294967296"], "invalid fwmark value `4294967296' specified", 2);
  rejects(
    ["-D", "-t", V, "-s", "rr"],
    "Illegal 'scheduler' option with the 'delete-service' command",
    2,
  );
  rejects(["-C", "-n"], "Illegal 'numeric' option with the 'flush' command", 2);
  rejects(
    ["-a", "-t", V],
    "You need to supply the 'real-server' option for the 'add-server' command",
    2,
  );
  rejects(
    ["-a", "-t", V, "-s", "rr"],
    "Illegal 'scheduler' option with the 'add-server' command",
    2,
  );
  rejects(
    ["-a", "-r", "172.16.0.2"],
    "You need to supply the 'service-address' option for the 'add-server' command",
    2,
  );
  rejects(["-a", "-t", V, "-r", "bad"], "illegal real server address[:port] specified", 2);
  rejects(
    ["-a", "-r", "172.16.0.2:http", "-t", V, "-m"],
    "illegal real server address[:port] specified",
    2,
  );
  rejects(["-a", "-t", V, "-r", "172.16.0.2", "-m", "-w", "65536"], "illegal weight specified", 2);
  rejects(["-a", "-t", V, "-r", "172.16.0.2", "-m", "-w", "-1"], "illegal weight specified", 2);
  rejects(["-a", "-t", V, "-r", "172.16.0.2", "-m", "-x", "x"], "illegal u_threshold specified", 2);
  rejects(
    ["-a", "-t", V, "-r", "172.16.0.2", "-m", "-y", "2147483648"],
    "illegal l_threshold specified",
    2,
  );
  rejects(
    ["-a", "-t", V, "-r", "172.16.0.2", "-m", "-g"],
    "multiple 'forwarding-method' options specified",
    2,
  );
  rejects(
    ["-a", "-t", V, "-r", "172.16.0.2", "-m", "--tun-type", "gue"],
    "Tunnel options conflict with forward method",
    2,
  );
  rejects(
    ["-a", "-t", V, "-r", "172.16.0.2", "-i", "--tun-type", "gue"],
    "You need to supply the 'tun-port' option for the 'gue' tunnel type",
    2,
  );
  rejects(
    [
      "-a",
      "-t",
      V,
      "-r",
      "172.16.0.2",
      "-i",
      "--tun-type",
      "gue",
      "--tun-port",
      "6080",
      "--tun-csum",
      "--tun-nocsum",
    ],
    "The option 'tun-csum' conflicts with the 'tun-nocsum' option in the 'gue' tunnel type",
    2,
  );
  rejects(
    ["-a", "-t", V, "-r", "172.16.0.2", "-i", "--tun-port", "6080"],
    "Illegal 'tun-port' option with the 'ipip' tunnel type",
    2,
  );
  rejects(
    ["-a", "-t", V, "-r", "172.16.0.2", "-i", "--tun-type", "vxlan"],
    "illegal tunnel type specified",
    2,
  );
  // The tunnel options' refusals: each argv follows "-a -t V -r 172.16.0.2"; exit status 2.
  // compare.ts reads this table as it reads rejects() calls.
  const TUNNEL_REJECTS: [string[], string][] = [
    [["-g", "--tun-port", "6080"], "Tunnel options conflict with forward method"],
    [["--tun-csum"], "Tunnel options conflict with forward method"],
    [
      ["-i", "--tun-type", "ipip", "--tun-nocsum"],
      "Illegal 'tun-nocsum' option with the 'ipip' tunnel type",
    ],
    [["-i", "--tun-remcsum"], "Illegal 'tun-remcsum' option with the 'ipip' tunnel type"],
    [
      ["-i", "--tun-type", "gre", "--tun-port", "6080"],
      "Illegal 'tun-port' option with the 'gre' tunnel type",
    ],
    [
      ["-i", "--tun-type", "gre", "--tun-remcsum"],
      "Illegal 'tun-remcsum' option with the 'gre' tunnel type",
    ],
    [
      ["-i", "--tun-type", "gre", "--tun-csum", "--tun-nocsum"],
      "The option 'tun-csum' conflicts with the 'tun-nocsum' option in the 'gre' tunnel type",
    ],
    [
      ["-i", "--tun-type", "gue", "--tun-port", "6080", "--tun-remcsum", "--tun-csum"],
      "The option 'tun-remcsum' conflicts with the 'tun-csum' option in the 'gue' tunnel type",
    ],
    [
      ["-i", "--tun-type", "gue", "--tun-remcsum"],
      "You need to supply the 'tun-port' option for the 'gue' tunnel type",
    ],
    [["-i", "--tun-type", "gue", "--tun-port", "0"], "illegal tunnel port specified"],
    [["-i", "--tun-type", "gue", "--tun-port", "65536"], "illegal tunnel port specified"],
    [["-i", "--tun-type", "gue", "--tun-port", "http"], "illegal tunnel port specified"],
    [["-m", "--tun-port", "-1"], "illegal tunnel port specified"],
    [["-i", "--tun-type", "GUE"], "illegal tunnel type specified"],
    [["-i", "--tun-type", "gue", "--tun-type", "gre"], "multiple 'tun-type' options specified"],
    [
      ["-i", "--tun-type", "gre", "--tun-csum", "--tun-csum"],
      "multiple 'tun-csum' options specified",
    ],
    [["-i", "--tun-info"], "Illegal 'tun-info' option with the 'add-server' command"],
  ];
  for (const [argv, message] of TUNNEL_REJECTS) {
    rejects(["-a", "-t", V, "-r", "172.16.0.2", ...argv], message, 2);
  }
  rejects(
    ["-e", "-t", V, "-r", "172.16.0.2", "-m", "--tun-type", "gre"],
    "Tunnel options conflict with forward method",
    2,
  );
  rejects(
    ["-e", "-t", V, "-r", "172.16.0.2", "-i", "--tun-type", "gre", "--tun-port", "6080"],
    "Illegal 'tun-port' option with the 'gre' tunnel type",
    2,
  );
  rejects(
    ["-d", "-t", V, "-r", "172.16.0.2", "--tun-type", "gue"],
    "Illegal 'tun-type' option with the 'delete-server' command",
    2,
  );
  rejects(
    ["-A", "-t", V, "--tun-port", "6080"],
    "Illegal 'tun-port' option with the 'add-service' command",
    2,
  );
  rejects(["-L", "--tun-type", "ipip"], "Illegal 'tun-type' option with the 'list' command", 2);
  rejects(["-S", "--tun-info"], "Illegal 'tun-info' option with the 'save' command", 2);
  rejects(
    ["-d", "-t", V, "-r", "172.16.0.2", "-m"],
    "Illegal 'forwarding-method' option with the 'delete-server' command",
    2,
  );
  rejects(["-L", "-n", "-n"], "multiple 'numeric' options specified", 2);
  rejects(
    ["-L", "-t", V, "-c"],
    "The option 'service-address' conflicts with the 'connection' option in the 'list' command",
    2,
  );
  rejects(
    ["-L", "--timeout", "-c"],
    "The option 'timeout' conflicts with the 'connection' option in the 'list' command",
    2,
  );
  rejects(["-L", "-c", "--stats"], "options conflicts in the list command", 2);
  rejects(["-L", "--timeout", "--persistent-conn"], "options conflicts in the list command", 2);
  rejects(["-L", "-s", "rr"], "Illegal 'scheduler' option with the 'list' command", 2);
  rejects(["-L", "-o"], "Illegal 'ops' option with the 'list' command", 2);
  rejects(["-L", "--syncid", "300"], "illegal syncid specified", 2);
  rejects(["-Z", "-n"], "Illegal 'numeric' option with the 'zero' command", 2);
  rejects(["-S", "-t", V], "Illegal 'service-address' option with the 'save' command", 2);
  rejects(["-R", "-n"], "Illegal 'numeric' option with the 'restore' command", 2);
  rejects(["--set", "900", "120"], "--set option requires 3 timeout values", 2);
  rejects(["--set", "900", "120", "300", "4"], "unexpected argument 4", 2);
  rejects(["--set", "x", "120", "300"], "invalid timeout value `x' specified", 2);
  rejects(
    ["--set", "900", "120", "300", "-n"],
    "Illegal 'numeric' option with the 'set' command",
    2,
  );
  it("uses the program name it is given in the try-help line", () => {
    assert.throws(() => parseIpvsadmArgs(["--bogus"], { program: "lvsadm" }), {
      message: "Try `lvsadm -h' or 'lvsadm --help' for more information.",
    });
  });
});

describe("valid ipvsadm that lvslab refuses, with a sentence and status 2", () => {
  const cases = [
    ["--start-daemon", "master"],
    ["--stop-daemon", "backup"],
    ["-L", "--daemon"],
    ["-A", "-t", "203.0.113.5:80", "--pe", "sip"],
    ["-A", "--sctp-service", "203.0.113.5:80"],
    ["-A", "-t", "[2001:db8::1]:80"],
    ["-A", "-f", "1", "-6"],
  ];
  for (const argv of cases) {
    it(JSON.stringify(argv), () => {
      assert.throws(() => parseIpvsadmArgs(argv, { services }), (err: unknown) => {
        assert.ok(err instanceof IpvsadmUnsupportedError);
        assert.equal(err.exitCode, 2);
        assert.match(err.message, /lvslab/);
        return true;
      });
    });
  }
  it("but ipvsadm's own checks come first", () => {
    assert.throws(() => parse("-A", "-t", "203.0.113.5:80", "--pe", "sip", "-n"), {
      message: "Illegal 'numeric' option with the 'add-service' command",
    });
  });
});

describe("parseRestoreInput", () => {
  it("one command per line; blank lines, '#' lines and the word ipvsadm are skipped", () => {
    const text = [
      "# saved by ipvsadm -S",
      "-A -t 203.0.113.5:80 -s rr",
      "",
      "  ipvsadm   -a -t 203.0.113.5:80\t-r 172.16.0.2:8000 -m -w 2\r",
      "--set 900 120 300",
    ].join("\n");
    assert.deepEqual(parseRestoreInput(text, { services }), [
      {
        kind: "add-service",
        service: VIP80,
        scheduler: "rr",
        schedFlags: [],
        persistent: 0,
        netmask: ALL_ONES,
        onePacket: false,
      },
      {
        kind: "add-server",
        service: VIP80,
        server: { addr: ip("172.16.0.2"), port: 8000 },
        method: "masq",
        weight: 2,
        upper: 0,
        lower: 0,
      },
      { kind: "set-timeouts", tcp: 900, tcpfin: 120, udp: 300 },
    ]);
  });
  it("names the failing line and keeps ipvsadm's text and status", () => {
    const text = "-A -t 203.0.113.5:80\n\n-a -t 203.0.113.5:80 -r bad\n-C\n";
    assert.throws(() => parseRestoreInput(text, { services }), (err: unknown) => {
      assert.ok(err instanceof IpvsadmRestoreError);
      assert.equal(err.line, 3);
      assert.equal(err.detail, "illegal real server address[:port] specified");
      assert.equal(err.message, "line 3: illegal real server address[:port] specified");
      assert.equal(err.exitCode, 2);
      assert.equal(err.before.length, 1); // ipvsadm had applied line 1 when it stopped
      return true;
    });
  });
  it("a nested -R is refused as ipvsadm refuses it", () => {
    assert.throws(() => parseRestoreInput("-C\n-R\n", { services }), {
      message: "line 2: Try `ipvsadm -h' or 'ipvsadm --help' for more information.",
    });
  });
});
