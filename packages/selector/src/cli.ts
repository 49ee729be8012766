#!/usr/bin/env node
/**
 * `echo-selector`: the readiness-loop server from the command line.
 * @module
 */
import { cliLogger, runServerCli, type FlagSpec } from "@echo/core/model-kit";
import { MAX_LOOPS, selectorKinds, type LoopAccept, type SelectorKind } from "./options.js";
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
  loops: {
    kind: "integer",
    min: 1,
    max: MAX_LOOPS,
    or: ["auto"],
    value: "N|auto",
    description: "readiness loops, one thread and handler instance each (default 1; auto: one per core)",
  },
  accept: {
    kind: "choice",
    choices: ["reusePort", "shared"],
    value: "reusePort|shared",
    description: "how several loops share the port (default reusePort; shared for --path)",
  },
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
      ...(args.extra.loops !== undefined ? { loops: args.extra.loops as number | "auto" } : {}),
      ...(args.extra.accept !== undefined ? { accept: args.extra.accept as LoopAccept } : {}),
      logger: cliLogger,
    });
    const address = await server.listen();
    return {
      address,
      model: `selector (${server.backend}${server.loops > 1 ? `, ${server.loops} loops` : ""})`,
      close: () => server.close(),
      finished: server.finished,
      metrics: server.metricsAddress(),
    };
  },
});
