// Run by the scaling bench inside the director's namespace (the control socket is that
// namespace's): asks the director for synthetic entries and prints its answer as JSON.
// Usage: fill-client.ts <tcp|udp> <vip> <port> <count>
import { callDirector } from "../../director/control/socket.ts";

/** A million entries take a few seconds; the bench's largest fill stays well below this. */
const FILL_TIMEOUT_MS = 120_000;

const [protocol, address, port, count] = process.argv.slice(2);
callDirector(
  { op: "fill", protocol, address, port: Number(port), count: Number(count) },
  undefined,
  FILL_TIMEOUT_MS,
).then(
  (result) => console.log(JSON.stringify(result)),
  (err: Error) => {
    console.error(`fill: ${err.message}`);
    process.exit(1);
  },
);
