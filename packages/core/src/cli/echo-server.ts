#!/usr/bin/env node
/**
 * `echo-server`: core's models from the command line.
 * @module
 */
import { EchoServer, coreModels } from "../server.js";
import { cliLogger, runServerCli } from "./run.js";

await runServerCli({
  name: "echo-server",
  summary:
    "Serves a handler with one of the core models: once (one connection, then exit), iterative (one at a time), async (all at once).",
  modes: coreModels,
  defaultMode: "async",
  async start(args) {
    const server = new EchoServer({
      ...args.options,
      logger: cliLogger,
      model: args.mode as "once" | "iterative" | "async",
    });
    const address = await server.listen();
    return { address, model: server.model, close: () => server.close(), finished: server.finished };
  },
});
