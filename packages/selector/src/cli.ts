#!/usr/bin/env node
/**
 * `echo-selector`: the readiness-loop server from the command line.
 * @module
 */
import { cliLogger, runServerCli } from "@echo/core";
import { selectorKinds, type SelectorKind } from "./options.js";
import { SelectorServer } from "./server.js";

await runServerCli({
  name: "echo-selector",
  summary:
    "Serves a handler from one readiness loop in C (epoll, poll or select) on its own thread, like the article's selectors server. " +
    "The built-in echo handler runs inside the C loop unless --no-fast-path is given.",
  extra: {
    selector: { type: "string", value: selectorKinds.join("|"), description: "readiness mechanism (default: epoll on Linux)" },
    "no-fast-path": { type: "boolean", description: "run the built-in echo handler through JavaScript like any other" },
  },
  async start(args) {
    const selector = (args.extra.selector as string | undefined) ?? "default";
    const server = new SelectorServer({
      ...args.options,
      selector: selector as SelectorKind,
      echoFastPath: args.extra["no-fast-path"] !== true,
      logger: cliLogger,
    });
    const address = await server.listen();
    return { address, model: `selector (${server.backend})`, close: () => server.close(), finished: server.finished };
  },
});
