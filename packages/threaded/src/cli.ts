#!/usr/bin/env node
/**
 * `echo-threaded`: the threaded server from the command line.
 * @module
 */
import { availableParallelism } from "node:os";
import { InvalidArgumentError, cliLogger, runServerCli } from "@echo/core";
import { MAX_THREADS } from "./options.js";
import { ThreadedServer } from "./server.js";

function parseThreads(raw: string | boolean | undefined): number {
  if (raw === undefined) return availableParallelism();
  if (typeof raw !== "string" || !/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > MAX_THREADS) {
    throw new InvalidArgumentError(`--threads must be an integer from 1 to ${MAX_THREADS}, got ${JSON.stringify(raw)}`);
  }
  return Number(raw);
}

await runServerCli({
  name: "echo-threaded",
  summary:
    "Serves a handler with N worker threads, each with its own event loop (the article's ThreadingTCPServer, " +
    "with handlers that really run in parallel). Privileges (--user) are dropped once every thread listens.",
  extra: {
    threads: { type: "string", value: "N", description: `serving threads (default ${availableParallelism()}, this machine's parallelism)` },
  },
  async start(args) {
    const server = new ThreadedServer({ ...args.options, threads: parseThreads(args.extra.threads), logger: cliLogger });
    const address = await server.listen();
    return {
      address,
      model: `threaded (${server.threads} threads, accept ${server.acceptPath})`,
      close: () => server.close(),
      finished: server.finished,
    };
  },
});
