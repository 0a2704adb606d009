// Worker threads do not inherit the main thread's loader hooks: register tsx here, then
// load the TypeScript module the worker runs (workerData.module, a file URL).
import { workerData } from "node:worker_threads";
import { register } from "tsx/esm/api";

register();
await import(workerData.module);
