#!/usr/bin/env node
/**
 * `echo-threaded`: the threaded server from the command line.
 * @module
 */
import { availableParallelism } from "node:os";
import { cliLogger, runServerCli } from "@echo/core/model-kit";
import { MAX_THREADS } from "./options.js";
import { ThreadedServer } from "./server.js";

await runServerCli({
  name: "echo-threaded",
  summary:
    "Serves a handler with N worker threads, each with its own event loop (the article's ThreadingTCPServer, " +
    "with handlers that really run in parallel). Privileges (--user) are dropped once every thread listens.",
  extra: {
    threads: {
      kind: "integer",
      min: 1,
      max: MAX_THREADS,
      value: "N",
      description: `serving threads (default ${availableParallelism()}, this machine's parallelism)`,
    },
  },
  async start(args) {
    const server = new ThreadedServer({
      ...args.options,
      threads: (args.extra.threads as number | undefined) ?? availableParallelism(),
      logger: cliLogger,
    });
    const address = await server.listen();
    return {
      address,
      model: `threaded (${server.threads} threads, accept ${server.acceptPath})`,
      close: () => server.close(),
      finished: server.finished,
    };
  },
});
