// `udp-echo-server`: the lab's UDP real server. Answers each datagram with one line naming
// itself and the address:port it arrived on, followed by the datagram's own bytes, so a
// client can check both who answered and that the payload (fragmented or not) came whole.
import dgram from "node:dgram";
import { Command } from "commander";
import { parseListen } from "./listen-address.ts";
import { READY_LINES } from "../director/ready-lines.ts";

const opts = new Command()
  .name("udp-echo-server")
  .description("lvslab UDP real server: echoes each datagram after a line naming itself")
  .requiredOption("--name <name>", "server name, e.g. rs1")
  .requiredOption("--listen <addr:port>", "address to listen on")
  .parse()
  .opts<{ name: string; listen: string }>();

const { host, port } = parseListen(opts.listen);
const socket = dgram.createSocket("udp4");
socket.on("message", (payload, peer) => {
  const header = Buffer.from(`${opts.name} ${host}:${port}\n`);
  socket.send(Buffer.concat([header, payload]), peer.port, peer.address);
});
socket.on("error", (err) => {
  console.error(`udp-echo-server: ${err.message}`);
  process.exit(1);
});
socket.bind(port, host, () => console.log(`${READY_LINES.udpEchoServer} on ${host}:${port}`));
