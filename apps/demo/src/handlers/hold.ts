/**
 * `hold`: answers `<worker>: <data>` after holding each chunk for `options.ms` milliseconds
 * (default 200), like a handler that waits on a slow database. The contrast run uses it to show
 * which models make clients wait in line.
 * @module
 */
import { Buffer } from "node:buffer";
import { setTimeout as sleep } from "node:timers/promises";
import { defineHandler } from "@echo/core";

/** Options of the `hold` handler (`handlerOptions`). */
export interface HoldOptions {
  /** Milliseconds to hold each chunk before answering. @default 200 */
  ms?: number;
}

export default defineHandler((context) => {
  const ms = (context.options as HoldOptions | undefined)?.ms ?? 200;
  const prefix = Buffer.from(`${context.worker}: `);
  return {
    name: "hold",
    async onData(conn, data) {
      // `data` is only valid during the call: copy it before waiting.
      const reply = Buffer.concat([prefix, data]);
      await sleep(ms);
      conn.write(reply);
    },
  };
});
