// The config file's service table as ipvsadm commands: the director applies both through
// one all-or-nothing batch (control/table-commands.ts).
import type { DirectorConfig } from "./service-config.ts";
import type { TableCommand } from "../control/table-commands.ts";
import { parseIPv4 } from "../net/ipv4-address.ts";

export function configToCommands(config: DirectorConfig): TableCommand[] {
  const commands: TableCommand[] = [];
  for (const svc of config.services) {
    const service = { protocol: svc.protocol, addr: parseIPv4(svc.address)!, port: svc.port };
    commands.push({
      kind: "add-service",
      service,
      scheduler: svc.scheduler,
      schedFlags: svc.flags,
      persistent: svc.persistent ?? 0,
      netmask: parseIPv4(svc.netmask)!,
      onePacket: false,
    });
    for (const server of svc.servers) {
      commands.push({
        kind: "add-server",
        service,
        server: { addr: parseIPv4(server.address)!, port: server.port ?? svc.port },
        method: server.method,
        weight: server.weight,
        upper: server.upper,
        lower: server.lower,
        ...(server.method === "tunnel"
          ? {
            tunnel: {
              type: server.tunType ?? "ipip",
              port: server.tunPort ?? 0,
              checksum: server.tunChecksum ?? "nocsum",
            },
          }
          : {}),
      });
    }
  }
  return commands;
}
