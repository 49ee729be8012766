/**
 * The life of a server CLI: parse, listen, print one line, drop privileges if asked, serve
 * until SIGINT/SIGTERM (or until the server finishes), close cleanly, exit.
 * @module
 */
import { EchoError } from "../errors.js";
import type { Logger } from "../options.js";
import { formatAddress, type ServerAddress } from "../server.js";
import { formatHelp, parseServerArgs, type FlagSpec, type ServerArgs } from "./args.js";
import { preparePrivilegeDrop } from "./privileges.js";

/** The CLIs' logger: info lines (such as `Connected by`) to stdout, errors to stderr. */
export const cliLogger: Logger = {
  info: (message) => process.stdout.write(`${message}\n`),
  error: (message) => process.stderr.write(`${message}\n`),
};

/** What a CLI's `start` returns: a running server. */
export interface RunningServer {
  address: ServerAddress;
  /** Shown in the listening line, e.g. `async` or `prefork (4 workers)`. */
  model: string;
  /** Closes gracefully. */
  close(): Promise<void>;
  /** Resolves if the server ends by itself (the `once` model). */
  finished?: Promise<void>;
}

/** Describes a server CLI for {@link runServerCli}. */
export interface ServerCli {
  /** The command name, e.g. `echo-server`. */
  name: string;
  /** One paragraph for `--help`. */
  summary: string;
  modes?: readonly string[];
  defaultMode?: string;
  extra?: Record<string, FlagSpec>;
  /** Starts the server from parsed arguments. */
  start(args: ServerArgs): Promise<RunningServer>;
  /**
   * Drops privileges itself (prefork workers do it per process). When absent, the CLI drops in
   * this process after `start` resolves, that is after the listener is bound.
   */
  dropsPrivileges?: boolean;
}

/**
 * Runs a server CLI to completion. Prints `NAME listening on ADDR (model M, pid P)` once
 * listening; exits 0 after a clean shutdown on SIGINT/SIGTERM, 1 on a startup error, 2 on bad
 * arguments.
 */
export async function runServerCli(cli: ServerCli, argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  let args: ServerArgs;
  try {
    args = parseServerArgs(argv, cli);
  } catch (error) {
    process.stderr.write(`${cli.name}: ${(error as Error).message}\n${cli.name}: try --help\n`);
    process.exitCode = 2;
    return;
  }
  if (args.help) {
    process.stdout.write(formatHelp(cli.name, cli.summary, cli));
    return;
  }
  let running: RunningServer;
  // Loaded before binding (see preparePrivilegeDrop), called synchronously once listening.
  let drop: (() => string) | undefined;
  try {
    if (args.privileges && !cli.dropsPrivileges) drop = await preparePrivilegeDrop(args.privileges);
    running = await cli.start(args);
  } catch (error) {
    reportError(cli.name, error);
    process.exitCode = 1;
    return;
  }
  let shuttingDown = false;
  const shutdown = (signal: string): void => {
    if (shuttingDown) return;
    shuttingDown = true;
    process.stderr.write(`${cli.name}: ${signal}, closing\n`);
    running.close().then(
      () => process.exit(0),
      (error) => {
        reportError(cli.name, error);
        process.exit(1);
      },
    );
  };
  process.once("SIGINT", () => shutdown("SIGINT"));
  process.once("SIGTERM", () => shutdown("SIGTERM"));
  try {
    const dropped = drop?.();
    process.stdout.write(
      `${cli.name} listening on ${formatAddress(running.address)} (model ${running.model}, handler ${args.options.handler}, pid ${process.pid})\n`,
    );
    if (dropped) process.stdout.write(`${cli.name}: ${dropped}\n`);
  } catch (error) {
    // Never serve with privileges we were asked to drop.
    reportError(cli.name, error);
    await running.close().catch(() => {});
    process.exit(1);
  }
  if (running.finished) {
    await running.finished;
    if (!shuttingDown) process.exit(0);
  }
}

function reportError(name: string, error: unknown): void {
  const code =
    error instanceof EchoError || (typeof error === "object" && error !== null && "code" in error)
      ? `${(error as { code: string }).code}: `
      : "";
  process.stderr.write(`${name}: error: ${code}${(error as Error)?.message ?? String(error)}\n`);
}
