/**
 * Worker-thread entry of the load generator: runs one {@link LoadEngine} on its share of the
 * connections. Protocol: the worker posts `ready`, waits for `start` (so every thread begins at
 * once), posts its result, and exits on its own once its sockets are closed. `stop` aborts.
 * @module
 */
import { parentPort, workerData } from "node:worker_threads";
import hdr from "hdr-histogram-js";
import { COUNTERS, LoadEngine, type EngineConfig, type EngineResult } from "./engine.js";

/** What the main thread passes as `workerData`. */
export interface WorkerInit {
  config: EngineConfig;
  /** Counters of every thread; this one writes slot `index`. */
  shared: SharedArrayBuffer;
  index: number;
  payload: Uint8Array;
}

/** What the worker posts back. */
export type WorkerReply =
  { type: "ready" } | { type: "result"; result: Omit<EngineResult, "histogram"> & { histogram: string } };

if (parentPort !== null) {
  const port = parentPort;
  const init = workerData as WorkerInit;
  const counters = new Float64Array(init.shared, init.index * COUNTERS * 8, COUNTERS);
  const payload = Buffer.from(init.payload.buffer, init.payload.byteOffset, init.payload.byteLength);
  const engine = new LoadEngine(init.config, counters, payload);
  port.on("message", (message: string) => {
    if (message === "start") {
      void engine.run().then((result) => {
        const reply: WorkerReply = {
          type: "result",
          result: { ...result, histogram: hdr.encodeIntoCompressedBase64(result.histogram) },
        };
        port.postMessage(reply);
        port.close();
      });
    } else if (message === "stop") engine.stop("aborted");
  });
  port.postMessage({ type: "ready" } satisfies WorkerReply);
}
