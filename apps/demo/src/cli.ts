#!/usr/bin/env node
/**
 * `echo-demo`: the terminal tour of the server models (no arguments), or `echo-demo web` for the
 * live web view.
 * @module
 */
import { parseArgs } from "node:util";
import { runTour } from "./tour.js";
import { startWebDemo } from "./web/server.js";

const usage = `usage: echo-demo            the terminal tour: every model started and talked to
       echo-demo web [--host HOST] [--port PORT]
                             the live web view (default 127.0.0.1, port 0: any free port)
`;

function fail(message: string): never {
  process.stderr.write(`echo-demo: ${message}\n${usage}`);
  process.exit(2);
}

const [command, ...rest] = process.argv.slice(2);
if (command === undefined || command === "tour") {
  if (rest.length > 0) fail(`the tour takes no arguments, got ${rest.join(" ")}`);
  await runTour();
} else if (command === "web") {
  let values: { host?: string; port?: string; help?: boolean };
  try {
    values = parseArgs({
      args: rest,
      options: { host: { type: "string" }, port: { type: "string" }, help: { type: "boolean" } },
      strict: true,
    }).values;
  } catch (error) {
    fail((error as Error).message);
  }
  if (values.help) {
    process.stdout.write(usage);
    process.exit(0);
  }
  const host = values.host ?? "127.0.0.1";
  if (host.length === 0) fail("--host must not be empty");
  const port = values.port === undefined ? 0 : Number(values.port);
  if (!/^\d+$/.test(values.port ?? "0") || port > 65535)
    fail(`--port must be an integer from 0 to 65535, got ${JSON.stringify(values.port)}`);
  const demo = await startWebDemo({ host, port });
  // Ctrl-C or a SIGTERM: end every page's servers, load and child processes, then exit.
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`echo-demo web: ${signal}, stopping everything the pages started\n`);
    setTimeout(() => process.exit(1), 10_000).unref();
    void demo.close().then(() => process.exit(0));
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
  // Whatever ends the process (an uncaught error, the deadline above), no child outlives it.
  process.on("exit", () => {
    for (const pid of demo.childPids()) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
  });
  process.stdout.write(
    `echo-demo web: open ${demo.url} (pid ${process.pid}; Ctrl-C stops it and everything it started)\n`,
  );
} else if (command === "--help" || command === "-h" || command === "help") {
  process.stdout.write(usage);
} else {
  fail(`unknown command ${JSON.stringify(command)}`);
}
