// The packet loop, on a worker thread of its own so the main thread's event loop stays free
// for the control API. Packets move with plain readSync/writeSync on the TUN fd; when the
// queue is empty the worker sleeps in poll(2) on the TUN fd and a wake-up pipe, so control
// messages and timer expiry are handled promptly without a busy loop.
import fs from "node:fs";
import { receiveMessageOnPort, workerData } from "node:worker_threads";
import type { MessagePort } from "node:worker_threads";
import { DirectorEngine } from "./engine.ts";
import { TUN_READ_BUFFER_SIZE } from "../tun/tun-device.ts";
import { pollReadable } from "../tun/poll.ts";
import { applyControl, type ControlRequest, type ControlResponse } from "../control/apply.ts";
import type { Timeouts } from "../protocols/timeouts.ts";

export interface PacketWorkerData {
  tunFd: number;
  wakeFd: number;
  port: MessagePort;
  /** Int32Array over a SharedArrayBuffer: [0] = control messages pending. */
  signal: SharedArrayBuffer;
  maxConnections: number;
  timeouts: Timeouts;
  secureTcp: boolean;
}

/** Packets handled between two looks at the clock and the control port. */
const BATCH = 64;
const IDLE_POLL_MS = 100;

function run(data: PacketWorkerData): void {
  const engine = new DirectorEngine({
    maxConnections: data.maxConnections,
    timeouts: data.timeouts,
    secureTcp: data.secureTcp,
  });
  const signal = new Int32Array(data.signal);
  const port = data.port;
  const buf = Buffer.allocUnsafe(TUN_READ_BUFFER_SIZE);
  const wakeBuf = Buffer.allocUnsafe(64);
  let writeErrors = 0;

  const drainControl = (): void => {
    Atomics.store(signal, 0, 0);
    for (;;) {
      const message = receiveMessageOnPort(port);
      if (message === undefined) break;
      const request = message.message as ControlRequest;
      let response: ControlResponse;
      try {
        const result = applyControl(engine, request, writeErrors);
        response = { id: request.id, ok: true, result, vips: engine.services.virtualAddresses() };
      } catch (err) {
        const error = (err as Error).message;
        response = { id: request.id, ok: false, error, vips: engine.services.virtualAddresses() };
      }
      port.postMessage(response);
    }
  };

  const idle = (): void => {
    engine.tick(Date.now());
    drainControl();
    if (pollReadable(data.tunFd, data.wakeFd, IDLE_POLL_MS) & 2) {
      try {
        while (fs.readSync(data.wakeFd, wakeBuf, 0, wakeBuf.length, null) > 0);
      } catch {
        // EAGAIN: the pipe is empty again.
      }
    }
  };

  port.postMessage({ id: 0, ok: true, result: "ready", vips: [] } satisfies ControlResponse);
  let sinceTick = 0;
  for (;;) {
    let n: number;
    try {
      n = fs.readSync(data.tunFd, buf, 0, TUN_READ_BUFFER_SIZE, null);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EAGAIN") throw err;
      idle();
      continue;
    }
    const out = engine.process(buf, n);
    if (out > 0) {
      try {
        fs.writeSync(data.tunFd, buf, 0, out, null);
      } catch {
        writeErrors++;
      }
    }
    if (++sinceTick === BATCH) {
      sinceTick = 0;
      engine.tick(Date.now());
      if (Atomics.load(signal, 0) !== 0) drainControl();
    }
  }
}

run(workerData as PacketWorkerData);
