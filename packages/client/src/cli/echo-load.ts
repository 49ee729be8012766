#!/usr/bin/env node
/**
 * `echo-load`: the load generator from the command line.
 * @module
 */
import { EchoClientError, invalidArg } from "../errors.js";
import {
  formatUsage,
  integerFlag,
  numberFlag,
  parseFlags,
  proxyFlags,
  proxyHeaderFlag,
  reportFailure,
  sizeFlag,
  type Flag,
} from "../internal/cli.js";
import { runLoad, type LoadOptions, type LoadProgress } from "../load.js";
import { formatLoadReport } from "../report.js";

const NAME = "echo-load";
const flags: Record<string, Flag> = {
  host: { type: "string", value: "HOST", description: "server host or address (default 127.0.0.1)" },
  port: { type: "string", short: "p", value: "PORT", description: "server TCP port" },
  path: { type: "string", value: "PATH", description: "server Unix socket path (instead of --port)" },
  connections: {
    type: "string",
    short: "c",
    value: "N",
    description: "connections at once, at most 20000 (default 50)",
  },
  duration: {
    type: "string",
    short: "d",
    value: "SECONDS",
    description: "run time, at most 600 (default 10; 600 with --count)",
  },
  count: { type: "string", short: "n", value: "N", description: "stop after N round trips in total" },
  size: { type: "string", short: "s", value: "BYTES", description: "payload per round trip: 64, 4k, 8M (default 64)" },
  pipeline: { type: "string", value: "DEPTH", description: "round trips in flight per connection (default 1)" },
  "new-connection": {
    type: "boolean",
    short: "x",
    description: "a new connection per round trip (like ab without keep-alive)",
  },
  threads: {
    type: "string",
    short: "t",
    value: "N",
    description: "worker threads to spread connections over (default 1)",
  },
  "connect-timeout": { type: "string", value: "MS", description: "limit for each connect (default 5000)" },
  ...proxyFlags,
  json: { type: "boolean", description: "print one JSON object instead of the report" },
  help: { type: "boolean", description: "print this help" },
};
const usage = formatUsage(
  `Usage: ${NAME} [--host HOST] --port PORT [options]\n       ${NAME} --path SOCKET [options]`,
  "Drives an echo server with N connections, checks every echoed byte, and reports round trips/s,\n" +
    "MiB/s and latency percentiles. Always stops by itself (duration and count caps). Exits 1 when\n" +
    "any round trip failed or mismatched, 2 on bad arguments.",
  flags,
);

/** Option names as the CLI spells them, for error messages coming from `runLoad`. */
const flagOf: Record<string, string> = {
  connections: "--connections",
  duration: "--duration",
  count: "--count",
  size: "--size",
  pipeline: "--pipeline",
  newConnection: "--new-connection",
  threads: "--threads",
  connectTimeout: "--connect-timeout",
  host: "--host",
  port: "--port",
  path: "--path",
  proxyHeader: "--proxy-header",
};

function progressLine(p: LoadProgress): string {
  const n = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
  return `  ${p.elapsed.toFixed(1)} s  ${n.format(p.roundTrips)} round trips  ${n.format(p.roundTripsPerSecond)}/s  errors ${n.format(p.errors)}  mismatches ${n.format(p.mismatches)}`;
}

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseFlags(argv, flags);
  if (values.help === true) {
    process.stdout.write(usage);
    return;
  }
  if (positionals.length > 0) throw invalidArg(`unexpected argument ${JSON.stringify(positionals[0])} (see --help)`);
  const options: LoadOptions = {};
  const set = <K extends keyof LoadOptions>(key: K, value: LoadOptions[K] | undefined): void => {
    if (value !== undefined) options[key] = value;
  };
  set("host", values.host as string | undefined);
  set("port", integerFlag("port", values.port));
  set("path", values.path as string | undefined);
  set("connections", integerFlag("connections", values.connections));
  set("duration", numberFlag("duration", values.duration));
  set("count", integerFlag("count", values.count));
  set("size", sizeFlag("size", values.size));
  set("pipeline", integerFlag("pipeline", values.pipeline));
  set("threads", integerFlag("threads", values.threads));
  set("connectTimeout", integerFlag("connect-timeout", values["connect-timeout"]));
  if (values["new-connection"] === true) options.newConnection = true;
  set("proxyHeader", proxyHeaderFlag(values));
  if (options.port === undefined && options.path === undefined)
    throw invalidArg("--port or --path is required (see --help)");

  const json = values.json === true;
  const tty = process.stdout.isTTY === true && !json;
  const expected = options.duration ?? (options.count === undefined ? 10 : 600);
  if (tty && expected >= 2) {
    options.onProgress = (p) => process.stdout.write(`\r\x1b[2K${progressLine(p)}`);
  }
  const abort = new AbortController();
  let interrupts = 0;
  const onSignal = (): void => {
    // First Ctrl-C stops the run and still prints the report; a second one exits at once.
    if (++interrupts > 1) process.exit(130);
    abort.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  options.signal = abort.signal;
  let result;
  try {
    result = await runLoad(options);
  } catch (error) {
    if (error instanceof EchoClientError && error.code === "ECHO_ERR_INVALID_ARG") {
      throw invalidArg(error.message.replace(/options\.(\w+)/g, (all, key: string) => flagOf[key] ?? all));
    }
    throw error;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    if (options.onProgress) process.stdout.write("\r\x1b[2K");
  }
  process.stdout.write(json ? `${JSON.stringify(result)}\n` : `${formatLoadReport(result)}\n`);
  if (result.mismatches > 0 || result.errors > 0 || result.roundTrips === 0) {
    process.stderr.write(
      `${NAME}: ${result.roundTrips === 0 ? "no round trip completed" : `${result.errors} error(s), ${result.mismatches} mismatch(es)`}\n`,
    );
    process.exitCode = 1;
  }
}

main(process.argv.slice(2)).catch((error: unknown) => reportFailure(NAME, error));
