// Port <-> service name mapping for ipvsadm's "http" ports (getservbyname/getservbyport).
// Reads /etc/services when the host has one, else falls back to a small built-in table
// copied from Debian's netbase, so names resolve the same way in a bare container.
import { readFileSync } from "node:fs";

export type ServiceProto = "tcp" | "udp";

export interface ServiceNameTable {
  /** getservbyname: the port of a name or alias, or null. */
  portOf(name: string, proto: ServiceProto): number | null;
  /** getservbyport: the first name listed for the port, or null. */
  nameOf(port: number, proto: ServiceProto): string | null;
}

/** Parses /etc/services text ("name port/proto [aliases...] [# comment]"). */
export function parseServicesText(text: string): ServiceNameTable {
  const byName = new Map<string, number>();
  const byPort = new Map<string, string>();
  for (const rawLine of text.split("\n")) {
    const line = rawLine.replace(/#.*/, "").trim();
    if (line === "") continue;
    const [name, portProto, ...aliases] = line.split(/\s+/);
    const m = /^(\d+)\/(\w+)$/.exec(portProto ?? "");
    if (!name || !m) continue;
    const port = Number(m[1]);
    const proto = m[2];
    if (port > 65535) continue;
    // First entry wins, as getserv* walk the file from the top.
    for (const n of [name, ...aliases]) {
      if (!byName.has(`${n}/${proto}`)) byName.set(`${n}/${proto}`, port);
    }
    if (!byPort.has(`${port}/${proto}`)) byPort.set(`${port}/${proto}`, name);
  }
  return {
    portOf: (name, proto) => byName.get(`${name}/${proto}`) ?? null,
    nameOf: (port, proto) => byPort.get(`${port}/${proto}`) ?? null,
  };
}

const BUILTIN_TEXT = `
ftp-data 20/tcp
ftp 21/tcp
fsp 21/udp fspd
ssh 22/tcp
telnet 23/tcp
smtp 25/tcp mail
domain 53/tcp
domain 53/udp
bootps 67/udp
bootpc 68/udp
tftp 69/udp
http 80/tcp www
pop3 110/tcp pop-3
ntp 123/udp
imap2 143/tcp imap
snmp 161/tcp
snmp 161/udp
snmp-trap 162/tcp snmptrap
snmp-trap 162/udp snmptrap
ldap 389/tcp
ldap 389/udp
https 443/tcp
https 443/udp
submissions 465/tcp ssmtp smtps urd
shell 514/tcp cmd syslog
syslog 514/udp
submission 587/tcp
ldaps 636/tcp
ldaps 636/udp
rsync 873/tcp
imaps 993/tcp
pop3s 995/tcp
mysql 3306/tcp
postgresql 5432/tcp postgres
mdns 5353/udp
http-alt 8080/tcp webcache
`;

/** The built-in table: deterministic, used by tests and when /etc/services is absent. */
export const BUILTIN_SERVICES: ServiceNameTable = parseServicesText(BUILTIN_TEXT);

let systemTable: ServiceNameTable | undefined;

/** The host's /etc/services (read once), or the built-in table when there is none. */
export function systemServices(): ServiceNameTable {
  if (systemTable === undefined) {
    try {
      systemTable = parseServicesText(readFileSync("/etc/services", "utf8"));
    } catch {
      systemTable = BUILTIN_SERVICES;
    }
  }
  return systemTable;
}
