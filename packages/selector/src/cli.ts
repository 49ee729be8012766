#!/usr/bin/env node
/**
 * `echo-selector`: the readiness-loop server from the command line.
 * @module
 */
import { cliLogger, runServerCli, type FlagSpec } from "@echo/core/model-kit";
import { selectorKinds, type SelectorKind } from "./options.js";
import { SelectorServer } from "./server.js";

const extra: Record<string, FlagSpec> = {
  selector: {
    kind: "choice",
    choices: selectorKinds,
    default: "default",
    value: "KIND",
    description: `readiness mechanism: ${selectorKinds.join(", ")} (default: epoll on Linux; io_uring needs Linux 6.1+)`,
  },
  "no-fast-path": { kind: "boolean", description: "run the built-in echo handler through JavaScript like any other" },
};

await runServerCli({
  name: "echo-selector",
  summary:
    "Serves a handler from one readiness loop in C (epoll, poll or select) on its own thread, like the article's selectors server. " +
    "The built-in echo handler runs inside the C loop unless --no-fast-path is given.",
  extra,
  async start(args) {
    const server = new SelectorServer({
      ...args.options,
      selector: args.extra.selector as SelectorKind,
      echoFastPath: args.extra["no-fast-path"] !== true,
      logger: cliLogger,
    });
    const address = await server.listen();
    return {
      address,
      model: `selector (${server.backend})`,
      close: () => server.close(),
      finished: server.finished,
      metrics: server.metricsAddress(),
    };
  },
});
