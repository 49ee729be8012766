#!/usr/bin/env node
/**
 * `echo-selector`: the readiness-loop server from the command line.
 * @module
 */
import { cliLogger, parseServerArgs, runServerCli, type FlagSpec } from "@echo/core";
import { selectorKinds, type SelectorKind } from "./options.js";
import { SelectorServer } from "./server.js";

const extra: Record<string, FlagSpec> = {
  selector: { type: "string", value: "KIND", description: `readiness mechanism: ${selectorKinds.join(", ")} (default: epoll on Linux)` },
  "no-fast-path": { type: "boolean", description: "run the built-in echo handler through JavaScript like any other" },
};

// A bad --selector is a usage error (exit 2), like a bad --mode; runServerCli reports the rest.
let selectorFlag: unknown;
try {
  selectorFlag = parseServerArgs(process.argv.slice(2), { extra }).extra.selector;
} catch {
  selectorFlag = undefined;
}
if (selectorFlag !== undefined && !(selectorKinds as readonly unknown[]).includes(selectorFlag)) {
  process.stderr.write(`echo-selector: --selector must be one of ${selectorKinds.join(", ")}, got ${JSON.stringify(selectorFlag)}\necho-selector: try --help\n`);
  process.exit(2);
}

await runServerCli({
  name: "echo-selector",
  summary:
    "Serves a handler from one readiness loop in C (epoll, poll or select) on its own thread, like the article's selectors server. " +
    "The built-in echo handler runs inside the C loop unless --no-fast-path is given.",
  extra,
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
