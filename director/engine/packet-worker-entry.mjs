// Worker threads do not inherit the main thread's loader hooks: register tsx here, then
// load the TypeScript packet loop.
import { register } from "tsx/esm/api";

register();
await import("./packet-worker.ts");
